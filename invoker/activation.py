"""The invoker: one activation carried from its dispatch to its ``completed`` event.

It takes a container from the pool (``invoker/pool.py``), appends
``started``, lets ``invoker/runner.py`` talk to the container, and appends
``completed``: every failure ends as an activation status, never as an
exception that escapes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import runtimes
from invoker import apidoor, choices, logs, outcome, protocol, runner
from invoker.containers import Docker
from invoker.errors import ContainerError, ImageMissing, NoRoom
from invoker.lease import Assignment
from invoker.pool import ContainerPool, Grant
from store.couch import Couch, StoreError
from streams import completion, constants
from streams.completion import error_response, whisk_error
from streams.events import (
    STARTED,
    ActivationAccepted,
    ActivationCompleted,
    ActivationStarted,
    InvokerHealth,
    Response,
    seq_for,
)
from streams.ids import now_ms
from streams.messages import ACTION_MISSING, KIND_UNSUPPORTED
from streams.settings import Settings
from streams.tasks import TaskSet

log = logging.getLogger("ledgerwhisk.invoker")

Append = Callable[[ActivationStarted | ActivationCompleted], Awaitable[None]]
ClaimCheck = Callable[[ActivationStarted], Awaitable[bool]]
# Action documents kept in memory (their code may be a large zip).
ACTIONS_CACHED = 64
# A subject's key changes rarely; a changed key reaches actions within this time.
API_KEY_TTL_MS = 60_000


def _retrieved(task: asyncio.Future[Any]) -> None:
    """Mark a task's failure as seen (it is read, or deliberately left, where it is used)."""
    if not task.cancelled():
        task.exception()


class Invoker:
    """One invoker: its container pool and the activations it runs."""

    def __init__(
        self,
        settings: Settings,
        append: Append,
        fault: Callable[[str], None],
        docker: Docker,
        couch: Couch,
    ):
        self.settings = settings
        self.id = settings.invoker_id
        self.source = f"invoker{self.id}@{os.getpid()}"
        self._append = append
        self._fault = fault
        self.docker = docker
        self.couch = couch
        self.tasks = TaskSet(log, "an invoker task")
        self.pool = ContainerPool(settings, docker, self.tasks.spawn)
        self._actions: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._keys: dict[str, tuple[str, int]] = {}
        self.in_flight = 0
        # __OW_API_HOST: the door into each container where there is one.
        self.api_host = apidoor.api_host_inside() if docker.api_door else settings.public_api_url

    # -- lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        """Clean up after a previous run and prewarm the pool."""
        await self.pool.start()

    async def stop(self) -> None:
        await self.tasks.cancel()
        await self.pool.stop()
        await self.docker.close()
        await self.couch.close()

    def submit(self, assignment: Assignment, confirm: ClaimCheck | None = None) -> None:
        """Run an activation placed on this invoker in the background.

        ``confirm`` is asked right after ``started`` is in the ledger; user code
        runs only if it answers True (see invoker/lease.py).
        """
        self.tasks.spawn(self.activate(assignment, confirm))

    async def reap_idle(self) -> None:
        """Pause and remove idle containers; refill the stem cells (called every second)."""
        await self.pool.reap_idle()

    def health(self) -> InvokerHealth:
        budget = self.pool.budget_mb
        return InvokerHealth(
            invoker=self.id,
            state="healthy",
            user_memory_mb=budget,
            free_memory_mb=budget - self.pool.busy_mb(),
            in_flight=self.in_flight,
            containers=self.pool.containers(),
            queued=len(self.pool.queue),
            pid=os.getpid(),
            host=socket.gethostname(),
            at_ms=now_ms(),
        )

    # -- one activation ------------------------------------------------------
    async def _load(self, accepted: ActivationAccepted) -> dict[str, Any]:
        """The action document of this revision (a few recent ones are kept)."""
        key = (accepted.action, accepted.action_rev)
        found = self._actions.get(key)
        if found is None:
            db = self.settings.database(constants.DB_WHISKS)
            found = await self.couch.get_rev(db, accepted.action, accepted.action_rev)
            if found is None:
                raise LookupError(f"{accepted.action} (revision {accepted.action_rev}) is gone")
            self._actions[key] = found
            while len(self._actions) > ACTIONS_CACHED:
                self._actions.popitem(last=False)
        else:
            self._actions.move_to_end(key)
        return found

    async def _api_key(self, accepted: ActivationAccepted) -> str:
        """The invoking subject's key for the namespace, re-read once it is a minute old."""
        cached = self._keys.get(accepted.subject)
        if cached is not None and now_ms() - cached[1] < API_KEY_TTL_MS:
            return cached[0]
        doc = await self.couch.get(self.settings.database(constants.DB_SUBJECTS), accepted.subject)
        root = accepted.namespace.split("/")[0]
        found = ""
        for ns in (doc or {}).get("namespaces", []):
            if ns.get("name") == root:
                found = f"{ns['uuid']}:{ns['key']}"
        self._keys[accepted.subject] = (found, now_ms())
        return found

    async def activate(self, assignment: Assignment, confirm: ClaimCheck | None = None) -> None:
        """Carry one activation from its dispatch to its ``completed`` event."""
        self.in_flight += 1
        try:
            await self._run(assignment.accepted, assignment.attempt, confirm)
        finally:
            self.in_flight -= 1

    async def _fail(
        self,
        accepted: ActivationAccepted,
        attempt: int,
        error: Response,
        fault: bool = False,
    ) -> None:
        """End the activation with ``error``, no user code having run for it.

        ``fault``: the invoker's own fault, counted towards its health.
        """
        if fault:
            result = error.result
            self._fault(str(result.get("error", result) if isinstance(result, dict) else result))
        at = now_ms()
        await self._append(
            completion.of_run(
                accepted, attempt, self.source, self.id, error, start_ms=at, end_ms=at, logs=[]
            )
        )

    async def _load_for(self, accepted: ActivationAccepted) -> tuple[dict[str, Any], str | None]:
        """The action document, and the subject's API key when the action is given one."""
        action = await self._load(accepted)
        api_key = await self._api_key(accepted) if protocol.provides_api_key(action) else None
        return action, api_key

    async def _run(
        self, accepted: ActivationAccepted, attempt: int, confirm: ClaimCheck | None = None
    ) -> None:
        kind = runtimes.resolve(accepted.kind)
        image = accepted.image or (kind.image if kind else None)
        # A blackbox image we provide ourselves (``--native``'s docker skeleton)
        # runs in our build of it, whose failures are ours, not the user's.
        stand_in = runtimes.for_blackbox_image(accepted.image) if accepted.image else None
        if stand_in is not None:
            kind, image = stand_in, stand_in.image
        blackbox = bool(accepted.image) and stand_in is None
        if kind is None or image is None:
            message = KIND_UNSUPPORTED.format(kind=accepted.kind)
            await self._fail(
                accepted, attempt, error_response(constants.STATUS_DEVELOPER_ERROR, message)
            )
            return
        refused = outcome.of_limits(accepted.limits)
        if refused is not None:
            await self._fail(accepted, attempt, refused)
            return
        # The action document is read while a container is found (or started):
        # a cold start does not wait for CouchDB first.
        loading = asyncio.ensure_future(self._load_for(accepted))
        loading.add_done_callback(_retrieved)
        # A container is warm for one invoking subject and namespace, as
        # OpenWhisk's are for one invocation namespace: /init gave it that
        # caller's environment (its key too), which module-level code may keep.
        namespace = accepted.namespace.split("/")[0]
        caller = f"{accepted.subject}@{namespace}"
        want = choices.Want(
            action=f"{accepted.action}@{accepted.action_rev} for {caller}",
            kind=kind.name,
            memory_mb=accepted.limits.memory_mb,
            namespace=namespace,
        )
        concurrency = choices.effective_concurrency(
            accepted.limits.concurrency, kind.supports_concurrency
        )
        # Wait for room no longer than the activation could still finish in time.
        wait_s = (accepted.deadline_ms - accepted.limits.timeout_ms - now_ms()) / 1000
        try:
            claim = await self.pool.claim(want, concurrency, image, wait_s)
        except NoRoom as exc:
            loading.cancel()
            await self._append(
                whisk_error(accepted, exc.message, exc.reason, now_ms(), attempt, self.source)
            )
            return
        except BaseException:
            loading.cancel()
            raise
        await self._use(claim, accepted, attempt, loading, confirm, blackbox)

    async def _use(
        self,
        claim: Grant,
        accepted: ActivationAccepted,
        attempt: int,
        loading: asyncio.Future[tuple[dict[str, Any], str | None]],
        confirm: ClaimCheck | None = None,
        blackbox: bool = False,
    ) -> None:
        entry, keep, released = claim.entry, False, False
        try:
            at = now_ms()
            started = ActivationStarted(
                activation_id=accepted.activation_id,
                seq=seq_for(STARTED, attempt),
                at_ms=at,
                namespace=accepted.namespace,
                source=self.source,
                invoker=self.id,
                container=entry.key,
                start=claim.start,  # type: ignore[arg-type]
                wait_ms=at - accepted.at_ms,
            )
            await self._append(started)
            if confirm is not None and not await confirm(started):
                # Another attempt holds the activation: no user code runs here,
                # and the container, untouched, stays in the pool.
                log.warning("%s: not run, the ledger shows another claim", accepted.activation_id)
                keep = True
                return
            try:
                container = await self.pool.resume(entry)
            except ContainerError as exc:
                # A blackbox action names its own image (``accepted.image``).
                building = isinstance(exc, ImageMissing) and runtimes.being_built(
                    entry.kind, self.settings.cache
                )
                error, fault = outcome.of_container_failure(exc, blackbox, entry.kind, building)
                await self._fail(accepted, attempt, error, fault)
                return
            try:
                action, api_key = await loading
            except (LookupError, StoreError) as exc:
                keep = True  # no user code ran in it
                message = ACTION_MISSING.format(error=exc)
                await self._fail(
                    accepted, attempt, error_response(constants.STATUS_WHISK_ERROR, message)
                )
                return
            execution = await runner.execute(
                entry,
                container,
                accepted,
                action,
                self.api_host,
                api_key,
                self.docker,
            )
            # Released before the event is written: a queued activation may start meanwhile.
            keep, released = execution.keep, True
            self.pool.release(entry, keep)
            done = completion.of_run(
                accepted,
                attempt,
                self.source,
                self.id,
                execution.result,
                start_ms=execution.start_ms,
                end_ms=execution.end_ms,
                logs=execution.logs,
                init_ms=execution.init_ms,
                timed_out=execution.timed_out,
                container=container.name,
            )
            await self._append(
                protocol.fit(done, constants.LEDGER_MESSAGE_MAX_BYTES, logs.now_stamp())
            )
        finally:
            loading.cancel()  # done by now, unless an early return left it
            if not released:
                self.pool.release(entry, keep)
