"""`make demo`: the whole sync both ways on embedded defaults, narrated.

Starts local AWS (moto), a Magento 2.4 sandbox and a seeded SQLite CI Office under `.demo/` (or, with
`kudos-sync demo --ci-office-url URL [--create-schema]`, an integrator's empty scratch database, a SQL
Server say), then:
0. lets the store already sell a few SKUs (the web team's names) and shows the adopt report;
1. pushes the catalogue (first run builds it in Magento);
2. changes one price, one sale, one category, one image, one Internet Active flag and some stock in CI
   Office and pushes again: only those changes travel; then the web team edits a price and the
   warehouse ships stock in Magento, and `drift` finds and repairs both;
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
from kudos_sync.cli.progress import progress_bars
from kudos_sync.cli.summary import summary_lines
from kudos_sync.clock import SystemClock, WallClockDeadline
from kudos_sync.domain.state import Direction, RunRecord, RunStatus
from kudos_sync.service import Stack, adopt_store, drift_tenant, run_tenant
from kudos_sync.sync.push.drift import DRIFT_KINDS
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.engine import Engine

from sandbox.aws import LocalAws
from sandbox.ci_office import demo_data
from sandbox.local import aws_environment, serve_until_interrupted
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
    with progress_bars(f"{direction.value} for {TENANT}", enabled=True) as progress:
        return run_tenant(TENANT, direction, WallClockDeadline(600.0), stack=stack, progress=progress)


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
    console.print(f"[bold]{title}[/bold] ({seconds:.1f} s) [{record.status.value}]")
    for line in summary_lines(record):  # the same words as `kudos-sync run`, with units
        console.print(f"  {line}")
    console.print(_requests_table(record))
    if record.error:
        console.print(f"[red]error:[/red] {record.error}")


def change_catalogue(engine: Engine, seed: int) -> list[str]:
    """What a retailer does in CI Office between two runs; returns a line per change."""
    styles = demo_data.pick_styles(engine, 6, seed)
    if not styles:
        return ["(no Internet Active style to change: try a larger --skus)"]
    # A small catalogue has fewer than six styles: the changes then share styles, and none is retired
    # (retiring the only style would leave nothing to show).
    priced, sale, moved, imaged, stocked = (styles[n % len(styles)] for n in (0, 1, 2, 3, 5))
    retired = styles[4] if len(styles) >= 6 else None
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
    if retired is not None:
        demo_data.set_internet_active(engine, retired, False)
        changes.append(f"style {retired} no longer Internet Active (to be disabled, not deleted)")
    for n in range(3):
        sku = demo_data.pick_sku(engine, seed + n, style_code=stocked)
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


def web_products(engine: Engine) -> tuple[int, int, int]:
    """What the first push turns into Magento products: SKUs of Internet Active styles (a simple product
    each), those styles that come in colours, sizes or several SKUs (a configurable parent each; a style
    of one plain SKU is just that simple product), and their images."""
    active = select(ci.styles.c.code).where(ci.styles.c.internet_active.is_(True))
    sku = ci.skus.c
    with engine.connect() as conn:
        per_style = conn.execute(
            select(func.count(), func.count(sku.colour_code), func.count(sku.size_code))
            .where(sku.style_code.in_(active))
            .group_by(sku.style_code)
        ).all()
        images = conn.execute(
            select(func.count())
            .select_from(ci.product_images)
            .where(ci.product_images.c.style_code.in_(active))
        ).scalar_one()
    simple = sum(int(n) for n, _, _ in per_style)
    parents = sum(1 for n, colours, sizes in per_style if n > 1 or colours or sizes)
    return simple, parents, int(images)


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


def drift_found_and_repaired(console: Console, store: MagentoSandbox, stack: Stack) -> list[str]:
    """The web team edits a price and the warehouse ships stock behind the sync; `drift` lists both
    and `drift --repair` sends exactly them. Returns what went wrong (nothing, when all is well)."""
    with store.store.lock:
        item = next(
            i
            for i in sorted(store.store.source_items.values(), key=lambda i: (i.sku, i.source_code))
            if i.quantity > 1 and i.source_code != "default"
        )
    store.web_team.set_price(item.sku, "1.00")
    left = store.warehouse.ship(item.sku, item.source_code, 1)
    console.print(f"  - the web team set {item.sku}'s price to 1.00 in the admin")
    console.print(f"  - the warehouse shipped one {item.sku} from {item.source_code} ({left} left)")
    found = drift_tenant(TENANT, list(DRIFT_KINDS), stack=stack)
    table = Table(title="kudos-sync drift", title_justify="left")
    for column in ("kind", "sku", "field", "CI Office", "Magento"):
        table.add_column(column)
    for d in found.differences:
        table.add_row(d.kind, d.sku, d.field, d.ci, d.magento)
    console.print(table)
    repaired = drift_tenant(TENANT, list(DRIFT_KINDS), repair=True, stack=stack)
    sent = {k: n for k, n in (repaired.repaired or {}).items() if n and not k.startswith("drift_")}
    console.print(f"kudos-sync drift --repair: {sent}")
    left_over = sum(drift_tenant(TENANT, list(DRIFT_KINDS), stack=stack).counts.values())
    problems = [] if {d.kind for d in found.differences} >= {"prices", "stock"} else ["drift missed a change"]
    return problems + ([f"{left_over} differences left after the repair"] if left_over else [])


def run_demo(
    console: Console,
    *,
    skus: int = 120,
    seed: int = 7,
    keep_running: bool = False,
    ci_office_url: str | None = None,
    create_schema: bool = False,
) -> int:
    """The demo; on `ci_office_url` (an integrator's scratch database, SQL Server say) instead of a
    SQLite file under .demo/. There the reference schema is created only with `create_schema`, and
    its tables must be empty: the demo fills them and never deletes anything."""
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    DEMO_DIR.mkdir(parents=True)
    # An absolute path, so the database is read from other directories too.
    ci_url = ci_office_url or f"sqlite:///{(DEMO_DIR / 'ci_office.db').resolve()}"
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
        simple, parents, images = web_products(engine)
        console.print(
            f"  reading it: {simple + parents} Magento products = {simple} simple products (one per SKU of "
            f"an Internet Active style) + {parents} configurable parents (one per such style in colours or "
            f"sizes); {images} of the {summary.images} images belong to Internet Active styles"
        )
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

        console.rule("3b. The store changes too: drift finds what moved in Magento and repairs it")
        failures += drift_found_and_repaired(console, store, stack)

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
        if keep_running:  # the same stack stays up for the operator's commands, until Ctrl-C
            code = _report(console, failures)
            serve_until_interrupted(
                aws_environment(aws),
                TENANT,
                DEMO_DIR / "env",
                ["The demo's stack stays up (Ctrl-C stops it)."],
            )
            return code
    return _report(console, failures)


def _report(console: Console, failures: list[str]) -> int:
    console.rule("Result")
    if failures:
        for failure in failures:
            console.print(f"[red]x[/red] {failure}")
        return 1
    console.print(
        "[green]ok[/green] push and pull both ways; state in the CI Office database and in .demo/ "
        "(Magento store)"
    )
    console.rule("Next steps")
    for line in NEXT_STEPS:
        console.print(f"  {line}", markup=False)
    return 0


NEXT_STEPS = (
    "make local                      a local stack (AWS, Magento, CI Office) that stays up; it prints the",
    "                                environment to export, then every kudos-sync command works on it",
    "                                (or `kudos-sync demo --keep-running`: this demo's stack stays up):",
    "kudos-sync check --tenant demo  the onboarding preflight",
    "kudos-sync status --all         every tenant, unhealthy first",
    "kudos-sync plan --tenant demo   what a push would do (--details lists it)",
    "docs/operations.md              adding a tenant, alarms and their runbooks, exit codes",
)
