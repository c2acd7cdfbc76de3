"""The command line's frame: the Typer apps, shared options, how a command reports a failure and
exits, and the stack and state it reads. The commands themselves are in `commands.py` and `parked.py`."""

import functools
import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer
from rich.console import Console

from kudos_sync.aws.clients import IMAGE_BUCKET_ENV, STATE_TABLE_ENV
from kudos_sync.aws.secrets import load_tenant_config
from kudos_sync.aws.state import DynamoStateStore
from kudos_sync.cli.exits import ExitCode, Failure, StackNotSetError, exit_code_table, failure_for
from kudos_sync.cli.fleet import (
    run_reason,
)
from kudos_sync.cli.summary import summary_lines
from kudos_sync.domain.errors import ConfigurationError
from kudos_sync.domain.ids import InvalidTenantIdError, validate_tenant_id
from kudos_sync.domain.state import RunRecord, RunStatus
from kudos_sync.service import Stack

# "\b" keeps click from re-wrapping the table into one paragraph.
EPILOG = "Exit codes (docs/operations.md, Exit codes):\n\n\b\n" + exit_code_table()

app = typer.Typer(
    help="Kudos Cloud Interaction for Magento 2: CI Office <-> Magento sync.",
    epilog=EPILOG,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
parked_app = typer.Typer(help="Records that could not be synced.", no_args_is_help=True, epilog=EPILOG)
app.add_typer(parked_app, name="parked")
console = Console()

DEFAULT_BUDGET = 840.0  # what the Lambda functions get (900 s timeout less a minute)


def _tenant_option(value: str) -> str:
    try:
        return validate_tenant_id(value)
    except InvalidTenantIdError as exc:
        raise typer.BadParameter(str(exc)) from None


def _optional_tenant(value: str | None) -> str | None:
    return None if value is None else _tenant_option(value)


TenantOption = Annotated[
    str, typer.Option("--tenant", "-t", help="Tenant id, e.g. acme-nz", callback=_tenant_option)
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (errors too) instead of tables")]


class Scope(StrEnum):
    PRODUCTS = "products"
    PRICES = "prices"
    STOCK = "stock"
    IMAGES = "images"


class Stream(StrEnum):
    """Where a parked record comes from: push streams, then pull streams."""

    PRODUCTS = "products"
    PRICES = "prices"
    SPECIAL_PRICES = "special_prices"
    STOCK = "stock"
    IMAGES = "images"
    INVOICES = "invoices"
    CREDITMEMOS = "creditmemos"


StreamOption = Annotated[Stream | None, typer.Option(help="Only this stream's records", case_sensitive=False)]


class _Options:
    debug = False


# ---------------------------------------------------------------- failures


def _emit_failure(failure: Failure, as_json: bool) -> None:
    if as_json:
        print(json.dumps(failure.as_json()))
    else:
        # Plain print, not Rich: one line whatever the terminal width, on stderr.
        print(failure.line(), file=sys.stderr)


def reports[**P, R](command: Callable[P, R]) -> Callable[P, R]:
    """Turn what stops a command into its one line and exit code (see cli/exits.py); with --debug
    the exception propagates with its traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except typer.BadParameter as exc:  # a usage error: typer prints it and exits 2
            if not kwargs.get("as_json", False):
                raise
            _emit_failure(Failure(ExitCode.USAGE, "usage", exc.format_message(), ""), True)
            raise typer.Exit(int(ExitCode.USAGE)) from None
        except typer.TyperException:
            raise
        except (Exception, KeyboardInterrupt) as exc:
            if _Options.debug:
                raise
            tenant = kwargs.get("tenant")
            failure = failure_for(exc, tenant if isinstance(tenant, str) else None)
            _emit_failure(failure, bool(kwargs.get("as_json", False)))
            raise typer.Exit(int(failure.code)) from None

    return wrapper


def _exit(code: ExitCode) -> None:
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))


def _version(value: bool) -> None:
    if value:
        try:
            print(f"kudos-sync {version('kudos-sync')}")
        except PackageNotFoundError:
            print("kudos-sync (version unknown: not installed as a package)")
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks instead of one-line errors, and debug logs")
    ] = False,
    _verbose: Annotated[
        bool, typer.Option("--verbose", help="Show the sync's log lines (retries, parked records) on stderr")
    ] = False,
    _show_version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit", callback=_version, is_eager=True)
    ] = False,
) -> None:
    _Options.debug = debug


# ---------------------------------------------------------------- helpers


def _stack() -> Stack:
    missing = [name for name in (STATE_TABLE_ENV, IMAGE_BUCKET_ENV) if not os.environ.get(name, "").strip()]
    if missing:
        raise StackNotSetError(f"environment variable {' and '.join(missing)} not set")
    return Stack.from_environment()


def _state(tenant: str, stack: Stack | None = None) -> DynamoStateStore:
    clients = (stack or _stack()).clients
    return DynamoStateStore(clients.dynamodb, clients.table_name, tenant)


def _check_budget(tenant: str, budget: float) -> None:
    """The budget is the time the run may take, checkpoint margin included: refuse one it cannot hold."""
    try:
        margin = load_tenant_config(tenant).sync.deadline_margin_seconds
    except ConfigurationError:
        return  # the run itself meets it, records the failed run (status shows why) and reports it
    if budget <= margin:
        raise typer.BadParameter(
            f"{budget:g} s leaves no time to work: tenant {tenant} keeps {margin} s of every run to "
            f"checkpoint (sync.deadline_margin_seconds); give more than {margin} s",
            param_hint="--budget",
        )


def _run_exit(record: RunRecord) -> ExitCode:
    if record.status is RunStatus.FAILED or record.status is RunStatus.SKIPPED:
        return ExitCode.TRANSIENT
    if record.status is RunStatus.PARTIAL:
        return ExitCode.PARTIAL
    if record.counts.get("parked_now", 0):
        return ExitCode.PARKED
    return ExitCode.OK


def _show_run(record: RunRecord) -> None:
    status = record.status.value
    colour = {"succeeded": "green", "partial": "yellow"}.get(status, "red")
    console.print(f"{record.tenant} {record.direction.value}: [{colour}]{status}[/{colour}]")
    for line in summary_lines(record):
        console.print(f"  {line}")
    reason = run_reason(record)
    if reason:
        console.print(f"  why: {reason}")


BudgetOption = Annotated[
    float,
    typer.Option(
        help="Seconds the run may take, including the tenant's checkpoint margin "
        "(sync.deadline_margin_seconds, 60 s by default); a shorter budget is refused"
    ),
]


# ---------------------------------------------------------------- commands
