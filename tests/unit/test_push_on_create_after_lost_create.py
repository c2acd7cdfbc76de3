"""A field owned `on_create` belongs to the web team once the product exists in Magento, even when the
push never learned that its create went through.

Found by the fault harness (`python -m tests.chaos.run --scenarios 1 --seed 3`, scenario 0, shipped
defaults): a create applied in Magento whose confirmation was lost (connection dropped after the
write, or the binding save throttled) is resent as a create by the next run, with the on_create
fields; a web-team edit made in between is overwritten. This test fails until the resent create
leaves on_create fields alone for a product that is already in Magento.
"""

import contextlib
from decimal import Decimal

from kudos_sync.domain.state import BindingKind
from kudos_sync.sync.push import PENDING

from tests.fakes.catalogue import style
from tests.fakes.magento_catalog import FakeCrashError
from tests.unit.test_push import Harness, make_config
from tests.unit.test_push_write_ahead import harness, push_with_binding_save_throttled


def test_given_a_create_whose_confirmation_was_lost_when_the_web_team_renames_it_then_the_name_stays() -> (
    None
):
    h, store = harness(style("MUG", "Coffee Mug"))  # shipped ownership: name and description on_create
    sku = "MUG-1"
    push_with_binding_save_throttled(h, store, sku)
    assert h.magento.products[sku].name == "Coffee Mug"  # the create went through; its binding did not

    h.magento.products[sku].attributes["name"] = "Ceramic Mug, 350 ml"  # the web team's own name

    result = h.push()

    assert result.status == "succeeded"
    assert h.magento.products[sku].name == "Ceramic Mug, 350 ml"


def test_given_a_run_cut_between_create_and_price_when_the_web_team_sets_the_price_then_it_stays() -> None:
    """Found by the fault harness (`--scenarios 6 --seed 3`, scenario 4, price owned on_create): the
    price goes with the create, the run ends before the price step, the web team sets its own price,
    and the next run's first price write overwrites it."""
    sku = "MUG-1"
    for writes in range(1, 12):
        h = Harness([style("MUG", "Coffee Mug")], make_config(field_ownership={"price": "on_create"}))
        h.magento.crash_after = writes
        with contextlib.suppress(FakeCrashError):
            h.push()
        if sku in h.magento.products and not h.magento.base_prices:
            break
    else:
        raise AssertionError("no run ended between the create and the price step")
    h.magento.base_prices[(sku, 0)] = Decimal("9.99")  # the web team's price

    h.push_until_done()

    assert h.magento.base_prices[(sku, 0)] == Decimal("9.99")


def test_given_categories_on_create_when_a_create_is_resent_then_it_keeps_its_category_not_parked() -> None:
    """Found by the fault harness (`--scenarios 6 --seed 3`, scenario 4, categories owned on_create):
    a create whose outcome was unknown is resent, but only products without any binding have their
    category looked up, so the resent create is parked: `category 'Womens/Jackets' is not in Magento`."""
    config = make_config(field_ownership={"categories": "on_create"})
    for writes in range(1, 12):
        h = Harness([style("MUG", "Coffee Mug", category="Kitchen/Mugs")], config)
        h.magento.crash_after = writes
        with contextlib.suppress(FakeCrashError):
            h.push()
        binding = h.bindings(BindingKind.PRODUCT).get("MUG-1")
        if binding is not None and binding.fingerprint.startswith(PENDING):
            break
    else:
        raise AssertionError("no run ended with the create pending")

    result = h.push_until_done()

    assert result.status == "succeeded"
    assert not h.parked()
    assert {h.magento.category_path(c) for c in h.magento.products["MUG-1"].category_ids} == {"Kitchen/Mugs"}
