"""The container pool of one invoker: its entries, its queue (fair by namespace), stem cells.

The decisions are pure functions in ``invoker/choices.py``; this object holds
the state and performs them. Every decision is applied without an ``await``
between deciding and updating the entries, so concurrent activations never
act on a stale picture. Docker is behind ``invoker/containers.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import runtimes
from invoker import choices
from invoker.containers import Container, ContainerLimits, Docker
from invoker.entry import Entry
from invoker.errors import ContainerError, ImageUnusable, NoRoom
from invoker.proxy import ProxyUnreachable
from streams import completion
from streams.fairness import Turns
from streams.ids import now_ms
from streams.messages import NO_CAPACITY, TOO_MUCH_MEMORY
from streams.settings import Settings

log = logging.getLogger("ledgerwhisk.invoker.pool")

# The states a pool's containers are counted in (Entry.state).
CONTAINER_STATES = ("starting", "stem_cell", "warm", "busy", "paused")
# A stem cell that failed to start is not tried again for this long.
STEM_CELL_RETRY_MS = 30_000


@dataclass(frozen=True)
class Grant:
    """A container granted to one activation: its pool entry, and how it was found."""

    entry: Entry
    start: str  # "warm" | "prewarm" | "cold"


@dataclass
class Queued:
    """An activation waiting for room, in arrival order."""

    want: choices.Want
    concurrency: int
    image: str
    future: asyncio.Future[Grant]


class ContainerPool:
    """Containers for activations: warm, stem cell or cold; queued when there is no room."""

    def __init__(
        self,
        settings: Settings,
        docker: Docker,
        spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]],
    ):
        self.settings = settings
        self.docker = docker
        self._spawn = spawn
        self.budget_mb = settings.invoker_user_memory_mb
        self.entries: dict[str, Entry] = {}
        self.queue: deque[Queued] = deque()
        # When each namespace was last given a container (the queue's fairness).
        self._turns = Turns()
        self.creating: list[tuple[str, int]] = []  # stem cells being started
        self._stem_failed: dict[tuple[str, int], int] = {}

    async def start(self) -> None:
        """Remove what a previous run left, then start the stem cells (ready when this returns)."""
        await self.docker.start()
        removed = await self.docker.remove_leftovers()
        if removed:
            log.info("removed %d containers left by a previous run", removed)
        await asyncio.gather(*self._refill(), return_exceptions=True)

    async def stop(self) -> None:
        """Remove every container of the pool."""
        await asyncio.gather(
            *(self.docker.remove(c) for e in self.entries.values() if (c := e.container)),
            return_exceptions=True,
        )
        self.entries.clear()

    def busy_mb(self) -> int:
        """Memory of the containers serving activations now."""
        return sum(e.memory_mb for e in self.entries.values() if e.in_use)

    def containers(self) -> dict[str, int]:
        """How many containers are in each state (``Entry.state``; stem cells being
        started count as ``starting``)."""
        counts = {state: 0 for state in CONTAINER_STATES}
        for entry in self.entries.values():
            counts[entry.state] += 1
        counts["starting"] += len(self.creating)
        return counts

    def _slots(self) -> list[choices.Slot]:
        return [e.slot() for e in self.entries.values()]

    def _reserved_mb(self) -> int:
        return sum(memory for _, memory in self.creating)

    def _limits(self, memory_mb: int, kind: str) -> ContainerLimits:
        s = self.settings
        found = runtimes.resolve(kind)
        return ContainerLimits(
            memory_mb,
            s.container_pids_limit,
            s.container_nofile_limit,
            # /tmp lives in the container's memory: leave the action at least half.
            tmp_mb=min(s.container_tmp_mb, memory_mb // 2),
            read_only_root=s.container_read_only_root,
            tmp_exec=found is not None and found.tmp_exec,
        )

    def _binds(self, kind: str, action: str | None) -> dict[str, str]:
        """The build cache of the action's namespace at ``/cache``, for a kind that compiles.

        One host folder per namespace (``<build cache>/<hash of the namespace>``),
        so an action can reuse or write builds of its own namespace's code only.
        The folder belongs to the proxies' unprivileged user.
        """
        found = runtimes.resolve(kind)
        if found is None or not found.build_cache or not action:
            return {}
        namespace = action.split("/", 1)[0]
        folder = os.path.join(
            self.settings.build_cache_dir(), hashlib.sha256(namespace.encode()).hexdigest()[:24]
        )
        try:
            os.makedirs(folder, exist_ok=True)
            os.chown(folder, runtimes.ACTION_UID, runtimes.ACTION_UID)
        except OSError as exc:
            log.warning("no build cache for %s (%s): it compiles every cold start", action, exc)
            return {}
        return {folder: runtimes.BUILD_CACHE_MOUNT}

    # -- stem cells ----------------------------------------------------------
    def _stem_specs(self) -> list[choices.Prewarm]:
        if not self.settings.stem_cells:
            return []
        retry_after = now_ms() - STEM_CELL_RETRY_MS
        return [
            choices.Prewarm(kind.name, spec.memory_mb, spec.count)
            for kind in runtimes.canonical_kinds()
            if kind.image is not None
            for spec in kind.stem_cells
            if self._stem_failed.get((kind.name, spec.memory_mb), 0) < retry_after
        ]

    def _refill(self) -> list[asyncio.Task[Any]]:
        if self.queue:
            return []  # activations waiting for room come first (choices.refill)
        plan = choices.refill(
            self._stem_specs(),
            self._slots(),
            self.creating,
            self.budget_mb,
            self._reserved_mb(),
            len(self.queue),
        )
        for key in plan.evict:
            log.info("removing paused %s to make room for a stem cell", key)
            self._discard(self.entries[key])
        tasks = []
        for kind, memory_mb in plan.create:
            self.creating.append((kind, memory_mb))
            tasks.append(self._spawn(self._add_stem_cell(kind, memory_mb)))
        return tasks

    async def _add_stem_cell(self, kind_name: str, memory_mb: int) -> None:
        kind = runtimes.resolve(kind_name)
        assert kind is not None and kind.image is not None
        try:
            container = await self._start_container(
                self.docker.new_name(), kind.image, kind.name, memory_mb
            )
        except ContainerError as exc:
            log.warning("stem cell of %s (%d MB) not started: %s", kind.name, memory_mb, exc)
            self._stem_failed[(kind.name, memory_mb)] = now_ms()
            return
        finally:
            self.creating.remove((kind_name, memory_mb))
        ready: asyncio.Future[Container] = asyncio.get_running_loop().create_future()
        ready.set_result(container)
        self.entries[container.name] = Entry(
            container.name, kind.name, kind.image, memory_mb, ready
        )
        log.info("stem cell %s ready (%s, %d MB)", container.name, kind.name, memory_mb)
        self._drain()

    async def _start_container(
        self, name: str, image: str, kind: str, memory_mb: int, action: str | None = None
    ) -> Container:
        """A new container whose action proxy answers; removed again if it never does.

        ``action`` (``namespace/name@rev``): the action a cold start is for.
        Raises ``ContainerError`` (``ImageUnusable`` when the image is the cause).
        """
        container = await self.docker.create(
            name, image, kind, self._limits(memory_mb, kind), self._binds(kind, action)
        )
        try:
            await container.client.wait_ready(
                self.settings.container_ready_s, lambda: self.docker.alive(container)
            )
        except ProxyUnreachable as exc:
            await asyncio.shield(self.docker.remove(container))
            raise ImageUnusable(image, f"nothing answered on port 8080 in it ({exc})") from exc
        except BaseException:
            await asyncio.shield(self.docker.remove(container))
            raise
        return container

    # -- claiming and releasing containers ------------------------------------
    async def claim(self, want: choices.Want, concurrency: int, image: str, wait_s: float) -> Grant:
        """A container for the activation: at once, or after waiting its turn in the queue."""
        if want.memory_mb > self.budget_mb:
            raise NoRoom(
                TOO_MUCH_MEMORY.format(memory=want.memory_mb, budget=self.budget_mb),
                completion.NO_CAPACITY,
            )
        if not self.queue:  # nobody is ahead: try now
            decision = self._choose(want)
            if not isinstance(decision, choices.Wait | choices.Never):
                return self._take(decision, want, concurrency, image)
        if len(self.queue) >= self.settings.invoker_queue_max:
            raise NoRoom(NO_CAPACITY, completion.NO_CAPACITY)
        item = Queued(want, concurrency, image, asyncio.get_running_loop().create_future())
        self.queue.append(item)
        try:
            await asyncio.wait({item.future}, timeout=max(0.0, wait_s))
        except asyncio.CancelledError:
            self._abandon(item)
            raise
        if item.future.done():
            return item.future.result()
        self._abandon(item)
        raise NoRoom(NO_CAPACITY, completion.NO_CAPACITY)

    def _abandon(self, item: Queued) -> None:
        """Leave the queue; a claim handed over meanwhile goes back to the pool."""
        if item in self.queue:
            self.queue.remove(item)
        elif item.future.done() and not item.future.cancelled():
            self.release(item.future.result().entry, keep=True)
        item.future.cancel()

    def _drain(self) -> None:
        """Hand out room to the queue, then refill the stem cells. Next in line is the
        first activation of the namespace given room least recently (``streams/fairness.py``):
        one namespace's backlog does not hold another's activations behind it."""
        while self.queue:
            index = self._turns.next_in_line([q.want.namespace for q in self.queue])
            head = self.queue[index]
            decision = self._choose(head.want)
            if isinstance(decision, choices.Wait | choices.Never):
                break  # it waits; those behind it wait their turn
            del self.queue[index]
            head.future.set_result(self._take(decision, head.want, head.concurrency, head.image))
        self._refill()

    def _choose(self, want: choices.Want) -> choices.Decision:
        """The pool's choice for ``want``, passing over containers that died behind its back.

        Docker restarting, or an operator's ``docker kill``, ends a container
        without the invoker hearing of it: such a one is dropped and the choice
        made again, so no activation is handed a dead container (and blamed).
        """
        while True:
            decision = choices.choose(self._slots(), want, self.budget_mb, self._reserved_mb())
            if not isinstance(decision, choices.Warm | choices.StemCell):
                return decision
            entry = self.entries[decision.slot]
            if not self._gone(entry):
                return decision
            log.warning("container %s is gone (killed outside the invoker); passed over", entry.key)
            self._discard(entry)

    def _take(
        self, decision: choices.Decision, want: choices.Want, concurrency: int, image: str
    ) -> Grant:
        """Perform a decision at once (no await), so no other activation sees a stale pool."""
        self._turns.given(want.namespace)
        if isinstance(decision, choices.Warm):
            entry = self.entries[decision.slot]
            entry.in_use += 1
            return Grant(entry, "warm")
        if isinstance(decision, choices.StemCell):
            entry = self.entries[decision.slot]
            entry.action, entry.concurrency, entry.in_use = want.action, concurrency, 1
            # The replacement starts when this activation is released (_drain):
            # creating a container beside its /init slowed that /init 3-6 times.
            return Grant(entry, "prewarm")
        assert isinstance(decision, choices.Cold), decision
        for victim in decision.evict:
            self._discard(self.entries[victim])
        name = self.docker.new_name()
        ready: asyncio.Future[Container] = asyncio.get_running_loop().create_future()
        entry = Entry(
            name, want.kind, image, want.memory_mb, ready, want.action, concurrency, in_use=1
        )
        self.entries[name] = entry
        self._spawn(self._cold_start(entry))
        return Grant(entry, "cold")

    async def _cold_start(self, entry: Entry) -> None:
        try:
            container = await self._start_container(
                entry.key, entry.image, entry.kind, entry.memory_mb, entry.action
            )
        except ContainerError as exc:
            self.entries.pop(entry.key, None)
            entry.ready.set_exception(exc)
            self._drain()
            return
        except asyncio.CancelledError:
            entry.ready.cancel()
            raise
        entry.ready.set_result(container)
        if entry.discarded:  # evicted or given up while it started
            await self.docker.remove(container)

    def _discard(self, entry: Entry) -> None:
        """Take the entry out of the pool and remove its container (now, or once started)."""
        entry.discarded = True
        if self.entries.get(entry.key) is entry:
            del self.entries[entry.key]
        if (container := entry.container) is not None:
            self._spawn(self.docker.remove(container))

    def release(self, entry: Entry, keep: bool) -> None:
        entry.in_use -= 1
        entry.last_used_ms = now_ms()
        if not keep:
            self._discard(entry)
        self._drain()

    def _gone(self, entry: Entry) -> bool:
        """True for an entry whose running container has died behind the pool's back."""
        container = entry.container
        return container is not None and not self.docker.alive(container)

    async def resume(self, entry: Entry) -> Container:
        """The entry's container, started and unpaused."""
        container = await entry.ready
        async with entry.lock:
            if entry.paused:
                await self.docker.unpause(container)
                entry.paused = False
        return container

    async def reap_idle(self) -> None:
        """Pause containers idle past the grace; remove those idle past the timeout."""
        pause, remove = choices.idle_actions(
            self._slots(),
            now_ms(),
            int(self.settings.container_idle_pause_s * 1000),
            int(self.settings.container_idle_remove_s * 1000),
        )
        for key in remove:
            entry = self.entries.get(key)
            if entry is not None and entry.in_use == 0:
                log.info("removing %s: idle for %.0f s", key, self.settings.container_idle_remove_s)
                self._discard(entry)
        for key in pause:
            entry = self.entries.get(key)
            if entry is not None:
                await self._pause(entry)
        self._drain()

    async def _pause(self, entry: Entry) -> None:
        container = entry.container
        if container is None:
            return
        async with entry.lock:
            if entry.in_use or entry.paused or entry.discarded:
                return
            try:
                await self.docker.pause(container)
            except ContainerError as exc:
                log.warning("%s; removing it", exc)
                self._discard(entry)
                return
            entry.paused = True
