"""Pausing Python's cyclic garbage collector around work that builds many small objects."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a scan, graph, layout or autogenerate runs.

    Tens of thousands of small records would make it rescan everything again and again (a
    third of the time at 50,000 revisions), and an autogenerate run allocates many short-lived
    objects but few cycles: the collector would cost more than the little memory it frees.
    A collector that was already paused stays paused.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
