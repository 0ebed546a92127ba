"""The invoker: holds the container pool and carries each dispatched activation through."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import runtimes
from invoker import outcome, pool
from invoker.containers import Container, Docker
from invoker.errors import ContainerError
from invoker.proxy import ProxyTimeout, ProxyUnreachable
from projections.couch import Couch, StoreError
from streams import constants
from streams.controller import base_annotations
from streams.events import (
    COMPLETED,
    STARTED,
    ActivationAccepted,
    ActivationCompleted,
    ActivationStarted,
    Dispatch,
    InvokerHealth,
    Response,
    encode,
)
from streams.ids import now_ms
from streams.lifecycle import seq_for
from streams.messages import (
    ACTION_MISSING,
    CONTAINER_FAILED,
    MEMORY_EXCEEDED,
    TIMEOUT,
)
from streams.settings import Settings

log = logging.getLogger("ledgerwhisk.invoker")

Send = Callable[[str, bytes, bytes], Awaitable[None]]
ClaimCheck = Callable[[ActivationStarted], Awaitable[bool]]
PROXY_READY_S = 30.0
SENTINEL_WAIT_S = 2.0


@dataclass
class Entry:
    """A container in the pool with its bookkeeping."""

    container: Container
    action: str | None = None
    initialized: bool = False
    in_use: int = 0
    concurrency: int = 1
    last_used_ms: int = field(default_factory=now_ms)
    paused: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def slot(self) -> pool.Slot:
        c = self.container
        return pool.Slot(
            c.id, c.kind, c.memory_mb, self.action, self.in_use, self.concurrency, self.last_used_ms
        )


class Invoker:
    """One invoker: container pool, activation runs, heartbeats, idle handling."""

    def __init__(self, settings: Settings, send: Send, docker: Docker, couch: Couch):
        self.settings = settings
        self.id = settings.invoker_id
        self.source = f"invoker{self.id}@{os.getpid()}"
        self._send = send
        self.docker = docker
        self.couch = couch
        self.entries: dict[str, Entry] = {}
        self.creating_mb = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._actions: dict[tuple[str, str], dict[str, Any]] = {}
        self._keys: dict[str, str] = {}
        self.in_flight = 0
        self._ledger = settings.topic(constants.TOPIC_EVENTS)

    # -- lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        await self.docker.start()
        removed = await self.docker.remove_leftovers()
        if removed:
            log.info("removed %d containers left by a previous run", removed)
        if self.settings.stem_cells:
            for kind in runtimes.canonical_kinds():
                for spec in kind.stem_cells:
                    for _ in range(spec.count):
                        self._spawn(self._add_stem_cell(kind.name, spec.memory_mb))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(
            *(self.docker.remove(e.container) for e in self.entries.values()),
            return_exceptions=True,
        )
        self.entries.clear()
        await self.docker.close()
        await self.couch.close()

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("invoker task failed", exc_info=task.exception())

    def submit(self, dispatch: Dispatch, claim: ClaimCheck | None = None) -> None:
        """Run a dispatched activation in the background.

        ``claim`` is asked right after ``started`` is in the ledger; user code
        runs only if it answers True (see invoker/recovery.py).
        """
        self._spawn(self.activate(dispatch, claim))

    # -- capacity ------------------------------------------------------------
    def used_mb(self) -> int:
        return sum(e.container.memory_mb for e in self.entries.values()) + self.creating_mb

    def health(self) -> InvokerHealth:
        busy = sum(e.container.memory_mb for e in self.entries.values() if e.in_use)
        return InvokerHealth(
            invoker=self.id,
            state="healthy",
            user_memory_mb=self.settings.invoker_user_memory_mb,
            free_memory_mb=self.settings.invoker_user_memory_mb - busy,
            in_flight=self.in_flight,
            pid=os.getpid(),
            host=socket.gethostname(),
            at_ms=now_ms(),
        )

    async def _add_stem_cell(self, kind: str, memory_mb: int) -> None:
        spec = runtimes.resolve(kind)
        if spec is None or spec.image is None:
            return
        if self.used_mb() + memory_mb > self.settings.invoker_user_memory_mb:
            return
        self.creating_mb += memory_mb
        try:
            container = await self.docker.create(spec.image, spec.name, memory_mb)
        except ContainerError as exc:
            log.warning("stem cell for %s not created: %s", kind, exc)
            return
        finally:
            self.creating_mb -= memory_mb
        try:
            await container.client.wait_ready(PROXY_READY_S)
        except ProxyUnreachable as exc:
            log.warning("stem cell %s never came up: %s", container.name, exc)
            await self.docker.remove(container)
            return
        self.entries[container.id] = Entry(container)
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _acquire(self, accepted: ActivationAccepted, image: str) -> tuple[Entry, str]:
        want = pool.Want(
            action=f"{accepted.action}@{accepted.action_rev}",
            kind=accepted.kind,
            memory_mb=accepted.limits.memory_mb,
        )
        while True:
            decision = pool.choose(
                [e.slot() for e in self.entries.values()],
                want,
                self.settings.invoker_user_memory_mb,
                self.creating_mb,
            )
            if isinstance(decision, pool.Warm):
                entry = self.entries[decision.slot]
                entry.in_use += 1
                await self._ensure_running(entry)
                return entry, "warm"
            if isinstance(decision, pool.StemCell):
                entry = self.entries[decision.slot]
                entry.action, entry.in_use = want.action, 1
                entry.concurrency = accepted.limits.concurrency
                self._spawn(self._add_stem_cell(accepted.kind, accepted.limits.memory_mb))
                return entry, "prewarm"
            if isinstance(decision, pool.Cold):
                for victim in decision.evict:
                    gone = self.entries.pop(victim)
                    self._spawn(self.docker.remove(gone.container))
                self.creating_mb += want.memory_mb
                try:
                    container = await self.docker.create(image, accepted.kind, want.memory_mb)
                finally:
                    self.creating_mb -= want.memory_mb
                entry = Entry(
                    container, action=want.action, in_use=1, concurrency=accepted.limits.concurrency
                )
                self.entries[container.id] = entry
                return entry, "cold"
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    async def _ensure_running(self, entry: Entry) -> None:
        async with entry.lock:
            if entry.paused:
                await self.docker.unpause(entry.container)
                entry.paused = False

    def _release(self, entry: Entry, destroy: bool) -> None:
        entry.in_use -= 1
        entry.last_used_ms = now_ms()
        if destroy and entry.container.id in self.entries:
            del self.entries[entry.container.id]
            self._spawn(self.docker.remove(entry.container))
        self._wake()

    async def reap_idle(self) -> None:
        """Pause containers idle past the grace; remove those idle past the timeout."""
        pause, remove = pool.idle_actions(
            [e.slot() for e in self.entries.values()],
            now_ms(),
            int(self.settings.container_idle_pause_s * 1000),
            int(self.settings.container_idle_remove_s * 1000),
        )
        for cid in remove:
            entry = self.entries.pop(cid, None)
            if entry is not None:
                await self.docker.remove(entry.container)
        for cid in pause:
            entry = self.entries.get(cid)
            if entry is None or entry.paused or entry.in_use:
                continue
            async with entry.lock:
                if entry.in_use == 0 and not entry.paused:
                    entry.paused = True
                    await self.docker.pause(entry.container)

    # -- one activation ------------------------------------------------------
    async def _load(self, accepted: ActivationAccepted) -> dict[str, Any]:
        key = (accepted.action, accepted.action_rev)
        found = self._actions.get(key)
        if found is None:
            db = self.settings.database(constants.DB_WHISKS)
            found = await self.couch.get_rev(db, accepted.action, accepted.action_rev)
            if found is None:
                raise LookupError(f"{accepted.action} (revision {accepted.action_rev}) is gone")
            self._actions[key] = found
        return found

    async def _api_key(self, accepted: ActivationAccepted) -> str:
        found = self._keys.get(accepted.subject)
        if found is None:
            doc = await self.couch.get(
                self.settings.database(constants.DB_SUBJECTS), accepted.subject
            )
            root = accepted.namespace.split("/")[0]
            for ns in (doc or {}).get("namespaces", []):
                if ns.get("name") == root:
                    found = f"{ns['uuid']}:{ns['key']}"
            found = found or ""
            self._keys[accepted.subject] = found
        return found

    async def _append(self, event: ActivationStarted | ActivationCompleted) -> None:
        await self._send(self._ledger, event.activation_id.encode(), encode(event))

    async def activate(self, dispatch: Dispatch, claim: ClaimCheck | None = None) -> None:
        """Carry one activation from its dispatch to its ``completed`` event."""
        accepted, scheduled = dispatch.accepted, dispatch.scheduled
        self.in_flight += 1
        try:
            await self._run(accepted, scheduled.attempt, claim)
        finally:
            self.in_flight -= 1

    async def _run(
        self, accepted: ActivationAccepted, attempt: int, claim: ClaimCheck | None = None
    ) -> None:
        try:
            action = await self._load(accepted)
            api_key = await self._api_key(accepted)
        except (LookupError, StoreError) as exc:
            await self._append(
                self._completed(
                    accepted,
                    attempt,
                    outcome.error(constants.STATUS_WHISK_ERROR, ACTION_MISSING.format(error=exc)),
                    now_ms(),
                    [],
                    None,
                    None,
                    None,
                )
            )
            return
        spec = runtimes.resolve(accepted.kind)
        image = accepted.image or (spec.image if spec else None)
        if image is None:
            await self._append(
                self._completed(
                    accepted,
                    attempt,
                    outcome.error(
                        constants.STATUS_DEVELOPER_ERROR, f"Unknown kind {accepted.kind}."
                    ),
                    now_ms(),
                    [],
                    None,
                    None,
                    None,
                )
            )
            return
        begin = now_ms()
        try:
            entry, start_kind = await self._acquire(accepted, image)
        except ContainerError as exc:
            await self._append(
                self._completed(
                    accepted,
                    attempt,
                    outcome.error(constants.STATUS_WHISK_ERROR, CONTAINER_FAILED.format(error=exc)),
                    begin,
                    [],
                    None,
                    None,
                    None,
                )
            )
            return
        container = entry.container
        destroy = False
        try:
            start = now_ms()
            started = ActivationStarted(
                activation_id=accepted.activation_id,
                seq=seq_for(STARTED, attempt),
                at_ms=start,
                namespace=accepted.namespace,
                source=self.source,
                invoker=self.id,
                container=container.name,
                start=start_kind,  # type: ignore[arg-type]
                wait_ms=start - accepted.at_ms,
            )
            await self._append(started)
            if claim is not None and not await claim(started):
                log.warning("%s: not run, the ledger shows another claim", accepted.activation_id)
                return
            collect = entry.concurrency == 1
            if collect:
                container.logs.begin(accepted.limits.logs_mb * 1024 * 1024)
            timeout_s = accepted.limits.timeout_ms / 1000
            init_ms: int | None = None
            result: outcome.Outcome | None = None
            timed_out = False
            try:
                if not entry.initialized:
                    if start_kind == "cold":
                        await container.client.wait_ready(PROXY_READY_S)
                    t0 = time.monotonic()
                    exec_ = action.get("exec", {})
                    answer = await container.client.post(
                        "/init",
                        {
                            "value": {
                                "name": accepted.action_name,
                                "main": exec_.get("main") or "main",
                                "code": exec_.get("code", ""),
                                "binary": bool(exec_.get("binary", False)),
                                "env": {},
                            }
                        },
                        timeout_s,
                    )
                    init_ms = int((time.monotonic() - t0) * 1000)
                    result = outcome.of_init(answer)
                    if result is None:
                        entry.initialized = True
                    else:
                        destroy = True
                if result is None:
                    answer = await container.client.post(
                        "/run",
                        {
                            "value": accepted.params,
                            "activation_id": accepted.activation_id,
                            "namespace": accepted.namespace.split("/")[0],
                            "action_name": f"/{accepted.action}",
                            "action_version": accepted.action_version,
                            "deadline": str(start + accepted.limits.timeout_ms),
                            "api_host": self.settings.public_api_url,
                            "api_key": api_key,
                            "transaction_id": accepted.activation_id,
                        },
                        max(0.001, timeout_s - (init_ms or 0) / 1000),
                    )
                    result = outcome.of_run(answer)
            except ProxyTimeout:
                timed_out, destroy = True, True
                result = outcome.error(
                    constants.STATUS_DEVELOPER_ERROR,
                    TIMEOUT.format(ms=accepted.limits.timeout_ms),
                )
            except ProxyUnreachable as exc:
                destroy = True
                if await self.docker.oom_killed(container):
                    message = MEMORY_EXCEEDED
                else:
                    message = (
                        "The action did not produce a valid response and exited "
                        f"unexpectedly ({exc})."
                    )
                result = outcome.error(constants.STATUS_DEVELOPER_ERROR, message)
            end = now_ms()
            logs: list[str] = []
            if collect:
                logs = await container.logs.finish(0.05 if destroy else SENTINEL_WAIT_S)
            await self._append(
                self._completed(accepted, attempt, result, start, logs, init_ms, end, timed_out)
            )
        finally:
            self._release(entry, destroy)

    def _completed(
        self,
        accepted: ActivationAccepted,
        attempt: int,
        result: outcome.Outcome,
        start: int,
        logs: list[str],
        init_ms: int | None,
        end: int | None,
        timed_out: bool | None,
    ) -> ActivationCompleted:
        end_ms = end if end is not None else now_ms()
        annotations = base_annotations(accepted, wait_ms=max(0, start - accepted.at_ms))
        if timed_out:
            annotations = [
                {"key": "timeout", "value": True} if a["key"] == "timeout" else a
                for a in annotations
            ]
        if init_ms is not None:
            annotations.append({"key": "initTime", "value": init_ms})
        return ActivationCompleted(
            activation_id=accepted.activation_id,
            seq=seq_for(COMPLETED, attempt),
            at_ms=end_ms,
            namespace=accepted.namespace,
            source=self.source,
            response=Response(
                status_code=result.status_code, result=result.result, size=result.size
            ),
            logs=logs,
            start_ms=start,
            end_ms=end_ms,
            duration_ms=end_ms - start,
            annotations=annotations,
            invoker=self.id,
        )
