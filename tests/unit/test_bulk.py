"""bulk_build: the collector is paused while any build runs, on any thread, and resumed by the last."""

import gc
import threading
from collections.abc import Iterator

import pytest
from kudos_sync.domain.bulk import bulk_build


@pytest.fixture(autouse=True)
def collector_running() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_given_one_build_then_the_collector_is_paused_inside_and_resumed_after() -> None:
    with bulk_build():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_given_a_failing_build_then_the_collector_is_still_resumed() -> None:
    with pytest.raises(ValueError), bulk_build():
        raise ValueError("boom")
    assert gc.isenabled()


def test_given_overlapping_builds_on_two_threads_then_only_the_last_to_end_resumes_the_collector() -> None:
    first_in, second_done = threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with bulk_build():
            first_in.set()
            second_done.wait(5)
            seen.append(gc.isenabled())  # the other build ended meanwhile: still paused for this one

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(5)
    with bulk_build():
        pass
    second_done.set()
    thread.join(5)
    assert seen == [False]
    assert gc.isenabled()


def test_given_the_collector_was_off_before_then_a_build_leaves_it_off() -> None:
    gc.disable()
    with bulk_build():
        pass
    assert not gc.isenabled()
