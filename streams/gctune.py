"""Keep the garbage collector's full passes short in the long-running processes.

A process that has started holds tens of thousands of long-lived objects
(modules, the Faust app, aiohttp and pydantic machinery). Each full collection
walked all of them again: pauses of 20-60 ms measured in the workers during a
warm benchmark, landing on whatever invocation was in flight. ``settle``
collects once, then freezes what is left (``gc.freeze``), so later passes walk
only what was made since.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger("ledgerwhisk.gc")


def settle() -> None:
    """Collect once, then keep every object alive now out of later collections."""
    gc.collect()
    gc.freeze()
    log.info("%d start-up objects frozen out of garbage collection", gc.get_freeze_count())
