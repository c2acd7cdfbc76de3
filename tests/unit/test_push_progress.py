"""The push reports each exporter step to the Progress port: its size, each batch confirmed, its end."""

from collections import defaultdict

from kudos_sync.sync.push import PushSync

from tests.fakes.catalogue import style, variant
from tests.fakes.state import FakeDeadline
from tests.unit.test_push import Harness, tee


class RecordingProgress:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, int | None]] = []

    def start(self, step: str, total: int | None) -> None:
        self.events.append(("start", step, total))

    def advance(self, step: str, done: int) -> None:
        self.events.append(("advance", step, done))

    def finish(self, step: str) -> None:
        self.events.append(("finish", step, None))

    def totals(self) -> dict[str, tuple[int | None, int]]:
        """step -> (announced total, units advanced)."""
        announced: dict[str, int | None] = {}
        done: dict[str, int] = defaultdict(int)
        for event, step, value in self.events:
            if event == "start":
                announced[step] = value
            elif event == "advance":
                done[step] += value or 0
        return {step: (total, done[step]) for step, total in announced.items()}


def push_with(h: Harness, progress: RecordingProgress) -> None:
    sync = PushSync(
        h.config, h.catalogue, h.magento, h.state, h.images, h.clock, h.deadline, progress=progress
    )
    sync.run()


def test_given_a_first_push_then_every_step_reports_its_total_advances_to_it_and_finishes() -> None:
    h = Harness([tee(), style("MUG", "Coffee Mug", variants=[variant("MUG-1")])])
    h.catalogue.sale("MUG", "9.90")
    h.catalogue.set_stock("MUG-1", "WEB", 4)
    h.catalogue.add_image("MUG", 1)
    progress = RecordingProgress()

    push_with(h, progress)

    assert progress.totals() == {
        "adopt": (6, 6),
        "category": (2, 2),
        "option": (4, 4),
        "products": (6, 6),
        "prices": (5, 5),
        "special_prices": (1, 1),
        "stock": (10, 10),
        "images": (1, 1),
    }
    starts = [step for event, step, _ in progress.events if event == "start"]
    finishes = [step for event, step, _ in progress.events if event == "finish"]
    assert starts == finishes == list(progress.totals())


def test_given_nothing_changed_then_only_the_names_known_from_the_bindings_are_reported() -> None:
    h = Harness([style("MUG", "Coffee Mug", variants=[variant("MUG-1")])])
    h.push()
    progress = RecordingProgress()

    push_with(h, progress)

    totals = progress.totals()
    assert totals.pop("category") == (2, 2)  # answered from the bindings
    assert all(total == done == 0 for total, done in totals.values()) and "images" in totals


def test_given_the_deadline_cuts_a_step_then_it_still_finishes_with_less_done_than_announced() -> None:
    h = Harness([tee(f"T{i}") for i in range(4)])
    h.push()
    for i in range(4):
        h.catalogue.edit(f"T{i}", retail_price="19.90")
    h.deadline = FakeDeadline(calls=1)
    progress = RecordingProgress()

    push_with(h, progress)

    total, done = progress.totals()["prices"]
    assert total == 16 and done < total
    assert ("finish", "prices", None) in progress.events
