"""`make demo`: the whole sync both ways on embedded defaults, narrated.

Starts local AWS (moto), a Magento 2.4 sandbox and a seeded SQLite CI Office under `.demo/` (or, with
`kudos-sync demo --ci-office-url URL [--create-schema]`, an integrator's empty scratch database, a SQL
Server say), then:
0. lets the store already sell a few SKUs (the web team's names) and shows the adopt report;
1. pushes the catalogue (first run builds it in Magento);
2. changes one price, one sale, one category, one image, one Internet Active flag and some stock in CI
   Office and pushes again: only those changes travel;
3. takes web orders (registered and guest, several payment methods, a discount, shipping), invoices most
   and refunds one, and pulls them into CI Office; a second pull imports nothing.
"""

import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from kudos_sync.ci_office import schema as ci
from kudos_sync.clock import SystemClock, WallClockDeadline
from kudos_sync.domain.state import Direction, RunRecord, RunStatus
from kudos_sync.service import Stack, adopt_store, run_tenant
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.engine import Engine

from sandbox.aws import LocalAws
from sandbox.ci_office import demo_data
from sandbox.magento import MagentoSandbox, SandboxOptions
from sandbox.tenant import DEMO_BRANCH_SOURCES, local_tenant_secret

TENANT = "demo"
DEMO_DIR = Path(".demo")


@dataclass
class DemoRun:
    title: str
    record: RunRecord
    expected: dict[str, Any] = field(default_factory=dict)


def _run(direction: Direction, stack: Stack) -> RunRecord:
    return run_tenant(TENANT, direction, WallClockDeadline(600.0), stack=stack)


def _counts_table(record: RunRecord, title: str) -> Table:
    table = Table(title=f"{title}  [{record.status.value}]", title_justify="left")
    table.add_column("what happened")
    table.add_column("count", justify="right")
    for name, count in sorted(record.counts.items()):
        if count:
            table.add_row(name.replace("_", " "), str(count))
    return table


def _requests_table(record: RunRecord) -> Table:
    table = Table(title="Magento requests (items in arrays)", title_justify="left")
    table.add_column("endpoint")
    table.add_column("requests", justify="right")
    table.add_column("items", justify="right")
    for endpoint, count in sorted(record.requests.items()):
        table.add_row(endpoint, str(count), str(record.items.get(endpoint, 0)))
    if not record.requests:
        table.add_row("(none)", "0", "0")
    return table


def _show(console: Console, record: RunRecord, title: str) -> None:
    seconds = (record.finished_at - record.started_at).total_seconds() if record.finished_at else 0.0
    console.print(_counts_table(record, f"{title} ({seconds:.1f} s)"))
    console.print(_requests_table(record))
    if record.error:
        console.print(f"[red]error:[/red] {record.error}")


def change_catalogue(engine: Engine, seed: int) -> list[str]:
    """What a retailer does in CI Office between two runs; returns a line per change."""
    styles = demo_data.pick_styles(engine, 6, seed)
    priced, sale, moved, imaged, retired = styles[:5]
    changes = []
    demo_data.change_price(engine, priced, Decimal("79.90"))
    changes.append(f"retail price of style {priced} -> 79.90")
    today = SystemClock().now().date()
    demo_data.put_on_sale(engine, sale, Decimal("39.00"), today, today + timedelta(days=14))
    changes.append(f"style {sale} on sale at 39.00 for two weeks")
    demo_data.move_category(engine, moved, "Sale/Last Chance")
    changes.append(f"style {moved} moved to category Sale/Last Chance")
    image_id = demo_data.pick_image(engine, seed, style_code=imaged)
    demo_data.replace_image(engine, image_id, variant=seed + 99)
    changes.append(f"image {image_id} of style {imaged} replaced")
    demo_data.set_internet_active(engine, retired, False)
    changes.append(f"style {retired} no longer Internet Active (to be disabled, not deleted)")
    for n in range(3):
        sku = demo_data.pick_sku(engine, seed + n, style_code=styles[5])
        demo_data.set_stock(engine, sku, "AKL", 40 + n)
        changes.append(f"stock of {sku} at AKL -> {40 + n}")
    return changes


def seed_web_store(store: MagentoSandbox, engine: Engine, seed: int) -> dict[str, str]:
    """A store that already sells: a few SKUs made by the web team, with their own names."""
    skus = sorted({demo_data.pick_sku(engine, seed + n) for n in range(3)})
    named = {sku: f"Web team's name for {sku}" for sku in skus}
    for sku, name in named.items():
        store.catalog.add_product(sku, name, 10, custom={"url_key": f"web-{sku.lower()}"}, visibility=1)
    return named


def take_web_sales(store: MagentoSandbox, engine: Engine, seed: int) -> list[str]:
    """Orders as shoppers place them and the store's staff invoice and refund them."""
    skus = [demo_data.pick_sku(engine, seed + n) for n in range(6)]
    sales = store.sales
    registered = sales.create_customer("aroha.ngata@example.co.nz", "Aroha", "Ngata")
    happened = []
    orders = [
        sales.place_order([(skus[0], 1), (skus[1], 2)], registered, payment_method="checkmo"),
        sales.place_order([(skus[2], 1)], "sam.guest@example.com", payment_method="banktransfer"),
        sales.place_order(
            [(skus[3], 2)],
            registered,
            payment_method="cashondelivery",
            discount_percent=10,
            shipping_amount=Decimal("8.50"),
        ),
        sales.place_order(
            [(skus[4], 1), (skus[5], 1)], "lee.walkin@example.net", payment_method="purchaseorder"
        ),
        sales.place_order([(skus[0], 1)], "not.yet.invoiced@example.com", payment_method="checkmo"),
    ]
    happened.append(f"{len(orders)} orders placed (2 registered, 3 guest; 4 payment methods; a 10% discount)")
    invoiced = [sales.invoice(order.entity_id) for order in orders[:4]]
    happened.append(f"{len(invoiced)} orders invoiced (one left uninvoiced: it must not be imported)")
    sales.refund(orders[1].entity_id, adjustment_negative=Decimal("2.00"))
    happened.append("one order refunded with a 2.00 restocking fee (a credit memo)")
    return happened


def ledger_table(engine: Engine) -> Table:
    table = Table(title="CI Office ledger", title_justify="left")
    table.add_column("rows")
    table.add_column("count", justify="right")
    with engine.connect() as conn:
        for label, tbl in (
            ("invoices", ci.invoices),
            ("invoice lines", ci.invoice_lines),
            ("payments", ci.payments),
            ("credit notes", ci.credit_notes),
            ("refunds", ci.refunds),
        ):
            table.add_row(label, str(conn.execute(select(func.count()).select_from(tbl)).scalar_one()))
        linked = conn.execute(
            select(func.count()).select_from(ci.customers).where(ci.customers.c.external_link.is_not(None))
        ).scalar_one()
        table.add_row("customers linked to Magento", str(linked))
    return table


def missing_reference_tables(engine: Engine) -> list[str]:
    """The reference schema's tables this database does not have."""
    present = set(inspect(engine).get_table_names())
    return [table.name for table in ci.metadata.sorted_tables if table.name not in present]


def run_demo(
    console: Console,
    *,
    skus: int = 120,
    seed: int = 7,
    ci_office_url: str | None = None,
    create_schema: bool = False,
) -> int:
    """The demo; on `ci_office_url` (an integrator's scratch database, SQL Server say) instead of a
    SQLite file under .demo/. There the reference schema is created only with `create_schema`, and
    its tables must be empty: the demo fills them and never deletes anything."""
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    DEMO_DIR.mkdir(parents=True)
    ci_url = ci_office_url or f"sqlite:///{DEMO_DIR / 'ci_office.db'}"
    engine = create_engine(ci_url)
    try:
        if ci_office_url is None or create_schema:
            ci.create_schema(engine)
        missing = missing_reference_tables(engine)
        if missing:
            console.print(
                f"[red]x[/red] the CI Office database at --ci-office-url lacks the reference tables "
                f"{', '.join(missing)}: pass --create-schema to create them there"
            )
            return 2
        summary = demo_data.generate(engine, skus, seed)
    except ValueError as error:  # a database that already has data: the demo only fills empty ones
        console.print(f"[red]x[/red] {error}; give the demo an empty scratch database")
        return 2
    console.rule("Kudos Cloud Interaction for Magento 2: demo")
    where = f"{engine.dialect.name} at --ci-office-url" if ci_office_url else "SQLite in .demo/"
    console.print(
        f"CI Office ({where}): {summary.styles} styles ({summary.internet_active_styles} Internet Active), "
        f"{summary.skus} SKUs, "
        f"{summary.images} images, branches {', '.join(summary.branches)} (web: {summary.web_branch})"
    )
    options = SandboxOptions(
        sources=tuple(DEMO_BRANCH_SOURCES.values()), state_file=DEMO_DIR / "magento.json"
    )
    failures: list[str] = []
    with LocalAws() as aws, MagentoSandbox(options) as store:
        console.print(f"Magento sandbox: {store.base_url}   local AWS: {aws.endpoint_url}")
        # The demo retailer lets CI Office own images too, so the changed image travels; by default
        # images are set on create and then left to the web team.
        secret = local_tenant_secret(store.base_url, ci_url, field_ownership={"images": "always"})
        aws.put_tenant_secret(TENANT, secret)
        stack = Stack(clients=aws.clients())

        console.rule("0. The store already sells a few SKUs: they are adopted, never overwritten")
        web_names = seed_web_store(store, engine, seed)
        report = adopt_store(TENANT, stack=stack)
        console.print(f"  adopt (dry run): {report.counts()}; matched {', '.join(report.matched)}")

        console.rule("1. First push: CI Office builds the catalogue in Magento")
        first = _run(Direction.PUSH, stack)
        _show(console, first, "push #1")
        with store.store.lock:
            renamed = [s for s, n in web_names.items() if store.store.product_by_sku(s).value("name") != n]
        if renamed or first.counts.get("products_adopted") != len(web_names):
            failures.append(f"adopted products were not kept as the web team made them: {renamed}")

        console.rule("2. The retailer changes CI Office; the next push sends exactly that")
        for line in change_catalogue(engine, seed):
            console.print(f"  - {line}")
        second = _run(Direction.PUSH, stack)
        _show(console, second, "push #2")

        console.rule("3. Nothing changed: the push costs almost nothing")
        third = _run(Direction.PUSH, stack)
        _show(console, third, "push #3")
        writes = {k: v for k, v in third.requests.items() if not k.startswith("GET")}
        if writes:
            failures.append(f"an unchanged catalogue still wrote to Magento: {writes}")

        console.rule("4. Web sales: orders, invoices and a refund in Magento")
        for line in take_web_sales(store, engine, seed):
            console.print(f"  - {line}")
        pulled = _run(Direction.PULL, stack)
        _show(console, pulled, "pull #1")
        console.print(ledger_table(engine))

        console.rule("5. Pull again: nothing is imported twice")
        again = _run(Direction.PULL, stack)
        _show(console, again, "pull #2")
        imported_again = again.counts.get("imported_total", 0)
        if imported_again:
            failures.append(f"the second pull imported {imported_again} documents")
        for record in (first, second, third, pulled, again):
            if record.status is not RunStatus.SUCCEEDED:
                failures.append(
                    f"{record.direction.value} run {record.run_id} ended {record.status.value}: "
                    f"{record.error}"
                )
    console.rule("Result")
    if failures:
        for failure in failures:
            console.print(f"[red]x[/red] {failure}")
        return 1
    console.print(
        "[green]ok[/green] push and pull both ways; state in the CI Office database and in .demo/ "
        "(Magento store)"
    )
    return 0
