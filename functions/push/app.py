"""Lambda handler: CI Office -> Magento for the tenant named in the event."""

from kudos_sync.domain.state import Direction
from kudos_sync.handler import lambda_handler_for

lambda_handler, logger, metrics = lambda_handler_for(Direction.PUSH)
