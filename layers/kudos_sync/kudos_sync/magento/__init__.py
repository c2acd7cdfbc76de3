"""Magento 2.4 admin REST adapter: client (auth, retries, limiter, stats), error table, searchCriteria,
and the MagentoCatalog / MagentoSales implementations."""

from kudos_sync.magento.catalog import RestMagentoCatalog
from kudos_sync.magento.client import AdaptiveLimiter, MagentoClient, RequestStats, RetryPolicy
from kudos_sync.magento.errors import AmbiguousWriteError, classify, fill_message
from kudos_sync.magento.sales import RestMagentoSales

__all__ = [
    "AdaptiveLimiter",
    "AmbiguousWriteError",
    "MagentoClient",
    "RequestStats",
    "RestMagentoCatalog",
    "RestMagentoSales",
    "RetryPolicy",
    "classify",
    "fill_message",
]
