"""The feed service (``python -m feeds.service``): runs every live feed registration.

It follows the registrations in CouchDB (``feeds/store.py``: everything at
start, then ``_changes``) and runs one task per live registration, an
``AlarmRunner`` (feeds/timer.py) or a ``KafkaRunner`` (feeds/consumer.py); a
changed registration's task is stopped, waited for, and started again with
the new document; a deleted one's state is removed, and so is the state of
one a CREATE replaced (a new ``uuid`` under the same id).

A plain asyncio service, not a Faust app: a Faust app consumes the
platform's own topics through one consumer group, while a Kafka feed reads
a user's topic, on the user's brokers, through a consumer group of its own,
and commits only after a REST call; alarms read no topic at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from feeds.client import PlatformClient
from feeds.consumer import KafkaRunner
from feeds.firing import retry_delay_s
from feeds.store import FeedStore
from feeds.timer import AlarmRunner
from store.couch import Couch, StoreUnavailable
from streams import gctune, worker
from streams.settings import Settings

log = logging.getLogger("ledgerwhisk.feeds")
JsonDict = dict[str, Any]
STOP_WAIT_S = 30.0


@dataclass
class Running:
    """One registration's task: the document it runs and how to stop it."""

    registration: JsonDict
    stop: asyncio.Event
    task: asyncio.Task[None]


class FeedService:
    """Keeps one task per live registration, in step with the registrations database."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.couch = Couch(settings)
        self.store = FeedStore(self.couch, settings)
        self.running: dict[str, Running] = {}
        # Each registration id's latest uuid, running or paused: whose state to forget.
        self.uuids: dict[str, str] = {}
        self.closing = asyncio.Event()

    async def run(self) -> None:
        async with aiohttp.ClientSession() as session:
            self.client = PlatformClient(session, self.couch, self.settings)
            since = await self._start(session)
            log.info("feeds: ready (%d registrations running)", len(self.running))
            gctune.settle()
            follow = asyncio.create_task(self._follow(session, since))
            await self.closing.wait()
            follow.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follow
            await self._stop_all()
        await self.couch.close()

    async def _start(self, session: aiohttp.ClientSession) -> str:
        attempt = 0
        while True:
            try:
                await self.store.ensure()
                since = await self.store.update_seq(session)
                registrations = await self.store.all_registrations()
                known = {r["uuid"] for r in registrations}
                for state in await self.store.all_states():
                    if state["_id"] not in known:
                        await self.store.delete_state(state["_id"])
                break
            except StoreUnavailable as exc:
                attempt += 1
                log.warning("feeds: %s; trying again", exc)
                await asyncio.sleep(retry_delay_s(attempt))
        for doc in registrations:
            self.apply(doc)
        return since

    async def _follow(self, session: aiohttp.ClientSession, since: str) -> None:
        attempt = 0
        while True:
            try:
                rows, since = await self.store.changes(session, since)
                attempt = 0
            except StoreUnavailable as exc:
                attempt += 1
                log.warning("feeds: following registrations: %s; trying again", exc)
                await asyncio.sleep(retry_delay_s(attempt))
                continue
            for row in rows:
                if row.get("deleted"):
                    self.remove(row["id"])
                elif row.get("doc") and not row["id"].startswith("_design/"):
                    self.apply(row["doc"])

    # -- deciding what runs -----------------------------------------------------
    def apply(self, doc: JsonDict) -> None:
        """Run ``doc`` (a new revision replaces the running one; a paused one stops)."""
        current = self.running.get(doc["_id"])
        if current is not None and current.registration.get("_rev") == doc.get("_rev"):
            return
        before = self._stop(doc["_id"])
        replaced = self.uuids.get(doc["_id"])
        self.uuids[doc["_id"]] = doc["uuid"]
        if replaced is not None and replaced != doc["uuid"]:
            # A CREATE over the registration: the old one's state is nobody's now.
            before = self._forget(before, replaced, f"/{doc['_id']} was replaced")
        if doc.get("paused"):
            log.info("feeds: /%s is paused", doc["_id"])
            if before is not None:
                self.running[doc["_id"]] = Running(doc, asyncio.Event(), before)
            return
        stop = asyncio.Event()
        runner = self._runner(doc, stop)
        task = asyncio.create_task(self._supervise(doc, stop, runner, before))
        self.running[doc["_id"]] = Running(doc, stop, task)

    def remove(self, registration_id: str) -> None:
        """The registration was deleted: stop its task, then forget its state."""
        before = self._stop(registration_id)
        uuid = self.uuids.pop(registration_id, None)
        if uuid is None:
            return
        forget = self._forget(before, uuid, f"/{registration_id} was deleted")
        self.running[registration_id] = Running(
            {"_id": registration_id, "uuid": uuid}, asyncio.Event(), forget
        )

    def _forget(self, before: asyncio.Task[None] | None, uuid: str, why: str) -> asyncio.Task[None]:
        """A task deleting the state ``uuid`` once ``before`` (its runner) has ended."""

        async def forget() -> None:
            await self._wait(before)
            with contextlib.suppress(StoreUnavailable):
                await self.store.delete_state(uuid)
            log.info("feeds: %s", why)

        return asyncio.create_task(forget())

    def _runner(self, doc: JsonDict, stop: asyncio.Event) -> Callable[[], Awaitable[None]]:
        if doc["provider"] == "kafka":
            return KafkaRunner(doc, self.store, self.client, stop, self.settings).run
        return AlarmRunner(doc, self.store, self.client, stop).run

    def _stop(self, registration_id: str) -> asyncio.Task[None] | None:
        current = self.running.pop(registration_id, None)
        if current is None:
            return None
        current.stop.set()
        return current.task

    async def _wait(self, task: asyncio.Task[None] | None) -> None:
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_WAIT_S)
        except TimeoutError:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def _supervise(
        self,
        doc: JsonDict,
        stop: asyncio.Event,
        runner: Callable[[], Awaitable[None]],
        before: asyncio.Task[None] | None,
    ) -> None:
        """Run one registration after its previous task ended; a failure is logged and the
        runner starts again after a back-off (its state is in CouchDB)."""
        await self._wait(before)
        attempt = 0
        while not stop.is_set():
            try:
                log.info("feeds: running /%s (%s)", doc["_id"], doc["feed"])
                await runner()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                attempt += 1
                log.exception("feeds: /%s failed; starting it again", doc["_id"])
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), retry_delay_s(attempt))

    async def _stop_all(self) -> None:
        tasks = [self._stop(i) for i in list(self.running)]
        await asyncio.gather(*(self._wait(t) for t in tasks))


def main() -> None:
    worker.serve(FeedService)


if __name__ == "__main__":
    main()
