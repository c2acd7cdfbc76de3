"""`kudos-sync`: the operator's and developer's command line.

Works against the local stack (`make local` prints the environment) or a real AWS account with standard
boto3 credentials; the table and bucket come from KUDOS_STATE_TABLE and KUDOS_IMAGE_BUCKET.

Every command ends with an exit code from `cli/exits.py`. When it cannot do its job it prints one line
naming the tenant, what failed and the fix (JSON with `--json`), never a traceback unless `--debug`.
"""

import functools
import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kudos_sync.aws.clients import IMAGE_BUCKET_ENV, STATE_TABLE_ENV
from kudos_sync.aws.secrets import list_tenant_ids, load_tenant_config
from kudos_sync.aws.state import DynamoStateStore, list_parked_all_tenants
from kudos_sync.cli.exits import ExitCode, Failure, StackNotSetError, exit_code_table, failure_for
from kudos_sync.cli.fleet import (
    RUNS_READ,
    TenantStatus,
    age_text,
    read_tenant_status,
    run_reason,
    sort_unhealthy_first,
)
from kudos_sync.cli.progress import progress_bars
from kudos_sync.cli.summary import count, run_summary, summary_lines
from kudos_sync.clock import SystemClock, WallClockDeadline
from kudos_sync.config import secret_name
from kudos_sync.domain.errors import ConfigurationError, TransientError
from kudos_sync.domain.ids import InvalidTenantIdError, validate_tenant_id
from kudos_sync.domain.state import Direction, ParkedRecord, RunRecord, RunStatus, direction_of_stream
from kudos_sync.service import Stack, drop_parked, resync_scope, run_tenant, tenant_adapters

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


@app.command()
@reports
def run(
    tenant: TenantOption,
    direction: Annotated[
        Direction, typer.Option(help="push: CI Office -> Magento; pull: Magento -> CI Office")
    ],
    budget: BudgetOption = DEFAULT_BUDGET,
    as_json: JsonOption = False,
) -> None:
    """Run one direction for one tenant now, exactly as the scheduled Lambda does."""
    stack = _stack()
    _check_budget(tenant, budget)
    with progress_bars(f"{direction.value} for {tenant}", enabled=not as_json) as progress:
        record = run_tenant(tenant, direction, WallClockDeadline(budget), stack=stack, progress=progress)
    code = _run_exit(record)
    failure = _run_failure(record, code)
    if as_json:
        body = {**run_summary(record), "exit_code": int(code)}
        print(json.dumps({**body, **failure.as_json()} if failure else body, indent=2))
    elif failure:
        _emit_failure(failure, False)
    else:
        _show_run(record)
    _exit(code)


def _run_failure(record: RunRecord, code: ExitCode) -> Failure | None:
    """A run that failed or was skipped reads like any other failure: one line with its fix."""
    if code is not ExitCode.TRANSIENT:
        return None
    what = f"tenant {record.tenant}: {record.direction.value} run {record.run_id} {record.status.value}"
    return failure_for(TransientError(f"{what}: {run_reason(record)}"), record.tenant)


@app.command()
@reports
def check(tenant: TenantOption, as_json: JsonOption = False) -> None:
    """Onboarding preflight: the secret, Magento (store, attributes, sources, payment methods) and
    CI Office (tables, branches, tenders), each problem with what to fix. Writes nothing."""
    from kudos_sync.preflight import (
        check_ci_office,
        check_magento,
        check_magento_version,
        check_payment_mapping,
    )

    with tenant_adapters(tenant, _stack()) as adapters:
        findings = [*check_magento(adapters.config, adapters.magento)]
        findings += check_magento_version(adapters.config, adapters.magento)
        findings += check_ci_office(adapters.config, adapters.ci_office_engine())
        findings += check_payment_mapping(adapters.config, adapters.magento)
    ok = all(f.ok for f in findings)
    code = ExitCode.OK if ok else ExitCode.CONFIGURATION
    if as_json:
        rows = [{"check": "secret", "ok": True, "detail": f"{secret_name(tenant)} parses", "fix": ""}]
        rows += [{"check": f.check, "ok": f.ok, "detail": f.detail, "fix": f.fix} for f in findings]
        print(json.dumps({"tenant": tenant, "ok": ok, "findings": rows, "exit_code": int(code)}, indent=2))
        _exit(code)
        return
    table = Table(title=f"{tenant}: preflight")
    for column in ("", "check", "detail", "what to fix"):
        table.add_column(column)
    table.add_row("[green]ok[/green]", "secret", f"{secret_name(tenant)} parses", "")
    for finding in findings:
        mark = "[green]ok[/green]" if finding.ok else "[red]x[/red]"
        table.add_row(mark, finding.check, finding.detail, finding.fix)
    console.print(table)
    _exit(code)


@app.command()
@reports
def status(
    tenant: Annotated[
        str | None,
        typer.Option("--tenant", "-t", help="Tenant id; omit with --all", callback=_optional_tenant),
    ] = None,
    all_tenants: Annotated[
        bool, typer.Option("--all", help="Every tenant with a secret or parked records, unhealthy first")
    ] = False,
    limit: Annotated[int, typer.Option(help="Runs listed per direction (one tenant)", min=0)] = 10,
    stale_after: Annotated[
        int,
        typer.Option(
            help="Minutes without a success before a direction is stale (the stack's StaleAfterMinutes)",
            min=1,
        ),
    ] = 60,
    as_json: JsonOption = False,
) -> None:
    """Per direction: the last success and its age, the last outcome and why, parked records and the
    lease holder. Reads the state table only (no tenant secret is needed). Partial runs are not
    successes."""
    if all_tenants == (tenant is not None):
        raise typer.BadParameter("give either --tenant or --all", param_hint="--tenant / --all")
    stack = _stack()
    now = SystemClock().now()
    window = timedelta(minutes=stale_after)
    if tenant is None:
        clients = stack.clients
        tenants = set(list_tenant_ids(clients.secretsmanager))
        tenants |= {found.tenant for found in list_parked_all_tenants(clients.dynamodb, clients.table_name)}
        statuses = []
        with progress_bars("reading the fleet", enabled=not as_json) as progress:
            progress.start("tenants", len(tenants))
            for name in sorted(tenants):
                state = _state(name, stack)
                statuses.append(read_tenant_status(name, state, state.lease_holder, now, window))
                progress.advance("tenants", 1)
            progress.finish("tenants")
        statuses = sort_unhealthy_first(statuses)
        if as_json:
            print(json.dumps([s.model_dump(mode="json") for s in statuses], indent=2))
        else:
            console.print(_fleet_table(statuses, f"{count(len(statuses), 'tenant')}, unhealthy first"))
        return
    state = _state(tenant, stack)
    current = read_tenant_status(tenant, state, state.lease_holder, now, window)
    runs = state.list_runs(None, min(limit * 2, RUNS_READ)) if limit else []
    if as_json:
        body = current.model_dump(mode="json")
        body["runs"] = [r.model_dump(mode="json") for r in runs]
        print(json.dumps(body, indent=2))
        return
    console.print(_fleet_table([current], f"{tenant}: {current.health}"))
    table = Table(title=f"{tenant}: last runs")
    for column in ("direction", "started", "outcome", "seconds", "summary", "why"):
        table.add_column(column)
    shown = {d: 0 for d in Direction}
    for r in runs:
        if shown[r.direction] >= limit:
            continue
        shown[r.direction] += 1
        seconds = f"{(r.finished_at - r.started_at).total_seconds():.1f}" if r.finished_at else "-"
        summary = ", ".join(f"{k}={v}" for k, v in sorted(r.counts.items()) if v and k != "lag_seconds")
        table.add_row(
            r.direction.value,
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            r.status.value,
            seconds,
            summary,
            run_reason(r),
        )
    console.print(table)


def _fleet_table(statuses: list[TenantStatus], title: str) -> Table:
    table = Table(title=title)
    for column in ("tenant", "direction", "health", "last success", "last outcome", "why", "parked", "lease"):
        table.add_column(column, no_wrap=column in ("tenant", "direction"))
    for status_ in statuses:
        for d in status_.directions:
            colour = "green" if d.health == "ok" else "yellow" if d.health == "parked" else "red"
            table.add_row(
                status_.tenant,
                d.direction.value,
                f"[{colour}]{d.health}[/{colour}]",
                age_text(d.last_success_age_seconds),
                d.last_outcome or "never run",
                d.reason,
                str(d.parked),
                f"{d.lease_holder} until {d.lease_until:%H:%M:%S}"
                if d.lease_holder and d.lease_until
                else "",
            )
    return table


@app.command()
@reports
def plan(
    tenant: TenantOption,
    details: Annotated[bool, typer.Option("--details", help="List every SKU, price, stock row...")] = False,
    as_json: JsonOption = False,
) -> None:
    """Dry run of the push: how many products would be created, changed or disabled, and how many
    prices, stock rows and images sent (--details lists them). Writes nothing."""
    with (
        tenant_adapters(tenant, _stack()) as adapters,
        progress_bars(f"plan for {tenant}", enabled=not as_json),
    ):
        result = adapters.push(SystemClock(), WallClockDeadline(DEFAULT_BUDGET)).plan()
    counts = result.counts()
    if as_json:
        print(
            result.model_dump_json(indent=2) if details else json.dumps({"tenant": tenant, "counts": counts})
        )
        return
    table = Table(title=f"{tenant}: what a push would do now")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, size in counts.items():
        table.add_row(name.replace("_", " "), str(size))
    console.print(table)
    if details:
        for name, values in result.model_dump().items():
            if isinstance(values, list) and values:
                console.print(f"[bold]{name.replace('_', ' ')}[/bold] ({len(values)})")
                for value in values:
                    console.print(f"  {value}", markup=False)
    else:
        console.print("`kudos-sync plan --details` lists each item; `--json --details` as JSON.")


@app.command()
@reports
def resync(
    tenant: TenantOption,
    scope: Annotated[Scope, typer.Option(help="What to resend on the next push", case_sensitive=False)],
    as_json: JsonOption = False,
) -> None:
    """Forget the fingerprints of one scope so the next push resends it (web-owned fields stay web-owned)."""
    forgotten = resync_scope(tenant, scope.value, stack=_stack())  # under the push lease
    if as_json:
        print(json.dumps({"tenant": tenant, "scope": scope.value, "forgotten": forgotten}))
        return
    console.print(f"{tenant}: forgot {forgotten} {scope.value} fingerprints; the next push resends them")


@parked_app.command("list")
@reports
def parked_list(
    tenant: Annotated[
        str | None,
        typer.Option("--tenant", "-t", help="Tenant id; omit with --all", callback=_optional_tenant),
    ] = None,
    stream: StreamOption = None,
    all_tenants: Annotated[bool, typer.Option("--all", help="Every tenant's parked records")] = False,
    as_json: JsonOption = False,
) -> None:
    """Parked records with their reasons, for one tenant or (--all) for every tenant."""
    if all_tenants == (tenant is not None):
        raise typer.BadParameter("give either --tenant or --all", param_hint="--tenant / --all")
    wanted = stream.value if stream else None
    if tenant is not None:
        rows = [(tenant, record) for record in _state(tenant).list_parked(wanted)]
    else:
        clients = _stack().clients
        rows = [
            (found.tenant, found.record)
            for found in list_parked_all_tenants(clients.dynamodb, clients.table_name)
            if wanted is None or found.record.stream == wanted
        ]
    if as_json:
        print(json.dumps([_parked_json(owner, record) for owner, record in rows], indent=2))
        return
    table = Table(title=f"{tenant or 'all tenants'}: {count(len(rows), 'parked record')}")
    for column in ("tenant", "stream", "key"):  # identifiers are never wrapped or cut
        table.add_column(column, no_wrap=True)
    for column in ("field", "reason", "attempts", "first seen", "last seen"):
        table.add_column(column)
    for owner, record in rows:
        table.add_row(
            owner,
            record.stream,
            record.key,
            record.field,
            record.reason,
            str(record.attempts),
            f"{record.first_seen:%Y-%m-%d %H:%M}",
            f"{record.last_seen:%Y-%m-%d %H:%M}",
        )
    console.print(table)


def _parked_json(tenant: str, record: ParkedRecord) -> dict[str, Any]:
    # The payload (a raw document or row) stays out: it can hold customer data.
    return {"tenant": tenant, **record.model_dump(mode="json", exclude={"payload"})}


@parked_app.command("retry")
@reports
def parked_retry(
    tenant: TenantOption,
    stream: StreamOption = None,
    budget: BudgetOption = DEFAULT_BUDGET,
    as_json: JsonOption = False,
) -> None:
    """Retry parked records now, without waiting for their backoff: runs the direction that owns them
    and reports, per record, whether it synced or is still parked and why."""
    wanted = stream.value if stream else None
    stack = _stack()
    before = {(r.stream, r.key): r for r in _state(tenant, stack).list_parked(wanted)}
    if not before:
        if as_json:
            print(
                json.dumps({"tenant": tenant, "runs": [], "records": [], "still_parked": 0, "exit_code": 0})
            )
        else:
            console.print(f"{tenant}: nothing parked{f' in {wanted}' if wanted else ''}")
        return
    _check_budget(tenant, budget)
    directions = sorted({direction_of_stream(stream_) for stream_, _ in before})
    records: list[RunRecord] = []
    for direction in directions:
        with progress_bars(f"{direction.value} for {tenant}", enabled=not as_json) as progress:
            records.append(
                run_tenant(
                    tenant,
                    direction,
                    WallClockDeadline(budget),
                    stack=stack,
                    progress=progress,
                    retry_parked_now=True,
                    refuse_when_busy=True,
                )
            )
    after = {(r.stream, r.key): r for r in _state(tenant, stack).list_parked(wanted)}
    outcomes = []
    for (stream_, key), old in sorted(before.items()):
        new = after.get((stream_, key))
        if new is None:
            outcome, reason = "synced", ""
        elif new.attempts > old.attempts:
            outcome, reason = "still parked", new.reason
        else:
            outcome, reason = "not retried", "the run ended before it reached this record"
        outcomes.append({"stream": stream_, "key": key, "outcome": outcome, "reason": reason})
    still = sum(1 for o in outcomes if o["outcome"] != "synced")
    codes = [_run_exit(r) for r in records if _run_exit(r) not in (ExitCode.OK, ExitCode.PARKED)]
    code = codes[0] if codes else ExitCode.PARKED if still else ExitCode.OK
    if as_json:
        body = {
            "tenant": tenant,
            "runs": [run_summary(r) for r in records],
            "records": outcomes,
            "still_parked": still,
            "exit_code": int(code),
        }
        print(json.dumps(body, indent=2))
        _exit(code)
        return
    for record in records:
        _show_run(record)
    table = Table(title=f"{tenant}: parked records retried")
    for column in ("stream", "key"):
        table.add_column(column, no_wrap=True)
    table.add_column("outcome")
    table.add_column("why")
    for o in outcomes:
        colour = "green" if o["outcome"] == "synced" else "red"
        table.add_row(o["stream"], o["key"], f"[{colour}]{o['outcome']}[/{colour}]", o["reason"])
    console.print(table)
    console.print(f"still parked: {still}")
    _exit(code)


@parked_app.command("drop")
@reports
def parked_drop(
    tenant: TenantOption,
    stream: Annotated[Stream, typer.Option(help="The record's stream", case_sensitive=False)],
    key: Annotated[str, typer.Option(help="The record's key, as `parked list` shows it")],
    as_json: JsonOption = False,
) -> None:
    """Stop retrying one parked record (after fixing it by hand, say). Refuses a key that is not parked."""
    state = _state(tenant)
    if not any(r.key == key for r in state.list_parked(stream.value)):
        raise typer.BadParameter(
            f"tenant {tenant} has no parked {stream.value} record with key {key!r} "
            f"(see `kudos-sync parked list --tenant {tenant} --stream {stream.value}`)",
            param_hint="--key",
        )
    drop_parked(tenant, stream.value, key, stack=_stack())  # under the lease of the stream's direction
    if as_json:
        print(json.dumps({"tenant": tenant, "stream": stream.value, "key": key, "dropped": True}))
        return
    console.print(f"{tenant}: dropped parked {stream.value} {key}", markup=False)


@app.command()
@reports
def demo(
    skus: Annotated[
        int, typer.Option(help="SKUs in the demo catalogue (sizes and colours of styles)", min=1)
    ] = 120,
    seed: Annotated[int, typer.Option()] = 7,
    keep_running: Annotated[
        bool, typer.Option(help="Keep the demo's stack up afterwards and print its environment, until Ctrl-C")
    ] = False,
    ci_office_url: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL of an empty scratch CI Office database (a SQL Server, say) to run the "
            "demo against instead of SQLite under .demo/",
            show_default=False,
        ),
    ] = None,
    create_schema: Annotated[
        bool, typer.Option(help="Create the reference schema in the --ci-office-url database")
    ] = False,
) -> None:
    """Run the whole sync both ways on embedded defaults: Magento sandbox, CI Office, local AWS."""
    from sandbox.demo import run_demo  # dev-only: the sandbox is not shipped in the layer

    sys.exit(
        run_demo(
            console,
            skus=skus,
            seed=seed,
            keep_running=keep_running,
            ci_office_url=ci_office_url,
            create_schema=create_schema,
        )
    )


def _configure_logging(argv: list[str]) -> None:
    """Quiet by default: the sync's warnings (a retried request, say) would bury the one line that
    matters. --verbose shows our INFO lines, --debug our DEBUG lines; other libraries stay at WARNING
    (botocore at DEBUG would print request bodies, secrets included)."""
    root = logging.getLogger()
    if "--debug" not in argv and "--verbose" not in argv:
        root.addHandler(logging.NullHandler())  # keeps Python's last-resort handler from printing
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("kudos_sync").setLevel(logging.DEBUG if "--debug" in argv else logging.INFO)


def main() -> None:
    _configure_logging(sys.argv[1:])
    app()
