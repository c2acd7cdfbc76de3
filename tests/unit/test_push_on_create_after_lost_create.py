"""A field owned `on_create` belongs to the web team once the product exists in Magento, even when the
push never learned that its create went through.

Found by the fault harness (`python -m tests.chaos.run --scenarios 1 --seed 3`, scenario 0, shipped
defaults): a create applied in Magento whose confirmation was lost (connection dropped after the
write, or the binding save throttled) is resent as a create by the next run, with the on_create
fields; a web-team edit made in between is overwritten. This test fails until the resent create
leaves on_create fields alone for a product that is already in Magento.
"""

from tests.fakes.catalogue import style
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
