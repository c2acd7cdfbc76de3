"""`kudos-sync`, the command line (entry point `kudos_sync.cli:main`)."""

from kudos_sync.cli import parked, store  # noqa: F401 (register `parked ...`, `adopt`, `drift`)
from kudos_sync.cli.app import app
from kudos_sync.cli.commands import main

__all__ = ["app", "main"]
