"""The local environment a benchmark runs in: local AWS, CI Office databases, tenants, measured syncs."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from kudos_sync.ci_office import schema as s
from kudos_sync.ci_office.engine import create_ci_office_engine
from kudos_sync.config import CiOfficeSettings
from pydantic import SecretStr
from sqlalchemy import Engine, select, update

from benchmarks.stores import ROOT, BenchStore
from benchmarks.worker import RESULT_MARKER, run_direction
from sandbox.aws import LocalAws
from sandbox.ci_office.demo_data import DemoCatalogueSummary, generate

BRANCH_SOURCES = {"WEB": "default", "AKL": "akl_store"}
"""CI branch -> MSI source: the web branch and one store that ships web orders (docs/operations.md)."""


@dataclass(frozen=True)
class SyncSettings:
    """The tenant's sync settings for the benchmark: one request in flight more than the store's workers."""

    batch_size: int = 100
    page_size: int = 100
    concurrency: int = 5

    def as_dict(self) -> dict[str, int]:
        return {"batch_size": self.batch_size, "page_size": self.page_size, "concurrency": self.concurrency}


@dataclass
class CiOffice:
    url: str
    path: Path
    summary: DemoCatalogueSummary

    def engine(self) -> Engine:
        engine: Engine = create_ci_office_engine(CiOfficeSettings(url=SecretStr(self.url), encrypt=False))
        return engine


def make_ci_office(directory: Path, skus: int, seed: int = 7) -> CiOffice:
    """A SQLite CI Office filled by demo_data.generate with exactly ``skus`` SKUs."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"ci-office-{skus}-{seed}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    ci = CiOffice(url=url, path=path, summary=_generate(url, skus, seed))
    return ci


def _generate(url: str, skus: int, seed: int) -> DemoCatalogueSummary:
    engine = create_ci_office_engine(CiOfficeSettings(url=SecretStr(url), encrypt=False))
    try:
        return generate(engine, skus, seed=seed)
    finally:
        engine.dispose()


def tenant_payload(store: BenchStore, ci_office_url: str, sync: SyncSettings) -> dict[str, Any]:
    oauth = store.oauth
    return {
        "magento": {
            "base_url": store.base_url,
            "auth": {
                "kind": "oauth",
                "consumer_key": oauth.consumer_key,
                "consumer_secret": oauth.consumer_secret,
                "access_token": oauth.access_token,
                "access_token_secret": oauth.token_secret,
            },
            "timeout_seconds": 120,
        },
        "ci_office": {"url": ci_office_url, "encrypt": False},
        "branch_sources": dict(BRANCH_SOURCES),
        "sync": {**sync.as_dict(), "overlap_minutes": 10},
        "payment_mapping": {"checkmo": "CASH"},
    }


def measure_sync(
    tenant: str, direction: str, *, subprocess_worker: bool, budget: float = 3600.0
) -> dict[str, Any]:
    """One push or pull, measured in a worker process of its own (or inline for the smoke test)."""
    if not subprocess_worker:
        inline = run_direction(tenant, direction, budget)
        inline["process"] = "inline"
        return inline
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.worker",
            "--tenant",
            tenant,
            "--direction",
            direction,
            "--budget",
            str(budget),
        ],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
    )
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            result: dict[str, Any] = json.loads(line[len(RESULT_MARKER) :])
            result["process"] = "subprocess"
            return result
    tail = "\n".join(completed.stderr.strip().splitlines()[-15:])
    raise RuntimeError(f"benchmark worker for {tenant} {direction} failed ({completed.returncode}):\n{tail}")


@contextmanager
def local_aws() -> Iterator[LocalAws]:
    with LocalAws() as aws:
        yield aws


# ---------------------------------------------------------------- changes made in CI Office


@dataclass(frozen=True)
class Changes:
    """What a scenario changed in CI Office, for the naive connector to send one by one."""

    price_skus: tuple[str, ...]  # SKUs whose price changed (a style's price applies to all its SKUs)
    stock_rows: tuple[tuple[str, str], ...]  # (sku, branch) whose quantity changed


def active_sku_count(ci: CiOffice) -> int:
    """SKUs of Internet-Active styles: what a push sends (the rest stay out of Magento)."""
    engine = ci.engine()
    try:
        return sum(len(skus) for skus in active_skus_by_style(engine).values())
    finally:
        engine.dispose()


def active_skus_by_style(engine: Engine) -> dict[str, list[str]]:
    st, sk = s.styles, s.skus
    query = (
        select(sk.c.style_code, sk.c.sku)
        .join(st, st.c.code == sk.c.style_code)
        .where(st.c.internet_active == True)  # noqa: E712 (SQL expression)
        .order_by(sk.c.style_code, sk.c.sku)
    )
    by_style: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for style_code, sku in conn.execute(query):
            by_style.setdefault(str(style_code), []).append(str(sku))
    return by_style


def change_one_percent(engine: Engine, seed: int = 11) -> Changes:
    """Change 1% of the Internet-Active SKUs: about half by a style price change (every SKU of the
    style), the other half by a stock change at the web branch."""
    rng = random.Random(seed)
    by_style = active_skus_by_style(engine)
    total = sum(len(v) for v in by_style.values())
    target = max(2, total // 100)
    styles = sorted(by_style)
    rng.shuffle(styles)
    price_skus: list[str] = []
    priced_styles: list[str] = []
    for style in styles:
        if len(price_skus) >= target // 2:
            break
        priced_styles.append(style)
        price_skus.extend(by_style[style])
    st = s.styles
    with engine.begin() as conn:
        for style in priced_styles:
            conn.execute(
                update(st)
                .where(st.c.code == style, st.c.retail_price.is_not(None))
                .values(retail_price=st.c.retail_price + Decimal("1.00"))
            )
    taken = set(price_skus)
    rest = sorted(sku for skus in by_style.values() for sku in skus if sku not in taken)
    stock_skus = rng.sample(rest, min(len(rest), max(1, target - len(price_skus))))
    soh = s.stock_on_hand
    rows: list[tuple[str, str]] = []
    with engine.begin() as conn:
        for sku in stock_skus:
            current = conn.execute(
                select(soh.c.quantity).where(soh.c.sku == sku, soh.c.branch_code == "WEB")
            ).scalar_one_or_none()
            quantity = Decimal(current or 0) + Decimal(3)
            if current is None:
                conn.execute(s.stock_on_hand.insert().values(sku=sku, branch_code="WEB", quantity=quantity))
            else:
                conn.execute(
                    update(soh).where(soh.c.sku == sku, soh.c.branch_code == "WEB").values(quantity=quantity)
                )
            rows.append((sku, "WEB"))
    return Changes(price_skus=tuple(price_skus), stock_rows=tuple(rows))


def change_every_price(engine: Engine) -> Changes:
    """Raise the retail price of every Internet-Active style by one dollar."""
    by_style = active_skus_by_style(engine)
    st = s.styles
    with engine.begin() as conn:
        conn.execute(
            update(st)
            .where(st.c.internet_active == True, st.c.retail_price.is_not(None))  # noqa: E712
            .values(retail_price=st.c.retail_price + Decimal("1.00"))
        )
    return Changes(price_skus=tuple(sku for skus in by_style.values() for sku in skus), stock_rows=())
