"""No customer data in logs: a customer's e-mail and name, planted in a Magento invoice whose import CI
Office refuses with a message that quotes them (as SQL Server's duplicate-key message does), appear in
none of

- the Lambda handlers' log lines at DEBUG, their EMF metrics and the exceptions they raise (str, repr,
  args, causes as a traceback shows them, and the traceback);
- `kudos-sync`'s output and its library log lines at DEBUG;
- what DynamoDB keeps besides the parked document itself (reasons, run records, cursors, bindings);

and neither do the tenant's Magento credentials, planted alongside.

The parked record's payload is the one place the invoice is kept on purpose (it is retried from there,
in the tenant's own partition); everything said *about* it must not quote it.
"""

import json
import secrets
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kudos_sync.ci_office.errors import translate_db_errors
from kudos_sync.domain.errors import SyncError
from sqlalchemy import create_engine, text

from sandbox.aws import LocalAws
from tests.chaos.world import World, open_world, patched_service
from tests.security.invoke import plant_pii_faults
from tests.security.test_secrets import _env, _invoke, _oauth_secrets

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(local_aws: LocalAws, tmp_path: Path) -> Iterator[World]:
    with patched_service(), open_world(local_aws, tmp_path, 0, 9101, 12) as built:
        yield built


def _cli(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tests.security.invoke", "cli", *args],
        cwd=ROOT,
        env={**env, "COLUMNS": "400"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.stdout + done.stderr


def _state_text_besides_parked_documents(world: World) -> str:
    client = world.aws.clients(table_name=world.table_name).dynamodb
    out: list[str] = []
    start: Any = None
    while True:
        page = client.scan(TableName=world.table_name, **({"ExclusiveStartKey": start} if start else {}))
        for item in page["Items"]:
            for name, value in item.items():
                if "B" in value:
                    out.append(zlib.decompress(value["B"]).decode("utf-8", "replace"))
                elif name == "doc" and item["sk"]["S"].startswith("PARKED#"):
                    doc = json.loads(value["S"])
                    assert "payload" in doc
                    doc.pop("payload")
                    out.append(json.dumps(doc))
                else:
                    out.append(json.dumps(value))
        start = page.get("LastEvaluatedKey")
        if not start:
            return "\n".join(out)


def _sell_to(world: World, email: str, firstname: str, lastname: str) -> None:
    store, sales = world.sandbox.store, world.sandbox.sales
    with store.lock:
        sku = sorted(p.sku for p in store.products.values() if p.type_id == "simple")[0]
    order = sales.place_order([(sku, 1)], email, firstname=firstname, lastname=lastname)
    sales.invoice(order.entity_id)


def test_given_an_invoice_ci_office_refuses_quoting_the_customer_then_no_log_trace_or_item_quotes_them(
    world: World,
) -> None:
    marker = secrets.token_hex(8)
    email, firstname, lastname = f"jane.{marker}@example.net", f"Jane{marker}", f"Doe{marker}"
    _invoke(world, "push", 1, _env(world), dynamo=0.0, sql=0.0)  # the store's catalogue, to sell from
    _sell_to(world, email, firstname, lastname)
    base = {**_env(world, log_level="DEBUG"), "KUDOS_TEST_PII_MARKER": marker}
    record = {**base, "KUDOS_TEST_PII_FAULT": "record"}
    schema = {**base, "KUDOS_TEST_PII_FAULT": "schema"}

    evidence = {"pull handler, record refused": _invoke(world, "pull", 1, record, dynamo=0.0, sql=0.0)}
    _sell_to(world, email, firstname, lastname)  # a new invoice, so the next run meets the customer
    evidence["pull handler, schema refused"] = _invoke(world, "pull", 1, schema, dynamo=0.0, sql=0.0)
    evidence["cli run pull"] = _cli(["run", "--tenant", world.tenant, "--direction", "pull"], schema)
    evidence["cli status"] = _cli(["status", "--tenant", world.tenant], base)
    evidence["cli parked list"] = _cli(["parked", "list", "--tenant", world.tenant], base)
    evidence["state table"] = _state_text_besides_parked_documents(world)

    # The faults fired: the invoice was parked, then the retry stopped the run on its configuration
    # (a failed result naming the driver's error class, not a traceback into the dead-letter queue).
    assert "constraint violated" in evidence["pull handler, record refused"], evidence
    assert "IntegrityError" in evidence["pull handler, record refused"]
    assert "(OperationalError)" in evidence["pull handler, schema refused"]
    assert "configuration" in evidence["pull handler, schema refused"]
    assert '"_aws"' in evidence["pull handler, record refused"], "no EMF metrics were captured"
    assert "PARKED#" in evidence["state table"]
    parked = world.clean_state().list_parked()
    assert [r.stream for r in parked] == ["invoices"], "the invoice should be parked"
    assert "constraint violated" in parked[0].reason
    leaks = [
        f"{what} in {where}"
        for where, text in evidence.items()
        for what, value in {"marker": marker, "e-mail": email, **_oauth_secrets(world.oauth)}.items()
        if value in text
    ]
    assert not leaks, leaks


@pytest.mark.parametrize("fault", ["record", "schema"])
def test_given_driver_text_quoting_a_customer_when_translated_then_the_error_has_no_cause_to_log(
    fault: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = secrets.token_hex(8)
    monkeypatch.setenv("KUDOS_TEST_PII_MARKER", marker)
    monkeypatch.setenv("KUDOS_TEST_PII_FAULT", fault)
    engine = plant_pii_faults(create_engine(f"sqlite:///{tmp_path / 'ci.db'}"))
    with (
        pytest.raises(SyncError) as raised,
        translate_db_errors("importing invoice 7"),
        engine.connect() as conn,
    ):
        conn.execute(text("SELECT :email"), {"email": f"jane.{marker}@example.net"})
    error = raised.value
    assert error.__cause__ is None and error.__suppress_context__
    assert "importing invoice 7" in str(error)
    assert ("IntegrityError" if fault == "record" else "OperationalError") in str(error)
    assert marker not in str(error) and marker not in repr(error.args)
