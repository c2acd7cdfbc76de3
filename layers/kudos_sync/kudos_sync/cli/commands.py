"""`kudos-sync`: the operator's and developer's command line.

Works against the local stack (`make local` prints the environment) or a real AWS account with standard
boto3 credentials; the table and bucket come from KUDOS_STATE_TABLE and KUDOS_IMAGE_BUCKET.

Every command ends with an exit code from `cli/exits.py`. When it cannot do its job it prints one line
naming the tenant, what failed and the fix (JSON with `--json`), never a traceback unless `--debug`.
"""

import json
import logging
import sys
from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from kudos_sync.aws.secrets import list_tenant_ids
from kudos_sync.aws.state import list_parked_all_tenants
from kudos_sync.cli.app import (
    DEFAULT_BUDGET,
    BudgetOption,
    JsonOption,
    Scope,
    TenantOption,
    _check_budget,
    _emit_failure,
    _exit,
    _optional_tenant,
    _run_exit,
    _show_run,
    _stack,
    _state,
    app,
    console,
    reports,
)
from kudos_sync.cli.exits import ExitCode, Failure, failure_for
from kudos_sync.cli.fleet import (
    RUNS_READ,
    TenantStatus,
    age_text,
    read_tenant_status,
    run_reason,
    sort_unhealthy_first,
)
from kudos_sync.cli.progress import progress_bars
from kudos_sync.cli.summary import count, run_summary
from kudos_sync.clock import SystemClock, WallClockDeadline
from kudos_sync.config import secret_name
from kudos_sync.domain.errors import TransientError
from kudos_sync.domain.state import Direction, RunRecord
from kudos_sync.service import resync_scope, run_tenant, tenant_adapters

# "\b" keeps click from re-wrapping the table into one paragraph.


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
        if findings and findings[0].ok:  # the store answered these credentials: which release is it?
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
