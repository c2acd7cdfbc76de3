"""Operator writes against a running push, on the local stack (moto server, the sandbox over HTTP):
`resync` waits for the push's lease, so neither loses the other's bindings."""

import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from kudos_sync.cli import main
from kudos_sync.domain.errors import LeaseHeldError
from kudos_sync.domain.state import BindingKind, Direction, RunStatus
from kudos_sync.service import drop_parked, resync_scope

from sandbox.ci_office import demo_data
from tests.integration.conftest import LocalTenant


@pytest.fixture
def slow_tenant(tenant_factory: object) -> LocalTenant:
    # 30 ms per Magento request: a push of the demo catalogue lasts a few seconds, long enough to race.
    tenant: LocalTenant = tenant_factory(sandbox={"latency_ms": 30.0})  # type: ignore[operator]
    return tenant


def test_given_push_running_when_resync_races_it_then_resync_waits_for_the_lease_and_nothing_is_lost(
    slow_tenant: LocalTenant,
) -> None:
    tenant = slow_tenant
    first = tenant.push()
    assert first.status is RunStatus.SUCCEEDED and first.counts["products_created"] > 0
    products = tenant.state.load_bindings(BindingKind.PRODUCT)
    for style in demo_data.pick_styles(tenant.engine, 5):
        demo_data.change_price(tenant.engine, style, "99.00")  # the racing push has work to do

    pushed: list[object] = []
    pusher = threading.Thread(target=lambda: pushed.append(tenant.push()))
    pusher.start()
    while tenant.state.current_lease(Direction.PUSH.value) is None and pusher.is_alive():
        time.sleep(0.005)
    refusals: list[str] = []
    forgotten: int | None = None
    while forgotten is None:  # the operator keeps trying, as one would
        try:
            forgotten = resync_scope(tenant.tenant, "products", stack=tenant.stack)
        except LeaseHeldError as exc:
            refusals.append(str(exc))
            time.sleep(0.02)
    pusher.join(120)
    assert not pusher.is_alive()

    assert refusals, "the resync met the running push"
    assert f"tenant {tenant.tenant}: a push run (holder " in refusals[0]
    assert refusals[0].endswith("; try again after it ends")
    (race,) = pushed
    assert race.status is RunStatus.SUCCEEDED  # type: ignore[attr-defined]
    assert forgotten == len(products), "the resync ran whole, after the push"
    after = tenant.state.load_bindings(BindingKind.PRODUCT)
    assert {key: b.magento_id for key, b in after.items()} == {
        key: b.magento_id for key, b in products.items()
    }
    assert all(b.magento_id for b in after.values()), "no product binding lost its Magento id"

    again = tenant.push()  # resends what the resync forgot: updates, never creates
    assert again.status is RunStatus.SUCCEEDED
    assert again.counts["products_created"] == 0
    assert again.counts["products_updated"] == len(products)


def test_given_pull_running_when_operator_drops_a_parked_invoice_then_refused_until_it_ends(
    local_tenant: LocalTenant,
) -> None:
    state = local_tenant.state
    assert state.acquire_lease("pull", "scheduled-run", _now(), _now(minutes=15))
    with pytest.raises(LeaseHeldError, match="a pull run \\(holder scheduled-run\\)"):
        drop_parked(local_tenant.tenant, "invoices", "17", stack=local_tenant.stack)
    # A push stream is the push's lease: free, so the drop goes through (nothing to drop is fine).
    drop_parked(local_tenant.tenant, "products", "STYLE-1", stack=local_tenant.stack)
    state.release_lease("pull", "scheduled-run")
    drop_parked(local_tenant.tenant, "invoices", "17", stack=local_tenant.stack)
    assert state.current_lease("pull") is None and state.current_lease("push") is None


def _now(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


def test_given_push_lease_held_when_operator_resyncs_from_the_command_line_then_one_line_and_exit_4(
    local_tenant: LocalTenant, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for env, value in local_tenant.environment().items():
        monkeypatch.setenv(env, value)
    monkeypatch.setenv("COLUMNS", "300")
    assert local_tenant.state.acquire_lease("push", "scheduled-run", _now(), _now(minutes=15))
    monkeypatch.setattr(
        sys, "argv", ["kudos-sync", "resync", "--tenant", local_tenant.tenant, "--scope", "stock"]
    )
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 4  # transient: try again once the run ends
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert line.startswith(
        f"error (transient): tenant {local_tenant.tenant}: a push run (holder scheduled-run) holds"
    )
    assert "try again after it ends" in line
    assert "Traceback" not in captured.out + captured.err
