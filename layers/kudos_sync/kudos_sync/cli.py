"""`kudos-sync`: the operator's and developer's command line.

Works against the local stack (AWS_ENDPOINT_URL set, as the demo does) or a real AWS account with
standard boto3 credentials; the table and bucket come from KUDOS_STATE_TABLE and KUDOS_IMAGE_BUCKET.
"""

import json
import sys
from contextlib import nullcontext
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kudos_sync.aws.state import list_parked_all_tenants
from kudos_sync.clock import SystemClock, WallClockDeadline
from kudos_sync.config import secret_name
from kudos_sync.domain.errors import LeaseHeldError, SyncError
from kudos_sync.domain.ids import InvalidTenantIdError, validate_tenant_id
from kudos_sync.domain.state import PUSH_STREAMS, Direction, RunRecord
from kudos_sync.service import Stack, adopt_store, drop_parked, resync_scope, run_tenant, tenant_adapters
from kudos_sync.sync.push.results import AdoptReport

app = typer.Typer(
    help="Kudos Cloud Interaction for Magento 2: CI Office <-> Magento sync.", no_args_is_help=True
)
parked_app = typer.Typer(help="Records that could not be synced.", no_args_is_help=True)
app.add_typer(parked_app, name="parked")
console = Console()

TenantOption = Annotated[str, typer.Option("--tenant", "-t", help="Tenant id, e.g. acme-nz")]


class Scope(StrEnum):
    PRODUCTS = "products"
    PRICES = "prices"
    STOCK = "stock"
    IMAGES = "images"


def _tenant(value: str) -> str:
    try:
        return validate_tenant_id(value)
    except InvalidTenantIdError as exc:
        raise typer.BadParameter(str(exc)) from None


def run_table(record: RunRecord, title: str) -> Table:
    table = Table(title=title, show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, count in sorted(record.counts.items()):
        table.add_row(name, str(count))
    return table


def requests_table(record: RunRecord) -> Table:
    table = Table(title="Magento requests", show_header=True)
    table.add_column("endpoint")
    table.add_column("requests", justify="right")
    table.add_column("items", justify="right")
    for endpoint, count in sorted(record.requests.items()):
        table.add_row(endpoint, str(count), str(record.items.get(endpoint, 0)))
    return table


def run_summary(record: RunRecord) -> dict[str, Any]:
    duration = (record.finished_at - record.started_at).total_seconds() if record.finished_at else None
    return {
        "tenant": record.tenant,
        "direction": record.direction.value,
        "run_id": record.run_id,
        "status": record.status.value,
        "duration_seconds": duration,
        "counts": record.counts,
        "requests": record.requests,
        "items": record.items,
        "error": record.error,
    }


def _fail(exc: Exception) -> None:
    console.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(2)


@app.command()
def run(
    tenant: TenantOption,
    direction: Annotated[
        Direction, typer.Option(help="push: CI Office -> Magento; pull: Magento -> CI Office")
    ],
    budget: Annotated[
        float, typer.Option(help="Seconds before the run checkpoints and ends as partial")
    ] = 840.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary")] = False,
) -> None:
    """Run one direction for one tenant now, exactly as the scheduled Lambda does."""
    try:
        with (
            console.status(f"{direction.value} for {tenant}...", spinner="dots")
            if not as_json
            else nullcontext()
        ):
            record = run_tenant(_tenant(tenant), direction, WallClockDeadline(budget))
    except SyncError as exc:
        _fail(exc)
        return
    if as_json:
        print(json.dumps(run_summary(record), indent=2))
    else:
        console.print(run_table(record, f"{tenant} {direction.value}: {record.status.value}"))
        console.print(requests_table(record))
    if record.status.value == "failed":
        raise typer.Exit(1)


@app.command()
def check(tenant: TenantOption) -> None:
    """Onboarding preflight: the secret, Magento and CI Office, each problem with what to fix."""
    from kudos_sync.preflight import check_ci_office, check_magento, check_magento_version

    try:
        with tenant_adapters(_tenant(tenant)) as adapters:
            findings = [*check_magento(adapters.config, adapters.magento)]
            findings += check_magento_version(adapters.config, adapters.magento)
            findings += check_ci_office(adapters.config, adapters.ci_office_engine())
    except SyncError as exc:
        console.print(f"[red]x[/red] secret {secret_name(tenant)}: {exc}")
        raise typer.Exit(1) from None
    table = Table(title=f"{tenant}: preflight")
    for column in ("", "check", "detail", "what to fix"):
        table.add_column(column)
    table.add_row("[green]ok[/green]", "secret", f"{secret_name(tenant)} parses", "")
    for finding in findings:
        mark = "[green]ok[/green]" if finding.ok else "[red]x[/red]"
        table.add_row(mark, finding.check, finding.detail, finding.fix)
    console.print(table)
    if not all(f.ok for f in findings):
        raise typer.Exit(1)


@app.command()
def status(tenant: TenantOption, limit: int = 10) -> None:
    """Last runs per direction, lag since the last success, and parked counts."""
    with tenant_adapters(_tenant(tenant)) as adapters:
        now = SystemClock().now()
        table = Table(title=f"{tenant}: last runs")
        for column in ("direction", "started", "status", "seconds", "summary", "error"):
            table.add_column(column)
        for direction in Direction:
            runs = adapters.state.list_runs(direction.value, limit)
            last_ok = next((r for r in runs if r.status.value in ("succeeded", "partial")), None)
            lag = f"{(now - last_ok.started_at).total_seconds() / 60:.0f} min" if last_ok else "never"
            console.print(f"{direction.value}: last successful run {lag} ago")
            for r in runs:
                seconds = f"{(r.finished_at - r.started_at).total_seconds():.1f}" if r.finished_at else "-"
                summary = ", ".join(f"{k}={v}" for k, v in sorted(r.counts.items()) if v)
                table.add_row(
                    direction.value,
                    f"{r.started_at:%Y-%m-%d %H:%M:%S}",
                    r.status.value,
                    seconds,
                    summary,
                    r.error or "",
                )
        console.print(table)
        parked = adapters.state.list_parked()
        console.print(f"parked records: {len(parked)}")


@app.command()
def plan(tenant: TenantOption) -> None:
    """Dry run of the push: what would be created, changed, disabled, priced, stocked, uploaded."""
    with tenant_adapters(_tenant(tenant)) as adapters:
        result = adapters.push(SystemClock(), WallClockDeadline(840.0)).plan()
        console.print_json(result.model_dump_json())


@app.command()
def resync(
    tenant: TenantOption, scope: Annotated[Scope, typer.Option(help="What to resend on the next push")]
) -> None:
    """Forget the fingerprints of one scope so the next push resends it (web-owned fields stay web-owned)."""
    forgotten = resync_scope(_tenant(tenant), scope.value)  # under the push lease
    console.print(f"{tenant}: forgot {forgotten} {scope.value} fingerprints; the next push resends them")


@parked_app.command("list")
def parked_list(
    tenant: Annotated[str | None, typer.Option("--tenant", "-t", help="Tenant id; omit with --all")] = None,
    stream: Annotated[str | None, typer.Option()] = None,
    all_tenants: Annotated[bool, typer.Option("--all", help="Every tenant's parked records")] = False,
) -> None:
    """Parked records with their reasons, for one tenant or (--all) for every tenant."""
    if all_tenants == (tenant is not None):
        raise typer.BadParameter("give either --tenant or --all")
    table = Table(title=f"{tenant or 'all tenants'}: parked records")
    for column in ("tenant", "stream", "key"):  # identifiers are never wrapped or cut
        table.add_column(column, no_wrap=True)
    for column in ("field", "reason", "attempts", "first seen", "last seen"):
        table.add_column(column)
    if tenant is not None:
        with tenant_adapters(_tenant(tenant)) as adapters:
            rows = [(tenant, record) for record in adapters.state.list_parked(stream)]
    else:
        clients = Stack.from_environment().clients
        rows = [
            (found.tenant, found.record)
            for found in list_parked_all_tenants(clients.dynamodb, clients.table_name)
            if stream is None or found.record.stream == stream
        ]
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


@parked_app.command("retry")
def parked_retry(tenant: TenantOption, stream: Annotated[str | None, typer.Option()] = None) -> None:
    """Retry parked records now: runs the direction that owns them (records that sync are unparked)."""
    tenant = _tenant(tenant)
    with tenant_adapters(tenant) as adapters:
        streams = {r.stream for r in adapters.state.list_parked(stream)}
    directions = {Direction.PUSH if s in PUSH_STREAMS else Direction.PULL for s in streams}
    for direction in sorted(directions):
        record = run_tenant(tenant, direction, WallClockDeadline(840.0), refuse_when_busy=True)
        console.print(run_table(record, f"{tenant} {direction.value}: {record.status.value}"))
    with tenant_adapters(tenant) as adapters:
        console.print(f"still parked: {len(adapters.state.list_parked(stream))}")


@parked_app.command("drop")
def parked_drop(
    tenant: TenantOption,
    stream: Annotated[str, typer.Option()],
    key: Annotated[str, typer.Option()],
) -> None:
    """Stop retrying one parked record (after fixing it by hand, say)."""
    drop_parked(_tenant(tenant), stream, key)  # under the lease of the stream's direction
    console.print(f"{tenant}: dropped parked {stream} {key}")


@app.command()
def demo(
    skus: Annotated[int, typer.Option(help="Size of the demo catalogue")] = 120,
    seed: Annotated[int, typer.Option()] = 7,
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
        run_demo(console, skus=skus, seed=seed, ci_office_url=ci_office_url, create_schema=create_schema)
    )


# ---------------------------------------------------------------- adopt: a store that already sells


def adopt_table(report: AdoptReport, title: str, examples: int = 5) -> Table:
    table = Table(title=title, show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_column("examples")
    table.add_row(
        "matched (bound, web copy kept)", str(len(report.matched)), ", ".join(report.matched[:examples])
    )
    table.add_row("to create", str(len(report.to_create)), ", ".join(report.to_create[:examples]))
    for kind, items in sorted(report.conflicts.items()):
        table.add_row(f"conflict: {kind}", str(len(items)), "\n".join(items[:examples]))
    table.add_row("foreign (in Magento only, left alone)", str(report.foreign or 0), "")
    return table


@app.command()
def adopt(
    tenant: TenantOption,
    apply: Annotated[
        bool, typer.Option("--apply", help="Bind the matched products (under the push lease)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a machine-readable report")] = False,
) -> None:
    """Before the first push: what the store already holds of the catalogue (matched, to create,
    conflicts by kind). A dry run unless --apply."""
    try:
        report = adopt_store(_tenant(tenant), apply=apply)
    except SyncError as exc:
        _fail(exc)
        return
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    done = "bound" if apply else "dry run: nothing written"
    console.print(adopt_table(report, f"{tenant} adopt ({done})"))


def main() -> None:
    try:
        app()
    except LeaseHeldError as exc:  # an operator write refused while a run holds the tenant's lease
        console.print(f"[red]error:[/red] {exc}")
        sys.exit(2)
