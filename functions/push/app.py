"""Lambda handler: CI Office -> Magento for the tenant named in the event."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from kudos_sync.domain.state import Direction
from kudos_sync.handler import handle

logger = Logger(service="kudos-sync")
metrics = Metrics(namespace="KudosSync", service="kudos-sync")
copy_config_to_registered_loggers(source_logger=logger, include={"kudos_sync"})


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, Direction.PUSH, logger, metrics)
