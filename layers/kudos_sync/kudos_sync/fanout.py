"""Work spread over a few threads with a bounded number in flight: one helper for the whole layer."""

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait


def _never() -> bool:
    return False


def fan_out[T, R](
    items: Sequence[T],
    work: Callable[[T], R],
    done: Callable[[T, R], None],
    workers: int,
    stop: Callable[[], bool] = _never,
    name: str = "fan-out",
) -> None:
    """work(item) on up to `workers` threads, keeping that many in flight with no wave barrier (a
    worker that finishes takes the next item at once); done(item, result) runs on the calling thread
    as each completes. No item starts once `stop()` is true. The first failure is raised once the
    items already started have finished; items not yet started are dropped."""
    workers = max(1, workers)
    if workers == 1 or len(items) <= 1:
        for item in items:
            if stop():
                return
            done(item, work(item))
        return
    position = 0
    flying: dict[Future[R], T] = {}
    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix=name) as pool:
        try:
            while True:
                while position < len(items) and len(flying) < workers and not stop():
                    item = items[position]
                    position += 1
                    flying[pool.submit(work, item)] = item
                if not flying:
                    return
                finished, _ = wait(flying, return_when=FIRST_COMPLETED)
                for future in finished:
                    done(flying.pop(future), future.result())
        finally:
            for future in flying:
                future.cancel()


def in_order[T, R](
    work: Callable[[T], R], items: Sequence[T], workers: int, name: str = "fan-out"
) -> list[R]:
    """work(item) for every item on up to `workers` threads; the results in input order."""
    results: dict[int, R] = {}
    fan_out(range(len(items)), lambda i: work(items[i]), results.__setitem__, workers, name=name)
    return [results[i] for i in range(len(items))]
