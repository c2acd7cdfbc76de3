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
    assert result.exit_code == 1
    assert "no-such-source" in result.output and "NOSUCHTENDER" in result.output


def test_plan_writes_nothing_and_lists_what_would_change(operator_env: LocalTenant) -> None:
    result = invoke("plan", "--tenant", operator_env.tenant)
    assert result.exit_code == 0, result.output
    assert '"create"' in result.output
    assert operator_env.store.stats()["requests"] == {}
    assert operator_env.state.load_bindings(BindingKind.PRODUCT) == {}


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
