"""`kudos-sync adopt` and `kudos-sync drift`: what the store already holds, before the first push and
after it. Both read Magento only, unless told to write (`--apply`, `--repair`: under the push lease)."""

from typing import Annotated

import typer
from rich.table import Table

from kudos_sync.cli.app import JsonOption, TenantOption, _stack, app, console, reports
from kudos_sync.service import adopt_store, drift_tenant
from kudos_sync.sync.push.drift import DRIFT_KINDS
from kudos_sync.sync.push.results import AdoptReport


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
@reports
def adopt(
    tenant: TenantOption,
    apply: Annotated[
        bool, typer.Option("--apply", help="Bind the matched products (under the push lease)")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Before the first push: what the store already holds of the catalogue (matched, to create,
    conflicts by kind, products CI Office does not have). A dry run unless --apply."""
    report = adopt_store(tenant, apply=apply, stack=_stack())
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    done = "bound" if apply else "dry run: nothing written"
    console.print(adopt_table(report, f"{tenant} adopt ({done})"))


@app.command()
@reports
def drift(
    tenant: TenantOption,
    scope: Annotated[
        str, typer.Option(help="Kinds to read, comma-separated: " + ",".join(DRIFT_KINDS))
    ] = ",".join(DRIFT_KINDS),
    repair: Annotated[bool, typer.Option(help="Send the differences (under the push lease)")] = False,
    as_json: JsonOption = False,
) -> None:
    """What Magento holds differently from CI Office, for the fields CI Office always owns; with
    --repair, send exactly those (a push under the tenant's lease)."""
    kinds = [part.strip() for part in scope.split(",") if part.strip()]
    unknown = sorted(set(kinds) - set(DRIFT_KINDS))
    if unknown or not kinds:
        raise typer.BadParameter(
            f"unknown scope {unknown}; use {','.join(DRIFT_KINDS)}", param_hint="--scope"
        )
    report = drift_tenant(tenant, [k for k in DRIFT_KINDS if k in kinds], repair=repair, stack=_stack())
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    table = Table(title=f"{tenant}: drift")
    for column in ("kind", "sku", "field", "CI Office", "Magento"):
        table.add_column(column, no_wrap=column == "sku")
    for item in report.differences:
        table.add_row(item.kind, item.sku, item.field, item.ci, item.magento)
    console.print(table)
    console.print(", ".join(f"{kind}: {n} differences" for kind, n in report.counts.items()))
    if report.repaired is not None:
        sent = {k: n for k, n in report.repaired.items() if n and not k.startswith("drift_")}
        console.print(f"repair {report.repair_status}: {sent}")
