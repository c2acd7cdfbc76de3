"""One scenario's world: a Magento sandbox, a CI Office (SQLite file), the tenant's secret and state
table on local AWS, and the fault injectors, wired into the real composition root
(`kudos_sync.service.run_tenant`) the Lambda handlers use.

The composition root builds its own adapters; the harness reaches them in three places only:
- `service.create_ci_office_engine`: the engine it returns carries `SqlFaults`;
- `service.MagentoClient`: the real client with a short retry policy and simulated backoff sleeps
  (tenant settings carry timeouts and batch sizes, but no retry policy: a 1 s Retry-After from a 429
  would otherwise cost a real second, hundreds of times per run);
- the `Stack` passed to `run_tenant`: its DynamoDB client carries the `DynamoThrottle` hook.
It also wraps two things of the sandbox (never its code): the request statistics, to see which route
a fault hit (streams.py), and `sandbox.magento.sales.document_totals`, to report some documents'
grand totals off their rows as real stores sometimes do.

The tenant's settings come from a `Configuration` (configs.py): the shipped defaults or drawn ones.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import kudos_sync.service as service
from kudos_sync.aws.clients import AwsClients
from kudos_sync.ci_office import schema
from kudos_sync.ci_office.engine import create_ci_office_engine
from kudos_sync.config import CiOfficeSettings, MagentoSettings, SyncSettings
from kudos_sync.magento.client import MagentoClient, RetryPolicy
from sqlalchemy import Engine, delete, select, update

from sandbox.aws import LocalAws
from sandbox.ci_office import demo_data
from sandbox.ci_office.testing import engine_for_url
from sandbox.magento import MagentoSandbox, OAuthCredentials, SandboxOptions
from sandbox.magento import sales as magento_sales
from sandbox.magento.model import Creditmemo, Invoice
from sandbox.magento.options import StoreView
from tests.chaos.configs import EXTRA_STORE_ID, SANDBOX_WORKERS, Configuration, every_field_always
from tests.chaos.faults import DynamoThrottle, FaultCounter, SimClock, SqlFaults
from tests.chaos.streams import StreamTracker

BRANCH_SOURCES: dict[str, str] = {"WEB": "web", "AKL": "shops", "WLG": "shops"}
PAYMENT_MAPPING: dict[str, str] = {"checkmo": "VISA", "banktransfer": "BANK", "paypal_express": "PAYPAL"}
UNMAPPED_PAYMENT = "cashondelivery"  # planted: no CI tender, so its documents are parked
CLIENT_TIMEOUT_S = 0.4  # the tenant's Magento read timeout; the sandbox's "slow" fault outlasts it
SLOW_FAULT_S = 0.8
CHAOS_RETRY = RetryPolicy(
    max_attempts=4, base_delay=0.01, max_delay=0.05, time_budget=20.0, max_retry_after=60.0
)


def _short_sleep(seconds: float) -> None:
    """Backoff sleeps in simulated time: honour the order of events, not the wall clock."""
    time.sleep(min(seconds, 0.002))


class ChaosMagentoClient(MagentoClient):
    """The production client with a short retry policy and simulated sleeps (see module docstring)."""

    def __init__(self, settings: MagentoSettings, sync: SyncSettings, **options: Any) -> None:
        options.setdefault("retry", CHAOS_RETRY)
        options.setdefault("sleep", _short_sleep)
        options.setdefault("rng", random.Random(0))
        super().__init__(settings, sync, **options)


@dataclass
class World:
    """Everything one scenario touches. Build with `open_world`."""

    index: int
    seed: int
    tenant: str
    aws: LocalAws
    sandbox: MagentoSandbox
    ci: Engine  # the harness's own engine (no faults): mutators and checks
    ci_url: str
    table_name: str
    stack: service.Stack
    clock: SimClock
    counter: FaultCounter
    sql_faults: SqlFaults
    dynamo_faults: DynamoThrottle
    config_payload: dict[str, Any]
    oauth: OAuthCredentials
    configuration: Configuration
    streams: StreamTracker
    sandbox_fault_rate: float = 0.0
    notes: list[str] = field(default_factory=list)
    # Documents whose grand total Magento reports off its rows: ("invoice" | "creditmemo", id) -> amount.
    total_offsets: dict[tuple[str, int], Decimal] = field(default_factory=dict)
    # Called with every CI Office engine the composition root builds (e.g. to record statements).
    engine_hooks: list[Callable[[Engine], object]] = field(default_factory=list)

    def clean_state(self) -> Any:
        """A state store on a client without fault hooks, for the checks."""
        return self.aws.clients(table_name=self.table_name).state_store(self.tenant)

    def faults_on(self, sandbox_rate: float, sql_rate: float, commit_rate: float, dynamo_rate: float) -> None:
        self.sandbox_fault_rate = sandbox_rate
        self.sandbox.set_faults(sandbox_rate, slow_s=SLOW_FAULT_S)
        self.sql_faults.rate = sql_rate
        self.sql_faults.commit_rate = commit_rate
        self.dynamo_faults.rate = dynamo_rate

    def faults_off(self) -> None:
        self.faults_on(0.0, 0.0, 0.0, 0.0)

    def collect_sandbox_faults(self) -> None:
        """Move the sandbox's fault counts into the scenario counter (and zero the sandbox's)."""
        faults = self.sandbox.stats().get("faults", {})
        self.counter.merge({kind: int(count) for kind, count in faults.items()})
        self.sandbox.reset_stats()


_current: World | None = None


def _faulty_engine(settings: CiOfficeSettings, **options: Any) -> Engine:
    engine: Engine = create_ci_office_engine(settings, **options)
    if _current is not None:
        _current.sql_faults.attach(engine)
        for hook in _current.engine_hooks:
            hook(engine)
    return engine


_sandbox_document_totals = magento_sales.document_totals


def _reported_totals(doc: Invoice | Creditmemo) -> dict[str, Decimal]:
    """The sandbox's document totals, with the grand total off where the scenario planted it."""
    totals = _sandbox_document_totals(doc)
    kind = "creditmemo" if isinstance(doc, Creditmemo) else "invoice"
    offset = _current.total_offsets.get((kind, doc.entity_id)) if _current is not None else None
    if offset is None:
        return totals
    return {**totals, "grand_total": totals["grand_total"] + offset}


ENGINE_FACTORY = "create_ci_office_engine"  # names in kudos_sync.service the harness replaces
CLIENT_CLASS = "MagentoClient"
TOTALS = "document_totals"  # in sandbox.magento.sales: how a document's totals are rendered


def swap(owner: object, name: str, value: object) -> object:
    """Replace `owner.<name>` (a module global or a class attribute); returns what was there."""
    old = getattr(owner, name)
    setattr(owner, name, value)
    return old


@contextlib.contextmanager
def patched_service() -> Iterator[None]:
    """Route the composition root's engine and Magento client through the harness (restored on exit)."""
    engine = swap(service, ENGINE_FACTORY, _faulty_engine)
    client = swap(service, CLIENT_CLASS, ChaosMagentoClient)
    totals = swap(magento_sales, TOTALS, _reported_totals)
    try:
        yield
    finally:
        swap(service, ENGINE_FACTORY, engine)
        swap(service, CLIENT_CLASS, client)
        swap(magento_sales, TOTALS, totals)


def _random_secret(rng: random.Random, length: int = 24) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choice(alphabet) for _ in range(length))


def tenant_payload(
    base_url: str, oauth: OAuthCredentials, ci_url: str, configuration: Configuration
) -> dict[str, Any]:
    """The tenant's secret: the harness's store and database, and the configuration's settings."""
    return {
        "magento": {
            "base_url": base_url,
            "auth": {
                "kind": "oauth",
                "consumer_key": oauth.consumer_key,
                "consumer_secret": oauth.consumer_secret,
                "access_token": oauth.access_token,
                "access_token_secret": oauth.token_secret,
            },
            "store_ids": list(configuration.store_ids),
            "timeout_seconds": CLIENT_TIMEOUT_S,
        },
        "ci_office": {"url": ci_url, "encrypt": False},
        "branch_sources": dict(BRANCH_SOURCES),
        "sync": configuration.sync_payload(),
        "field_ownership": dict(configuration.ownership),
        "safety_stock": str(configuration.safety_stock),
        "payment_mapping": dict(PAYMENT_MAPPING),
    }


def trim_catalogue(engine: Engine, skus: int, rng: random.Random) -> None:
    """Keep 1-4 SKUs per style, and about `skus` in all: many small styles exercise more paths
    (configurables with one to four children, plain simples) than a few styles with 24 sizes each."""
    sk, soh = schema.skus, schema.stock_on_hand
    with engine.begin() as conn:
        by_style: dict[str, list[str]] = {}
        for style_code, sku in conn.execute(
            select(sk.c.style_code, sk.c.sku).order_by(sk.c.style_code, sk.c.sku)
        ):
            by_style.setdefault(style_code, []).append(sku)
        kept = 0
        doomed: list[str] = []
        emptied: list[str] = []
        for style_code in sorted(by_style):
            variants = by_style[style_code]
            keep = 0 if kept >= skus else min(len(variants), rng.randint(1, 4))
            doomed.extend(variants[keep:])
            kept += keep
            if keep == 0:
                emptied.append(style_code)
        for start in range(0, len(doomed), 500):
            chunk = doomed[start : start + 500]
            conn.execute(delete(soh).where(soh.c.sku.in_(chunk)))
            conn.execute(delete(sk).where(sk.c.sku.in_(chunk)))
        images, styles = schema.product_images, schema.styles
        for start in range(0, len(emptied), 500):
            chunk = emptied[start : start + 500]
            conn.execute(delete(images).where(images.c.style_code.in_(chunk)))
            conn.execute(delete(styles).where(styles.c.code.in_(chunk)))


def make_stock_fractional(engine: Engine, rng: random.Random, counter: FaultCounter) -> None:
    """Give about a third of the stock rows parts of a unit (fabric by the metre, bulk by weight)."""
    soh = schema.stock_on_hand
    with engine.begin() as conn:
        rows = conn.execute(select(soh.c.sku, soh.c.branch_code, soh.c.quantity)).all()
        for sku, branch, quantity in rows:
            if rng.random() < 0.35:
                part = rng.choice((Decimal("0.25"), Decimal("0.5"), Decimal("0.75"), Decimal("0.999")))
                conn.execute(
                    update(soh)
                    .where(soh.c.sku == sku, soh.c.branch_code == branch)
                    .values(quantity=Decimal(quantity) + part)
                )
                counter.add("fractional_stock", stream="stock")


@contextlib.contextmanager
def open_world(
    aws: LocalAws,
    directory: Path,
    index: int,
    seed: int,
    skus: int,
    configuration: Configuration | None = None,
) -> Iterator[World]:
    """Build a scenario's world (fresh sandbox, CI Office file, table, secret) and tear it down.
    Without a configuration: every field owned `always`, one request at a time, small batches."""
    global _current
    rng = random.Random(seed)
    oauth = OAuthCredentials(
        consumer_key=_random_secret(rng),
        consumer_secret=_random_secret(rng),
        access_token=_random_secret(rng),
        token_secret=_random_secret(rng),
    )
    ci_url = f"sqlite:///{directory / f'ci-office-{index}.db'}"
    ci = engine_for_url(ci_url)
    demo_data.generate(ci, skus * 4, seed=seed % 100_000)
    trim_catalogue(ci, skus, rng)
    configuration = configuration or every_field_always(rng)
    tracker = StreamTracker()
    counter = FaultCounter(tracker)
    if configuration.fractional_stock:
        make_stock_fractional(ci, rng, counter)
    sandbox = MagentoSandbox(
        SandboxOptions(
            oauth=oauth,
            sources=tuple(sorted(set(BRANCH_SOURCES.values()))),
            seed=seed,
            slow_s=SLOW_FAULT_S,
            workers=SANDBOX_WORKERS,
            extra_store_views=(StoreView(EXTRA_STORE_ID, "te_reo", "Te Reo Māori"),),
        )
    )
    sandbox.start()
    tracker.attach_sandbox(sandbox.app)
    tenant = f"chaos-{index}-{secrets.token_hex(3)}"
    try:
        payload = tenant_payload(sandbox.base_url, oauth, ci_url, configuration)
        aws.put_tenant_secret(tenant, payload)
        table = aws.new_table()
        dynamo_faults = DynamoThrottle(seed + 1, counter)
        clients = aws.clients(table_name=table)
        hooked = AwsClients(
            dynamodb=dynamo_faults.attach(clients.dynamodb),
            s3=clients.s3,
            secretsmanager=clients.secretsmanager,
            table_name=clients.table_name,
            bucket=clients.bucket,
        )
        # Real time at the start so Magento's documents (stamped with real time) are never "after
        # the run started"; the harness moves it on by a schedule interval between runs.
        clock = SimClock(datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1))
        world = World(
            index=index,
            seed=seed,
            tenant=tenant,
            aws=aws,
            sandbox=sandbox,
            ci=ci,
            ci_url=ci_url,
            table_name=table,
            stack=service.Stack(clients=hooked),
            clock=clock,
            counter=counter,
            sql_faults=SqlFaults(seed + 2, counter),
            dynamo_faults=dynamo_faults,
            config_payload=payload,
            oauth=oauth,
            configuration=configuration,
            streams=tracker,
        )
        _current = world
        yield world
    finally:
        _current = None
        sandbox.stop()
        ci.dispose()
