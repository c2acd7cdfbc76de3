"""What `kudos-sync` exits with, and the one line it prints when a command cannot do its job.

Scripts and runbooks switch on the exit code, so each outcome has its own; the table below is printed at
the end of `kudos-sync --help` and copied in docs/operations.md (a test keeps them the same).
"""

from dataclasses import dataclass
from enum import IntEnum

from kudos_sync.domain.errors import ConfigurationError, LeaseHeldError, SyncError, TransientError
from kudos_sync.domain.ids import InvalidTenantIdError


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1  # a bug: the message names the exception type; --debug shows the traceback
    USAGE = 2  # click/typer's own code for a bad option or argument
    CONFIGURATION = 3
    TRANSIENT = 4
    PARTIAL = 5
    PARKED = 6
    INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "done",
    ExitCode.INTERNAL: "internal error (a bug): run again with --debug for the traceback",
    ExitCode.USAGE: "usage: a bad option or value (see the command's --help)",
    ExitCode.CONFIGURATION: "configuration: a secret, credential, setting or stack variable needs fixing",
    ExitCode.TRANSIENT: "transient: a store, database or AWS was unreachable or busy; retry later",
    ExitCode.PARTIAL: "partial: the run ran out of time, checkpointed; the next run continues",
    ExitCode.PARKED: "records parked: the run finished but some records are parked (parked list)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}


def exit_code_table() -> str:
    """The exit codes as lines `  <code>  <meaning>`, for --help and docs."""
    return "\n".join(f"{int(code):>3}  {meaning}" for code, meaning in EXIT_CODE_MEANINGS.items())


class StackNotSetError(ConfigurationError):
    """The command line does not know where the stack's table and bucket are."""

    fix = (
        "export KUDOS_STATE_TABLE and KUDOS_IMAGE_BUCKET from the stack's outputs (docs/operations.md, "
        "The operator's command line) or from `make local`"
    )


@dataclass(frozen=True)
class Failure:
    """Why a command stopped: its exit code, kind, one-line message and what to do about it."""

    code: ExitCode
    kind: str
    message: str
    fix: str

    def line(self) -> str:
        fix = f"; fix: {self.fix}" if self.fix else ""
        return f"error ({self.kind}): {self.message}{fix}"

    def as_json(self) -> dict[str, object]:
        return {
            "error": {"kind": self.kind, "message": self.message, "fix": self.fix},
            "exit_code": int(self.code),
        }


def _about(tenant: str | None, message: str) -> str:
    """The message, naming the tenant when it does not already."""
    if tenant and tenant not in message:
        return f"tenant {tenant}: {message}"
    return message


def failure_for(exc: BaseException, tenant: str | None) -> Failure:
    """The failure an exception stands for; unknown exceptions are internal errors named by type only
    (their text may carry data that must not reach a terminal log)."""
    check = f"kudos-sync check --tenant {tenant}" if tenant else "kudos-sync check --tenant <id>"
    if isinstance(exc, InvalidTenantIdError):
        return Failure(ExitCode.USAGE, "usage", str(exc), "")
    if isinstance(exc, LeaseHeldError):
        return Failure(
            ExitCode.TRANSIENT,
            "transient",
            _about(tenant, str(exc)),
            "wait for the other run to finish (a lease left by a killed run expires after 16 minutes)",
        )
    if isinstance(exc, StackNotSetError):
        return Failure(ExitCode.CONFIGURATION, "configuration", str(exc), exc.fix)
    if isinstance(exc, ConfigurationError):
        return Failure(
            ExitCode.CONFIGURATION,
            "configuration",
            _about(tenant, str(exc)),
            f"correct what is named, then run `{check}` (docs/operations.md, Add a tenant)",
        )
    if isinstance(exc, TransientError):
        return Failure(
            ExitCode.TRANSIENT,
            "transient",
            _about(tenant, str(exc)),
            "check the network path (VPN, DNS, firewall) to what is named and retry; "
            f"`{check}` tests each connection",
        )
    if isinstance(exc, SyncError):
        return Failure(ExitCode.CONFIGURATION, "configuration", _about(tenant, str(exc)), f"run `{check}`")
    if isinstance(exc, KeyboardInterrupt):
        return Failure(
            ExitCode.INTERRUPTED,
            "interrupted",
            _about(tenant, "stopped by Ctrl-C"),
            "run the command again; a sync that was cut short is recorded and its lease released",
        )
    return Failure(
        ExitCode.INTERNAL,
        "internal",
        _about(tenant, f"unexpected {type(exc).__name__}"),
        "run again with --debug and report the traceback",
    )
