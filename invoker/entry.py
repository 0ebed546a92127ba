"""One container of the pool (or one still starting) and what the invoker tracks of it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from invoker import choices
from invoker.containers import Container
from streams.events import Response
from streams.ids import now_ms


@dataclass(eq=False)
class Entry:
    """A pool entry, keyed by its container's name (known before the container exists).

    ``ready`` resolves to the running container once its proxy answers: at
    once for a stem cell, after the start for a cold one, so activations that
    share a container (``concurrency`` > 1) can be routed to it while it starts.
    """

    key: str
    kind: str
    image: str
    memory_mb: int
    ready: asyncio.Future[Container]
    action: str | None = None  # "namespace/name@rev" once claimed
    concurrency: int = 1
    in_use: int = 0
    last_used_ms: int = field(default_factory=now_ms)
    paused: bool = False
    initialized: bool = False
    # Why /init failed, for activations that waited on the same /init.
    init_failure: Response | None = None
    discarded: bool = False
    # Serialises pause/unpause, and the one /init of a shared container.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    init_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def container(self) -> Container | None:
        """The container once it runs, else None."""
        if self.ready.done() and not self.ready.cancelled() and self.ready.exception() is None:
            return self.ready.result()
        return None

    @property
    def state(self) -> str:
        """``starting`` (its proxy not answering yet), ``busy`` (serving activations),
        ``paused``, ``warm`` (an action's, idle) or ``stem_cell`` (no action yet)."""
        if not self.ready.done():
            return "starting"
        if self.in_use:
            return "busy"
        if self.paused:
            return "paused"
        return "stem_cell" if self.action is None else "warm"

    def slot(self) -> choices.Slot:
        return choices.Slot(
            self.key,
            self.kind,
            self.memory_mb,
            self.action,
            self.in_use,
            self.concurrency,
            self.last_used_ms,
            self.paused,
        )
