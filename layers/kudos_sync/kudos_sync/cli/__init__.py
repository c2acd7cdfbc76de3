"""`kudos-sync`, the command line (entry point `kudos_sync.cli:main`)."""

from kudos_sync.cli.commands import app, main

__all__ = ["app", "main"]
