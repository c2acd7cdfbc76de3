"""`kudos-sync parked list|retry|drop`: records that could not be synced."""

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from kudos_sync.aws.state import list_parked_all_tenants
from kudos_sync.cli.app import (
    DEFAULT_BUDGET,
    BudgetOption,
    JsonOption,
    Stream,
    StreamOption,
    TenantOption,
    _check_budget,
    _exit,
    _optional_tenant,
    _run_exit,
    _show_run,
    _stack,
    _state,
    console,
    parked_app,
    reports,
)
from kudos_sync.cli.exits import ExitCode
from kudos_sync.cli.progress import progress_bars
from kudos_sync.cli.summary import count, run_summary
from kudos_sync.clock import WallClockDeadline
from kudos_sync.domain.state import ParkedRecord, RunRecord, direction_of_stream
from kudos_sync.service import drop_parked, run_tenant

# "\b" keeps click from re-wrapping the table into one paragraph.


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
