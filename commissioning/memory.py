"""Python's cyclic garbage collector, paused around a heavy, short computation.

A recharge run allocates a few hundred thousand small objects (facts, segments, lines, rows). Each
700 allocations the collector runs, and every tenth of those runs a deeper pass, so a borough's
month run paid for about 200 collections walking the process's objects: about 170 ms of an 800 ms
run (measured, issue 14). The objects the run makes are freed by reference counting when it ends;
none of the run's code builds reference cycles it relies on the collector to free, and any that
some library makes are collected at the first collection after the pause.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block (nested blocks and a collector already off are left
    as they were)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
