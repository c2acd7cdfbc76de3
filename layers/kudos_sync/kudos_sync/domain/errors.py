"""The three failure classes (ARCHITECTURE section 4). Adapters raise these; the sync core decides.

Every message names the record and the field it is about and never carries a secret value.
"""


class SyncError(Exception):
    """Base of every error the sync raises on purpose."""


class TransientError(SyncError):
    """Worth retrying later: timeouts, resets, 429/5xx, deadlocks, throttling. The run ends without
    moving cursors; the next run repeats the work."""


class RecordError(SyncError):
    """One record cannot be synced as it stands: park it, go on with the others."""

    def __init__(self, message: str, *, record: str = "", field: str = "") -> None:
        super().__init__(message)
        self.record = record
        self.field = field


class ConfigurationError(SyncError):
    """The tenant's settings or credentials are wrong: fail fast, alarm, touch nothing."""


class LeaseHeldError(SyncError):
    """Another run of the same tenant and direction holds the lease."""


class LeaseLostError(TransientError):
    """The run could not renew its lease (it expired and another writer may hold it): it stops writing."""


class ConcurrentWriteError(TransientError):
    """A conditional state write found the state changed since it was read: another writer was there.
    Nothing was overwritten; the run ends and the next one starts from what is stored."""
