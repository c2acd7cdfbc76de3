"""The fault harness in `make test`: the fixed catalogue of scenarios (shipped defaults and drawn
tenant settings; every fault kind meets every stream it can meet), and proof that the checks bite.

The full run is `make chaos SCENARIOS=N SEED=S` (tests/chaos/run.py): the catalogue, then random ones.
"""

import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from kudos_sync.ci_office import schema as s
from sqlalchemy import delete, select

from sandbox.aws import LocalAws
from sandbox.magento.model import source_item_key
from tests.chaos.checks import Findings
from tests.chaos.configs import shipped_defaults
from tests.chaos.run import ALL_KINDS, CATALOGUE, run_chaos
from tests.chaos.scenario import Scenario, run_scenario
from tests.chaos.world import BRANCH_SOURCES, patched_service

SEED = 11  # the tampering scenario's seed
TIMED_KINDS = frozenset({"deadline", "lease_expiry_race"})


def test_given_the_catalogue_of_faults_when_it_runs_then_every_scenario_converges_exactly_once(
    local_aws: LocalAws,
) -> None:
    summary = run_chaos(len(CATALOGUE), SEED, aws=local_aws)

    report = "\n".join(summary.report())
    assert summary.clean, report
    assert summary.line().endswith("duplicates: 0, lost: 0, mismatches: 0"), report
    assert "defaults" in summary.configurations(), report
    missing = [kind for kind in ALL_KINDS if summary.faults.get(kind, 0) == 0]
    assert not missing, f"never injected: {missing}\n{report}"
    # Faults aimed at a moment rather than a call (a deadline, a lease expiring under a run) land on the
    # stream that is running at that moment, which depends on the machine's pace when several requests
    # are in flight: one such pair may be missed on a slow or loaded machine. Every call-aimed pair, and
    # every timed kind on every other stream, must be met.
    gaps = summary.gaps()
    timed = [gap for gap in gaps if gap.split("/")[0] in TIMED_KINDS]
    assert len(gaps) == len(timed) <= 1, f"fault kinds that never met a stream: {gaps}\n{report}"


def _corrupt_and_recheck(scenario: Scenario, initial_customers: set[str]) -> Findings:
    """Break one thing of each kind behind the sync's back; the checks must see every one."""
    world = scenario.world
    store = world.sandbox.store
    with store.lock:
        simple = next(
            p
            for p in sorted(store.products.values(), key=lambda p: p.sku)
            if p.type_id == "simple"
            and p.values.get("status") in (1, "1")
            and not p.sku.startswith(tuple(scenario.planted_styles))
        )
        simple.values["price"] = Decimal("0.01")
        store.source_items.pop(source_item_key(BRANCH_SOURCES["WEB"], simple.sku), None)
        carrier = next(
            p
            for p in store.products.values()
            if p.media and not p.sku.startswith(tuple(scenario.planted_styles))
        )
        carrier.media.append(carrier.media[0].model_copy(update={"id": 999_999}))
        # The web team named a product (name is owned on_create) and the sync wrote over it.
        scenario.observed.web_edits[(simple.sku, "name")] = "Named by the web team"
    with world.ci.begin() as conn:
        number = conn.execute(
            select(s.invoices.c.number).where(s.invoices.c.magento_entity_id.is_not(None)).limit(1)
        ).scalar()
        if number is not None:
            conn.execute(delete(s.payments).where(s.payments.c.invoice_number == number))
            conn.execute(delete(s.invoice_lines).where(s.invoice_lines.c.invoice_number == number))
            conn.execute(delete(s.invoices).where(s.invoices.c.number == number))
    return scenario.check(initial_customers)


@pytest.mark.slow
def test_given_a_converged_scenario_when_magento_and_ci_office_are_tampered_with_then_the_checks_see_it(
    local_aws: LocalAws,
) -> None:
    seen: list[Findings] = []
    with tempfile.TemporaryDirectory() as directory, patched_service():
        result = run_scenario(
            local_aws,
            Path(directory),
            0,
            SEED,
            inspect=lambda scenario, customers: seen.append(_corrupt_and_recheck(scenario, customers)),
            configuration=shipped_defaults(),
        )
    assert result.clean, result.findings.details + result.errors
    findings = seen[0]
    text = "\n".join(findings.details)
    assert "price of" in text, text
    assert "stock of" in text, text
    assert "the sync overwrote the web team's" in text, text
    assert findings.duplicates >= 1, text
    assert findings.lost >= 1, text
