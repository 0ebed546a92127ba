"""Runs one alarm registration: waits for each due moment and fires (feeds/alarms.py decides).

Before a fire its id and due moment are stored as ``pending``; after the
answer, the next due moment. A service that dies in between finds the
``pending`` fire on return and fires it again with the same id: the API
starts nothing for an id the ledger already holds (api/triggers.py), so a
due moment fires at most once. A moment missed while the service was down
fires once, late (``alarms.after_fire``). A schedule whose next moment cannot
be computed (``feeds/schedule.py`` ``Unschedulable``: a cron no date matches,
a date past year 9999, stored before CREATE refused them) ends the
registration with the reason READ shows, as OpenWhisk's provider disables a
trigger it cannot start (``provider/lib/utils.js``); it is never retried.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from feeds import alarms
from feeds import registration as reg
from feeds.client import PlatformClient
from feeds.firing import FeedFire, Outcome
from feeds.schedule import Unschedulable
from feeds.store import FeedStore
from streams.ids import new_activation_id, now_ms
from streams.messages import (
    FEED_ENDED_BY_STATUS,
    FEED_ENDED_ON_CREATION,
    FEED_ENDED_ON_SCHEDULING,
)

log = logging.getLogger("ledgerwhisk.feeds.timer")
JsonDict = dict[str, Any]
# A wait longer than this is taken in steps (a due moment years away is still waited
# for, without handing the event loop a timeout it cannot hold).
LONGEST_WAIT_S = 86_400.0


class AlarmRunner:
    """One alarm registration's loop, until it ends or ``stop`` is set."""

    def __init__(
        self,
        registration: JsonDict,
        store: FeedStore,
        client: PlatformClient,
        stop: asyncio.Event,
    ):
        self.registration = registration
        self.config = registration["config"]
        self.store = store
        self.client = client
        self.stop = stop
        self.name = f"/{registration['_id']}"

    async def run(self) -> None:
        stored = await self.store.state(self.registration["uuid"])
        if not reg.is_live(self.registration, stored):
            return
        state = reg.current_state(self.registration, stored)
        if state["pending"]:
            settled = await self._fire(state, state["pending"])
            if settled is None or settled["ended"]:
                return
            state = settled
        if state["next_ms"] is None:
            try:
                due, why = alarms.first_due(self.config, self.registration["changed_ms"])
            except Unschedulable as exc:
                due, why = None, FEED_ENDED_ON_CREATION.format(error=exc)
            state = {**state, "next_ms": due}
            if due is None:
                state = reg.ended(state, now_ms(), str(why))
            state = await self.store.put_state(state)
            if due is None:
                log.info("feeds: %s ends: %s", self.name, why)
                return
        while not self.stop.is_set():
            delay_s = (state["next_ms"] - now_ms()) / 1000
            if delay_s > 0:
                try:
                    await asyncio.wait_for(self.stop.wait(), min(delay_s, LONGEST_WAIT_S))
                    return
                except TimeoutError:
                    continue
            pending = {"fire_id": new_activation_id(), "due_ms": state["next_ms"]}
            state = await self.store.put_state(reg.with_pending(state, pending))
            settled = await self._fire(state, pending)
            if settled is None or settled["ended"]:
                return
            state = settled

    async def _fire(self, state: JsonDict, pending: JsonDict) -> JsonDict | None:
        """Fire ``pending`` until settled; the state stored after it (None when stopped)."""
        fire = FeedFire(pending["fire_id"], self.registration["cause"], self.registration["feed"])
        answer = await self.client.fire(self.registration, self.config["payload"], fire, self.stop)
        if answer is None:
            return None
        outcome, status = answer
        now = now_ms()
        if outcome is Outcome.ENDS:
            log.info("feeds: %s ends: its fire was answered %d", self.name, status)
            ended = reg.ended(state, now, FEED_ENDED_BY_STATUS.format(status=status), status)
            return await self.store.put_state(ended)
        log.info("feeds: %s fired (%s, HTTP %d)", self.name, fire.fire_id, status)
        try:
            due, why = alarms.after_fire(self.config, pending["due_ms"], now, state["fired"] + 1)
        except Unschedulable as exc:
            due, why = None, FEED_ENDED_ON_SCHEDULING.format(error=exc)
        state = reg.after_fire(state, due)
        if due is None:
            state = reg.ended(state, now, str(why))
            log.info("feeds: %s ends: %s", self.name, why)
        state = await self.store.put_state(state)
        after = self.config.get("deleteAfterFire", "false")
        if self.config["kind"] == alarms.ONCE and after != "false":
            await self.client.delete_trigger(self.registration, with_rules=after == "rules")
            await self.store.delete_registration(self.registration["_id"])
        return state
