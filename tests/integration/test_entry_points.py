"""The Lambda handler and `kudos-sync run` are two doors to the same run."""

import json
from typing import Any

import pytest
from kudos_sync.cli import app
from kudos_sync.domain.errors import ConfigurationError
from typer.testing import CliRunner

from tests.integration.conftest import FakeLambdaContext, LocalTenant, load_handler


def magento_catalogue(tenant: LocalTenant) -> dict[str, Any]:
    with tenant.store.store.lock:
        products = {
            p.sku: (p.type_id, p.values.get("status"), p.values.get("price"))
            for p in tenant.store.store.products.values()
        }
        stock = {k: (i.quantity, i.status) for k, i in tenant.store.store.source_items.items()}
    return {"products": products, "stock": stock}


@pytest.mark.parametrize("direction", ["push", "pull"])
def test_handler_and_cli_give_the_same_result_for_the_same_tenant(
    tenant_factory: Any, monkeypatch: pytest.MonkeyPatch, direction: str
) -> None:
    by_handler: LocalTenant = tenant_factory(seed=11)
    by_cli: LocalTenant = tenant_factory(seed=11)

    for env, value in by_handler.environment().items():
        monkeypatch.setenv(env, value)
    summary = load_handler(direction).lambda_handler({"tenant": by_handler.tenant}, FakeLambdaContext())

    for env, value in by_cli.environment().items():
        monkeypatch.setenv(env, value)
    result = CliRunner().invoke(app, ["run", "--tenant", by_cli.tenant, "--direction", direction, "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)

    assert summary["status"] == printed["status"] == "succeeded"
    assert summary["counts"] == printed["counts"]
    assert summary["requests"] == printed["requests"]
    assert summary["items"] == printed["items"]
    assert magento_catalogue(by_handler) == magento_catalogue(by_cli)


def test_handler_refuses_an_event_with_a_bad_tenant_id(
    monkeypatch: pytest.MonkeyPatch, local_tenant: LocalTenant
) -> None:
    for env, value in local_tenant.environment().items():
        monkeypatch.setenv(env, value)
    handler = load_handler("push")
    for event in ({"tenant": "../other-tenant"}, {"tenant": "Acme"}, {}):
        with pytest.raises(ConfigurationError, match="tenant"):
            handler.lambda_handler(event, FakeLambdaContext())


def test_cli_refuses_a_bad_tenant_id() -> None:
    result = CliRunner().invoke(app, ["run", "--tenant", "acme/../globex", "--direction", "push"])
    assert result.exit_code != 0
    assert "tenant id" in result.output


def test_a_misconfigured_tenant_returns_a_failed_result_and_alarms_once_without_raising(
    monkeypatch: pytest.MonkeyPatch, local_tenant: LocalTenant, capsys: pytest.CaptureFixture[str]
) -> None:
    """Raising would dead-letter every scheduled run of the tenant into the shared queue."""
    for env, value in local_tenant.environment().items():
        monkeypatch.setenv(env, value)
    local_tenant.aws.put_tenant_secret(local_tenant.tenant, {"magento": {}}, validate=False)
    handler = load_handler("pull")
    result = handler.lambda_handler({"tenant": local_tenant.tenant}, FakeLambdaContext())
    assert result["status"] == "failed" and result["misconfigured"] is True
    assert result["error"].startswith("configuration: ")
    emitted = {}
    for line in capsys.readouterr().out.splitlines():
        if '"_aws"' in line:
            blob = json.loads(line)
            emitted.update(
                {m["Name"]: blob[m["Name"]] for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
            )
    assert (emitted["Misconfigured"], emitted["RunFailed"]) == ([1.0], [0.0])
    [run] = local_tenant.state.list_runs("pull")  # status shows why
    assert run.status.value == "failed" and (run.error or "").startswith("configuration: ")
