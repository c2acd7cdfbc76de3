"""BindingWriter: push bindings saved behind the Magento requests, in order, failures never lost."""

import threading
from collections.abc import Sequence

import pytest
from kudos_sync.domain.errors import TransientError
from kudos_sync.domain.state import Binding, BindingKind
from kudos_sync.sync.binding_writer import BindingWriter

from tests.fakes.state import InMemoryStateStore


def binding(key: str, fingerprint: str = "fp", kind: BindingKind = BindingKind.PRICE) -> Binding:
    return Binding(kind=kind, key=key, fingerprint=fingerprint)


class GatedStore(InMemoryStateStore):
    """Records each save and delete; saves block while the gate is closed; can fail a chosen save."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()
        self.calls: list[tuple[str, list[str]]] = []
        self.fail_on: str | None = None
        self.in_save = threading.Event()

    def save_bindings(self, bindings: Sequence[Binding]) -> None:
        self.in_save.set()
        self.gate.wait(timeout=10)
        keys = [f"{b.key}={b.fingerprint}" for b in bindings]
        self.calls.append(("save", keys))
        if self.fail_on is not None and any(b.key == self.fail_on for b in bindings):
            raise TransientError("ThrottlingException: rate of requests exceeds the allowed throughput")
        super().save_bindings(bindings)

    def delete_bindings(self, kind: BindingKind, keys: Sequence[str] | None = None) -> int:
        self.calls.append(("delete", list(keys or [])))
        return super().delete_bindings(kind, keys)


def test_given_saves_queued_while_one_runs_then_they_are_merged_into_one_save_in_order() -> None:
    store = GatedStore()
    with BindingWriter(store, linger_seconds=0) as writer:
        store.gate.clear()
        writer.save([binding("A", "1")])
        assert store.in_save.wait(timeout=5)  # the first save is under way and blocked
        writer.save([binding("B", "1"), binding("C", "1")])
        writer.save([binding("B", "2")])  # a later save of the same key wins
        store.gate.set()
    assert store.calls == [("save", ["A=1"]), ("save", ["C=1", "B=2"])]
    assert store.load_bindings(BindingKind.PRICE)["B"].fingerprint == "2"


def test_given_ticket_when_waited_then_bindings_are_in_the_store_without_lingering() -> None:
    store = GatedStore()
    with BindingWriter(store, linger_seconds=600) as writer:
        writer.save([binding("A")]).wait()
        assert "A" in store.load_bindings(BindingKind.PRICE)
        assert writer.delete(BindingKind.PRICE, ["A"]) == 1  # a delete waits, so it never lingers


def test_given_unwaited_saves_within_linger_then_they_become_one_save() -> None:
    store = GatedStore()
    writer = BindingWriter(store, linger_seconds=600)
    for key in "ABC":
        writer.save([binding(key)])
    assert store.calls == []  # gathered, not yet written
    writer.close()  # leaving saves them, in one save
    assert store.calls == [("save", ["A=fp", "B=fp", "C=fp"])]


def test_given_delete_between_saves_then_it_runs_after_the_earlier_save_and_before_the_later() -> None:
    store = GatedStore()
    with BindingWriter(store, linger_seconds=0) as writer:
        writer.save([binding("A", "1"), binding("B", "1")])
        assert writer.delete(BindingKind.PRICE, ["A"]) == 1
        writer.save([binding("A", "2")])
    assert store.calls == [("save", ["A=1", "B=1"]), ("delete", ["A"]), ("save", ["A=2"])]
    assert store.load_bindings(BindingKind.PRICE)["A"].fingerprint == "2"


def test_given_failed_save_then_next_call_raises_it_and_nothing_queued_after_it_is_written() -> None:
    store = GatedStore()
    store.fail_on = "BAD"
    writer = BindingWriter(store, linger_seconds=0)
    store.gate.clear()
    writer.save([binding("BAD")])
    assert store.in_save.wait(timeout=5)
    later = writer.save([binding("LATER")])
    store.gate.set()
    with pytest.raises(TransientError, match="Throttling"):
        later.wait()
    with pytest.raises(TransientError):
        writer.save([binding("AFTER")])
    with pytest.raises(TransientError):
        writer.close()
    assert store.load_bindings(BindingKind.PRICE) == {}


def test_given_body_raises_when_leaving_then_queued_bindings_are_still_saved_and_body_error_wins() -> None:
    store = GatedStore()
    with pytest.raises(ValueError, match="body"), BindingWriter(store) as writer:
        writer.save([binding("A")])
        raise ValueError("body")
    assert "A" in store.load_bindings(BindingKind.PRICE)


def test_given_body_raises_and_save_fails_when_leaving_then_body_error_is_reported() -> None:
    store = GatedStore()
    store.fail_on = "A"
    with pytest.raises(ValueError, match="body"), BindingWriter(store) as writer:
        writer.save([binding("A")])
        raise ValueError("body")


def test_given_mixed_kinds_then_each_reaches_its_kind() -> None:
    store = GatedStore()
    with BindingWriter(store) as writer:
        writer.save([binding("S-1", kind=BindingKind.PRODUCT), binding("S-1", kind=BindingKind.PRICE)])
    assert set(store.load_bindings(BindingKind.PRODUCT)) == {"S-1"}
    assert set(store.load_bindings(BindingKind.PRICE)) == {"S-1"}
