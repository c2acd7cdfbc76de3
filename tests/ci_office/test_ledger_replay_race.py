"""The ledger's replay path through the real `find_document`: a second run that passed the pre-check
before the first committed meets the unique Magento entity id, looks the document up and reports it
as already imported (mutation testing found `find_document` reached by no test: the older test of
this path replaces it)."""

from typing import Any

import pytest
from kudos_sync.ci_office.ledger import SqlLedger
from kudos_sync.domain.errors import ConfigurationError
from kudos_sync.domain.ledger import DocumentKind, ImportStatus
from sqlalchemy import Engine, create_engine

from sandbox.ci_office.testing import build_document, seed_minimal


@pytest.fixture
def ledger(ci_office_engine: Engine) -> SqlLedger:
    seed_minimal(ci_office_engine)
    return SqlLedger(ci_office_engine)


def test_given_nothing_imported_then_find_document_finds_nothing(ledger: SqlLedger) -> None:
    assert ledger.find_document(DocumentKind.INVOICE, 1001) is None
    assert ledger.find_document(DocumentKind.CREDIT_NOTE, 1001) is None


def test_given_an_invoice_imported_then_found_under_its_kind_and_entity_id_only(ledger: SqlLedger) -> None:
    first = ledger.import_document(build_document(entity_id=1001))

    found = ledger.find_document(DocumentKind.INVOICE, 1001)

    assert found is not None and found.status is ImportStatus.ALREADY_IMPORTED
    assert (found.ci_document_number, found.customer_code) == (first.ci_document_number, first.customer_code)
    assert ledger.find_document(DocumentKind.INVOICE, 1002) is None
    assert ledger.find_document(DocumentKind.CREDIT_NOTE, 1001) is None  # same id, other kind


def test_given_a_credit_note_imported_then_found_as_a_credit_note(ledger: SqlLedger) -> None:
    first = ledger.import_document(build_document(kind=DocumentKind.CREDIT_NOTE, entity_id=77))

    found = ledger.find_document(DocumentKind.CREDIT_NOTE, 77)

    assert found is not None and found.ci_document_number == first.ci_document_number
    assert ledger.find_document(DocumentKind.INVOICE, 77) is None


def test_given_two_runs_racing_past_the_pre_check_then_the_second_is_already_imported_not_doubled(
    ledger: SqlLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ledger.import_document(build_document(entity_id=1001))
    real = SqlLedger._existing
    calls: list[int] = []

    def pre_check_misses_once(conn: Any, kind: DocumentKind, entity_id: int) -> Any:
        calls.append(entity_id)
        return None if len(calls) == 1 else real(conn, kind, entity_id)

    monkeypatch.setattr(SqlLedger, "_existing", staticmethod(pre_check_misses_once))

    again = ledger.import_document(build_document(entity_id=1001))

    assert again.status is ImportStatus.ALREADY_IMPORTED
    assert (again.ci_document_number, again.customer_code) == (first.ci_document_number, first.customer_code)
    assert len(calls) >= 2  # the pre-check, then the real look-up after the unique constraint


def test_given_a_database_without_the_ledger_tables_when_looking_up_then_a_configuration_error() -> None:
    ledger = SqlLedger(create_engine("sqlite://"))

    with pytest.raises(ConfigurationError) as caught:
        ledger.find_document(DocumentKind.INVOICE, 1)

    assert "looking up invoice 1" in str(caught.value)
