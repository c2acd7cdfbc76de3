"""Convergence when Magento moves stock itself (MSI deducts a shipment, a credit memo returns stock to
the source, an admin counts the shelf): the next push must bring the source back to CI Office's figure
once that figure is final, even when it equals the figure last sent.

Found by the fault harness (`python -m tests.chaos.run --scenarios 6 --seed 3`, catalogue scenarios 1
and 5, kind `stock_movement`): an order shipped in Magento (web source 4 -> 2) and refunded with its
stock returned in CI Office only, or CI Office's count edited back to the figure last sent, leaves CI
Office wanting what the binding says was sent, so nothing is sent and Magento keeps its own figure:
`stock of KT00002-BLS-K2 at web is 2.0 (status 1), CI: 4`. The push compares CI Office with its
bindings, never with Magento. This test fails until the push notices a source that moved under it.
"""

from decimal import Decimal

from tests.fakes.catalogue import style
from tests.unit.test_push import Harness


def test_given_magento_moved_stock_when_ci_office_wants_the_figure_last_sent_then_it_is_sent_again() -> None:
    h = Harness([style("MUG", "Coffee Mug")])
    h.catalogue.set_stock("MUG-1", "SHOP", 4)
    h.push()
    assert h.magento.source_items[("MUG-1", "shop")] == (Decimal(4), True)

    h.magento.source_items[("MUG-1", "shop")] = (Decimal(2), True)  # shipped from Magento, refunded in CI

    h.push()

    assert h.magento.source_items[("MUG-1", "shop")] == (Decimal(4), True)
