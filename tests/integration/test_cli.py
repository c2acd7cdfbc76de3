"""The operator's command line against the local stack."""

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
    assert '"create"' in result.output and '"adopt"' in result.output
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
