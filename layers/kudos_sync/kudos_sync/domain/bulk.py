"""Building tens of thousands of long-lived objects quickly (the catalogue and its mapping, a kind's
bindings): the hot loops of the push. The objects themselves are plain slotted dataclasses built
without validation; what remains is the cyclic garbage collector, paused here. No I/O.

Why pause it: the collector walks every container object it tracks again and again while they are
being built, and finds nothing to free (they all stay alive). Measured at 24,000 SKUs: mapping took
2.3x as long with it running (1.41 s against 0.61 s), decoding 60,000 product bindings 1.8x. Objects
are still freed as usual when their last reference goes; only cycles wait until it is resumed.

Several threads build at once (the catalogue is mapped while the bindings load), so the pause is
counted: the collector is resumed when the last build ends, and only if it was running when the first
began. A thread that switched it off by itself (a test, a profiler) is never overruled.
"""

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_builds = 0  # bulk builds running now, on any thread
_resume = False  # whether the collector was running when the first of them began


@contextmanager
def bulk_build() -> Iterator[None]:
    """Pause the cyclic garbage collector while long-lived objects are built. Not for code that yields
    to its caller while paused."""
    global _builds, _resume
    with _lock:
        if _builds == 0:
            _resume = gc.isenabled()
            gc.disable()
        _builds += 1
    try:
        yield
    finally:
        with _lock:
            _builds -= 1
            if _builds == 0 and _resume:
                gc.enable()
