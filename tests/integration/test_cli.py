"""The operator's command line against the local stack."""

import json
from typing import Any

import pytest
from kudos_sync.cli import app
from kudos_sync.domain.state import BindingKind
from typer.testing import CliRunner

from sandbox.ci_office import demo_data
from tests.integration.conftest import LocalTenant

runner = CliRunner()


@pytest.fixture
def operator_env(local_tenant: LocalTenant, monkeypatch: pytest.MonkeyPatch) -> LocalTenant:
    for env, value in local_tenant.environment().items():
        monkeypatch.setenv(env, value)
    return local_tenant


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_check_passes_for_a_well_set_up_tenant(operator_env: LocalTenant) -> None:
    result = invoke("check", "--tenant", operator_env.tenant)
    assert result.exit_code == 0, result.output
    assert "magento MSI sources" in result.output and "ci office tender types" in result.output


def test_check_names_what_to_fix(operator_env: LocalTenant) -> None:
    broken = dict(operator_env.secret)
    broken["branch_sources"] = {"WEB": "web", "AKL": "no-such-source"}
    broken["payment_mapping"] = {"checkmo": "NOSUCHTENDER"}
    operator_env.aws.put_tenant_secret(operator_env.tenant, broken)
    result = invoke("check", "--tenant", operator_env.tenant)
    assert result.exit_code == 3  # configuration
    assert "no-such-source" in result.output and "NOSUCHTENDER" in result.output


def test_plan_writes_nothing_and_lists_what_would_change(operator_env: LocalTenant) -> None:
    result = invoke("plan", "--tenant", operator_env.tenant)
    assert result.exit_code == 0, result.output
    assert "create" in result.output and "--details" in result.output
    assert len(result.output.splitlines()) < 40  # a summary, not every SKU
    summary = json.loads(invoke("plan", "--tenant", operator_env.tenant, "--json").output)
    detailed = json.loads(invoke("plan", "--tenant", operator_env.tenant, "--json", "--details").output)
    assert summary["counts"]["create"] == len(detailed["create"]) > 0
    assert "adopt" in detailed
    # A tenant that never pushed: the store is read (what it already holds), never written.
    assert all(endpoint.startswith("GET ") for endpoint in operator_env.store.stats()["requests"])
    assert operator_env.state.load_bindings(BindingKind.PRODUCT) == {}


def test_adopt_reports_then_applies_under_the_push_lease(operator_env: LocalTenant) -> None:
    sku = demo_data.pick_sku(operator_env.engine, 2)
    operator_env.store.catalog.add_product(sku, "The web team's name", 10, visibility=1)

    dry = invoke("adopt", "--tenant", operator_env.tenant, "--json")
    assert dry.exit_code == 0, dry.output
    assert f'"{sku}"' in dry.output and '"foreign": 0' in dry.output
    assert operator_env.state.load_bindings(BindingKind.PRODUCT) == {}

    applied = invoke("adopt", "--tenant", operator_env.tenant, "--apply")
    assert applied.exit_code == 0, applied.output
    assert "matched" in applied.output
    assert set(operator_env.state.load_bindings(BindingKind.PRODUCT)) == {sku}
    assert all(endpoint.startswith("GET ") for endpoint in operator_env.store.stats()["requests"])


def test_status_parked_and_resync(operator_env: LocalTenant) -> None:
    operator_env.push()
    style = demo_data.pick_style(operator_env.engine, 1)
    demo_data.change_price(operator_env.engine, style, None)  # a price removed in CI Office: parked
    operator_env.push()

    status = invoke("status", "--tenant", operator_env.tenant)
    assert status.exit_code == 0, status.output
    assert "push" in status.output and "succeeded" in status.output

    parked = invoke("parked", "list", "--tenant", operator_env.tenant)
    assert parked.exit_code == 0 and style in parked.output
    everyone = invoke("parked", "list", "--all")
    assert everyone.exit_code == 0 and operator_env.tenant in everyone.output and style in everyone.output

    demo_data.change_price(operator_env.engine, style, "59.00")
    retried = invoke("parked", "retry", "--tenant", operator_env.tenant)
    assert retried.exit_code == 0, retried.output
    assert "still parked: 0" in retried.output

    resync = invoke("resync", "--tenant", operator_env.tenant, "--scope", "prices")
    assert resync.exit_code == 0, resync.output
    again = operator_env.push()
    assert again.items.get("POST /V1/products/base-prices", 0) > 0
    assert "POST /V1/products" not in again.requests  # products were not part of the resync


def test_check_fails_on_an_empty_payment_mapping_and_names_the_methods_orders_used(
    operator_env: LocalTenant,
) -> None:
    operator_env.push()  # the store sells what CI Office pushed
    sku = demo_data.pick_sku(operator_env.engine, 1)
    operator_env.store.sales.place_order([(sku, 1)], "pay.later@example.com", payment_method="purchaseorder")
    operator_env.aws.put_tenant_secret(operator_env.tenant, {**operator_env.secret, "payment_mapping": {}})
    result = invoke("check", "--tenant", operator_env.tenant, "--json")
    assert result.exit_code == 3, result.output
    finding = next(f for f in json.loads(result.output)["findings"] if f["check"] == "payment mapping")
    assert not finding["ok"] and "empty" in finding["detail"] and "purchaseorder" in finding["detail"]
    assert "payment_mapping" in finding["fix"]

    partial = {k: v for k, v in operator_env.secret["payment_mapping"].items() if k != "purchaseorder"}
    operator_env.aws.put_tenant_secret(
        operator_env.tenant, {**operator_env.secret, "payment_mapping": partial}
    )
    result = invoke("check", "--tenant", operator_env.tenant, "--json")
    finding = next(f for f in json.loads(result.output)["findings"] if f["check"] == "payment mapping")
    assert result.exit_code == 3 and "no tender for ['purchaseorder']" in finding["detail"]


def test_check_with_magento_unreachable_suggests_the_network_not_keys_or_attributes(
    operator_env: LocalTenant,
) -> None:
    unreachable = {**operator_env.secret["magento"], "base_url": "http://127.0.0.1:9", "timeout_seconds": 2}
    operator_env.aws.put_tenant_secret(operator_env.tenant, {**operator_env.secret, "magento": unreachable})
    result = invoke("check", "--tenant", operator_env.tenant, "--json")
    assert result.exit_code == 3, result.output
    magento = [f for f in json.loads(result.output)["findings"] if f["check"].startswith("magento")]
    assert len(magento) == 1 and "did not answer" in magento[0]["fix"]
    assert "OAuth" not in magento[0]["fix"] and "attribute" not in result.output


def test_status_all_lists_every_tenant_unhealthy_first(
    operator_env: LocalTenant, tenant_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    operator_env.push()
    operator_env.pull()
    # A second tenant on the same table whose secret is broken: its run is recorded as misconfigured.
    broken = tenant_factory(skus=4)
    broken.aws.put_tenant_secret(broken.tenant, {"magento": {}}, validate=False)
    broken_run = invoke("run", "--tenant", broken.tenant, "--direction", "push", "--json")
    assert broken_run.exit_code == 3 and json.loads(broken_run.output)["error"]["kind"] == "configuration"

    result = invoke("status", "--all", "--json")
    assert result.exit_code == 0, result.output
    fleet = json.loads(result.output)
    order = [s["tenant"] for s in fleet]
    assert order.index(broken.tenant) < order.index(operator_env.tenant)
    mine = next(s for s in fleet if s["tenant"] == operator_env.tenant)
    assert mine["health"] == "ok"
    assert all(
        d["last_outcome"] == "succeeded" and d["last_success_age_seconds"] >= 0 for d in mine["directions"]
    )
    # The command line's run went to the table of the environment, where status reads it back.
    assert next(s for s in fleet if s["tenant"] == broken.tenant)["health"] == "misconfigured"
    table = invoke("status", "--all")
    assert table.exit_code == 0 and operator_env.tenant in table.output


def test_status_of_a_tenant_with_no_secret_still_answers(operator_env: LocalTenant) -> None:
    result = invoke("status", "--tenant", "never-configured")
    assert result.exit_code == 0, result.output
    assert "never" in result.output and "never ago" not in result.output


def test_drop_refuses_an_unknown_key_and_a_budget_shorter_than_the_margin_is_refused(
    operator_env: LocalTenant,
) -> None:
    dropped = invoke(
        "parked", "drop", "--tenant", operator_env.tenant, "--stream", "invoices", "--key", "nope"
    )
    assert dropped.exit_code == 2 and "no parked invoices record" in dropped.output
    nonsense = invoke("parked", "drop", "--tenant", operator_env.tenant, "--stream", "nonsense", "--key", "1")
    assert nonsense.exit_code == 2
    short = invoke("run", "--tenant", operator_env.tenant, "--direction", "push", "--budget", "20")
    assert short.exit_code == 2 and "60 s" in short.output
    assert operator_env.state.list_runs() == []  # refused before anything ran


def test_parked_retry_retries_an_invoice_now_and_reports_it(operator_env: LocalTenant) -> None:
    operator_env.push()
    sku = demo_data.pick_sku(operator_env.engine, 2)
    order = operator_env.store.sales.place_order([(sku, 1)], "po@example.com", payment_method="purchaseorder")
    operator_env.store.sales.invoice(order.entity_id)
    mapping = {k: v for k, v in operator_env.secret["payment_mapping"].items() if k != "purchaseorder"}
    operator_env.aws.put_tenant_secret(
        operator_env.tenant, {**operator_env.secret, "payment_mapping": mapping}
    )
    operator_env.pull()
    [parked] = operator_env.state.list_parked("invoices")

    operator_env.aws.put_tenant_secret(operator_env.tenant, operator_env.secret)  # the fix
    result = invoke("parked", "retry", "--tenant", operator_env.tenant, "--stream", "invoices", "--json")
    assert result.exit_code == 0, result.output  # minutes inside the backoff: retried all the same
    body = json.loads(result.output)
    assert body["records"] == [{"stream": "invoices", "key": parked.key, "outcome": "synced", "reason": ""}]
    assert body["still_parked"] == 0 and operator_env.state.list_parked() == []


def test_check_with_refused_credentials_suggests_the_credentials(operator_env: LocalTenant) -> None:
    auth = {**operator_env.secret["magento"]["auth"], "consumer_key": "not-the-integrations-key"}
    magento = {**operator_env.secret["magento"], "auth": auth}
    operator_env.aws.put_tenant_secret(operator_env.tenant, {**operator_env.secret, "magento": magento})
    result = invoke("check", "--tenant", operator_env.tenant, "--json")
    assert result.exit_code == 3, result.output
    magento_findings = [f for f in json.loads(result.output)["findings"] if f["check"].startswith("magento")]
    assert len(magento_findings) == 1
    assert magento_findings[0]["fix"].startswith("Magento refused the credentials")


def test_drift_lists_what_the_web_team_changed_repairs_it_and_refuses_an_unknown_scope(
    operator_env: LocalTenant,
) -> None:
    operator_env.push()
    store = operator_env.store
    with store.store.lock:
        sku = sorted(p.sku for p in store.store.products.values() if p.type_id == "simple")[0]
    store.web_team.set_price(sku, "1.00")

    listed = invoke("drift", "--tenant", operator_env.tenant, "--scope", "prices", "--json")
    assert listed.exit_code == 0, listed.output
    report = json.loads(listed.output)
    assert report["counts"]["prices"] == 1 and report["differences"][0]["sku"] == sku
    assert report["differences"][0]["magento"] == "1.00" and report["repaired"] is None

    repaired = invoke("drift", "--tenant", operator_env.tenant, "--repair")
    assert repaired.exit_code == 0, repaired.output
    assert "prices_sent" in repaired.output
    again = json.loads(invoke("drift", "--tenant", operator_env.tenant, "--json").output)
    assert sum(again["counts"].values()) == 0

    refused = invoke("drift", "--tenant", operator_env.tenant, "--scope", "names")
    assert refused.exit_code != 0 and "names" in refused.output
