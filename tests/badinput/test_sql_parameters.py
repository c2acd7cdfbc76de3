"""Nothing reaches CI Office's SQL unparameterised: planted SQL metacharacter strings (in customer
names, e-mails, addresses, line descriptions, document numbers, SKUs, style descriptions and
categories) appear in statement parameters only, never in statement text. Every statement is
captured with SQLAlchemy's `before_cursor_execute`, through the real adapters on SQLite."""

import itertools
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kudos_sync.ci_office import schema as s
from kudos_sync.ci_office.catalogue import SqlCatalogueSource
from kudos_sync.ci_office.ledger import SqlLedger
from kudos_sync.domain.catalogue import Style
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.ledger import CustomerDetails, DocumentKind, ImportStatus
from sqlalchemy import Engine, select

from sandbox.ci_office import demo_data
from sandbox.ci_office.testing import build_document, seed_minimal
from tests.badinput.sql_capture import StatementLog

METACHARACTERS = (
    "'; DROP TABLE invoices; --",
    '" OR "1"="1',
    "x'); DELETE FROM customers WHERE ('a'='a",
    "]; EXEC xp_cmdshell 'dir'; --",
    "%_[^a]* LIKE wildcards",
    "/* comment */ UNION SELECT number FROM invoices",
    "N'unicode' + CHAR(39) ŝ 🧨",
)
_entity_ids = itertools.count(1_000)


def planted(base: str) -> str:
    """A metacharacter string made unique, so finding it in SQL text cannot be a coincidence."""
    return f"{base} #{uuid.uuid4().hex[:8]}"


@pytest.fixture
def ledger_engine(ci_office_engine: Engine) -> Iterator[tuple[Engine, StatementLog]]:
    """A seeded CI Office on each test backend, every statement logged."""
    seed_minimal(ci_office_engine)
    log = StatementLog()
    log.attach(ci_office_engine)
    yield ci_office_engine, log


def _assert_only_parameters(log: StatementLog, values: list[str]) -> None:
    for value in values:
        assert not log.in_text(value), f"{value!r} was written into SQL text: {log.in_text(value)[:1]}"
        assert log.in_parameters(value), f"{value!r} never reached the database as a parameter"


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.sampled_from(METACHARACTERS), min_size=6, max_size=6))
def test_given_metacharacters_in_a_document_when_imported_then_they_travel_as_parameters_only(
    ledger_engine: tuple[Engine, StatementLog], picks: list[str]
) -> None:
    engine, log = ledger_engine
    entity_id = next(_entity_ids)  # the fixture's database lives across examples: a new document each
    first, last, email, street, city, increment = (planted(p) for p in picks)
    customer = CustomerDetails(
        link_key=f"guest:{email.lower()}",
        email=email[:200],
        first_name=first[:60],
        last_name=last[:60],
        street=(street[:100],),
        city=city[:60],
    )
    document = build_document(entity_id=entity_id, customer=customer).model_copy(
        update={"magento_increment_id": increment[:50], "order_increment_id": increment[:50]}
    )
    log.statements.clear()

    outcome = SqlLedger(engine).import_document(document)

    assert outcome.status is ImportStatus.IMPORTED
    _assert_only_parameters(
        log, [first[:60], last[:60], email[:200], street[:100], city[:60], increment[:50]]
    )
    with engine.connect() as conn:
        names = conn.execute(
            select(s.customers.c.first_name, s.customers.c.last_name).where(
                s.customers.c.code == outcome.customer_code
            )
        ).one()
    assert tuple(names) == (first[:60], last[:60])


def test_given_a_metacharacter_sku_on_a_line_then_it_is_refused_by_lookup_not_by_sql(
    ledger_engine: tuple[Engine, StatementLog],
) -> None:
    engine, log = ledger_engine
    sku = planted("TEE1'; UPDATE stock_on_hand SET quantity=999; --")[:40]
    document = build_document(entity_id=77, lines=((sku, 1, "10.00"),))

    with pytest.raises(RecordError) as raised:
        SqlLedger(engine).import_document(document)

    assert raised.value.field == "lines[0].sku"
    _assert_only_parameters(log, [sku])
    assert SqlLedger(engine).known_skus([sku, "TEE1-BLK-S"]) == {"TEE1-BLK-S"}
    with engine.connect() as conn:
        assert conn.scalar(
            select(s.stock_on_hand.c.quantity).where(s.stock_on_hand.c.sku == "TEE1-BLK-S")
        ) == Decimal(5)


def test_given_metacharacters_in_styles_when_the_catalogue_is_read_then_values_come_back_verbatim(
    ci_office_engine: Engine,
) -> None:
    engine = ci_office_engine
    demo_data.generate(engine, 12, seed=3)
    log = StatementLog()
    log.attach(engine)
    style = demo_data.pick_style(engine, 1)
    description = planted(METACHARACTERS[0])
    category = planted("Womens/'; DROP TABLE styles; --")
    demo_data.set_description(engine, style, description)
    demo_data.move_category(engine, style, category)
    demo_data.put_on_sale(engine, style, "9.90", date(2026, 1, 1), None)

    source = SqlCatalogueSource(engine)
    styles: dict[str, Style] = {item.code: item for item in source.read_styles()}
    list(source.read_stock(["WEB", "AKL"]))
    list(source.read_image_meta())

    assert styles[style].description == description
    assert styles[style].category_path == category
    _assert_only_parameters(log, [description, category])


def test_given_document_kinds_when_replayed_with_metacharacters_then_the_unique_key_still_holds(
    ledger_engine: tuple[Engine, StatementLog],
) -> None:
    engine, log = ledger_engine
    increment = planted(METACHARACTERS[2])[:50]
    for kind in (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE):
        document = build_document(kind=kind, entity_id=4242).model_copy(
            update={"magento_increment_id": increment}
        )
        first = SqlLedger(engine).import_document(document)
        again = SqlLedger(engine).import_document(document)
        assert (first.status, again.status) == (ImportStatus.IMPORTED, ImportStatus.ALREADY_IMPORTED)
        assert again.ci_document_number == first.ci_document_number
    _assert_only_parameters(log, [increment])
