"""The adapters implement the ports the sync core declares (checked by mypy, exercised here)."""

from kudos_sync.ci_office.catalogue import SqlCatalogueSource
from kudos_sync.ci_office.ledger import SqlLedger
from kudos_sync.sync.ports import CatalogueSource, Ledger
from sqlalchemy import Engine

from sandbox.ci_office.testing import seed_minimal


def test_sql_adapters_are_the_ports(ci_office_engine: Engine) -> None:
    seed_minimal(ci_office_engine)
    source: CatalogueSource = SqlCatalogueSource(ci_office_engine)
    ledger: Ledger = SqlLedger(ci_office_engine)

    assert [style.code for style in source.read_styles()] == ["BAG1", "TEE1"]
    assert ledger.known_skus(["BAG1", "NOPE"]) == {"BAG1"}
