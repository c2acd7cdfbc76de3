"""A Magento 2.4 admin REST sandbox for tests, the demo, fault drills and benchmarks.

See ``sandbox/magento/README.md``. Start one in-process with ``MagentoSandbox(SandboxOptions(...))`` or
from a shell with ``python -m sandbox.magento --port 0``.
"""

from .errors import MagentoError
from .model import Store
from .options import DEMO_OAUTH, FAULT_KINDS, OAuthCredentials, SandboxOptions, StoreView
from .runner import MagentoSandbox
from .sales import SalesHelper

__all__ = [
    "DEMO_OAUTH",
    "FAULT_KINDS",
    "MagentoError",
    "MagentoSandbox",
    "OAuthCredentials",
    "SalesHelper",
    "SandboxOptions",
    "Store",
    "StoreView",
]
