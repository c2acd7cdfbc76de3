"""A wave of product saves is not started when the time left would not cover the last one: on a store
taking 1 s a request, a wave outlasts the deadline margin, and started anyway it would outlive the
invocation (benchmark (j) found invocations overrunning their cap that way)."""

import time
from collections.abc import Mapping, Sequence

from kudos_sync.sync.ports import ProductWrite, WriteOutcome

from tests.fakes.catalogue import style
from tests.fakes.magento_catalog import FakeMagentoCatalog
from tests.unit.test_push import Harness, make_config

MARGIN = 5


class SlowStore(FakeMagentoCatalog):
    def save_products(
        self, products: Sequence[ProductWrite], known_ids: Mapping[str, int] | None = None
    ) -> list[WriteOutcome]:
        time.sleep(0.05)
        return super().save_products(products, known_ids)


class JustOverTheMargin:
    """Always a little more than the margin left: less than one slow wave."""

    def remaining_seconds(self) -> float:
        return MARGIN + 0.02


def test_given_less_time_left_than_the_last_wave_took_then_the_next_wave_waits_for_the_next_run() -> None:
    config = make_config(sync={"batch_size": 1, "concurrency": 1, "deadline_margin_seconds": MARGIN})
    h = Harness([style(f"S{i}", "Thing") for i in range(3)], config=config)
    h.magento = SlowStore()
    h.deadline = JustOverTheMargin()  # type: ignore[assignment]

    result = h.push()

    assert result.status == "partial"
    assert h.magento.sent_skus() == ["S0-1"]  # the first wave, then no more


def test_given_time_for_every_wave_then_all_are_sent() -> None:
    config = make_config(sync={"batch_size": 1, "concurrency": 1, "deadline_margin_seconds": MARGIN})
    h = Harness([style(f"S{i}", "Thing") for i in range(3)], config=config)
    h.magento = SlowStore()

    result = h.push()

    assert result.status == "succeeded" and sorted(h.magento.sent_skus()) == ["S0-1", "S1-1", "S2-1"]
