"""The live half of event streams: one tail of the ledger per API process, fanned out.

The API already tails ``activation-events`` from its end to answer blocking
invokes (``api.ledger.Ledger``). The ``Hub`` rides on that tail: every record
it reads is decoded once and offered to every subscription whose selector
admits it. So a thousand open streams cost one Kafka fetch session and one
decode per event, not a thousand of each, and a new stream attaches without a
consumer start-up. The alternative, a consumer per subscriber, delivers a few
milliseconds sooner (no hop through the hub and its queue; measured side by
side in tests/integration/test_ledger_tail.py) but multiplies fetches, decodes
and broker connections by the number of subscribers. Streams that start in
the past do open a consumer of their own, only until they have caught up.

Backpressure: each subscription has a bounded queue. The hub never waits for
a reader: when a queue is full the subscription is marked *overflowed* and
gets nothing more. Its session then detaches and reads what it missed from the
log at its own pace (Kafka is the buffer), and attaches again when it has
caught up (see ``api.stream``). Memory per subscriber stays bounded and the
platform is never blocked; the client sees neither a gap nor a duplicate.

The seam between the past and the live part is exact because the hub keeps,
per partition, the offset after the last record it has dispatched
(``positions``), and ``subscribe`` snapshots it synchronously: every record at
or past the snapshot reaches the new subscription's queue, every record before
it is for the log reader to deliver.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from streams.events import STATE_RANK, ActivationAccepted, ActivationCompleted, LedgerEvent
from streams.history import LogRecord
from streams.positions import Cursor

log = logging.getLogger("ledgerwhisk.api.tail")

# Activation ids a selector remembers as matching its action filter.
REMEMBER_MAX = 10_000
QUEUE_MAX = 1_000
SHORT_TYPES = {t.split(".", 1)[1]: t for t in STATE_RANK}


def event_types(names: Iterable[str]) -> frozenset[str] | None:
    """Full type names from ``accepted`` or ``activation.accepted``; None if one is unknown."""
    out: set[str] = set()
    for name in names:
        name = name.strip()
        if not name:
            continue
        full = SHORT_TYPES.get(name, name)
        if full not in STATE_RANK:
            return None
        out.add(full)
    return frozenset(out)


@dataclass(frozen=True)
class Filter:
    """What a subscriber asked for; empty sets mean "any"."""

    namespace: str
    actions: frozenset[str] = frozenset()
    activation_ids: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()


def _action_matches(wanted: frozenset[str], name: str, path: str) -> bool:
    """``hello``/``pkg/hello`` match the name; ``/ns/pkg/hello`` or ``ns/pkg/hello`` the path."""
    return name in wanted or path in wanted or f"/{path}" in wanted


def _completed_path(event: ActivationCompleted) -> str:
    for a in event.annotations:
        if a.get("key") == "path" and isinstance(a.get("value"), str):
            return str(a["value"])
    return ""


class Selector:
    """Decides which events a subscriber sees (tenancy first, then its filter).

    Only ``accepted`` events name the action; a selector filtering by action
    remembers the ids it admitted so that their later events pass too, and
    reads a ``completed`` event's ``path`` annotation when it never saw the
    acceptance (a stream that starts after it).
    """

    def __init__(self, spec: Filter, remember: int = REMEMBER_MAX):
        self.spec = spec
        self._remember = remember
        self._known: OrderedDict[str, None] = OrderedDict()

    def visible(self, event: LedgerEvent) -> bool:
        """The stateless part: the subscriber's own namespace, and its activation ids."""
        spec = self.spec
        if event.namespace.split("/")[0] != spec.namespace:
            return False
        return not spec.activation_ids or event.activation_id in spec.activation_ids

    def admits(self, event: LedgerEvent) -> bool:
        """Everything, in log order (the action filter remembers what it admitted)."""
        if not self.visible(event):
            return False
        if self.spec.actions and not self._wanted_action(event):
            return False
        return not self.spec.types or event.type in self.spec.types

    def _wanted_action(self, event: LedgerEvent) -> bool:
        aid = event.activation_id
        if isinstance(event, ActivationAccepted):
            if not _action_matches(self.spec.actions, event.action_name, event.action):
                return False
            self._known[aid] = None
            if len(self._known) > self._remember:
                self._known.popitem(last=False)
            return True
        if aid in self._known:
            return True
        if isinstance(event, ActivationCompleted):
            path = _completed_path(event)
            return _action_matches(self.spec.actions, path.split("/", 1)[-1], path)
        return False


@dataclass(frozen=True)
class Delivery:
    """One event for one subscriber, with the cursor just past it."""

    event: LedgerEvent
    partition: int
    offset: int
    timestamp_ms: int
    cursor: Cursor


@dataclass(eq=False)
class Subscription:
    """A subscriber's bounded queue of live deliveries."""

    selector: Selector
    snapshot: Cursor
    limit: int = QUEUE_MAX
    overflowed: bool = False
    closed: bool = False
    queue: asyncio.Queue[Delivery | None] = field(default_factory=asyncio.Queue)

    def offer(self, delivery: Delivery) -> None:
        """Queue a delivery without ever waiting; past the limit, mark the overflow."""
        if self.overflowed or self.closed:
            return
        if self.queue.qsize() >= self.limit:
            self.overflowed = True
            self._wake()
            return
        self.queue.put_nowait(delivery)

    def close(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        # A None wakes a session waiting on an empty queue; the flags say why.
        self.queue.put_nowait(None)

    async def next(self, timeout_s: float) -> Delivery | None:
        """The next delivery; None on timeout, overflow or close (check the flags)."""
        if self.overflowed or self.closed:
            return None
        try:
            return await asyncio.wait_for(self.queue.get(), timeout_s)
        except TimeoutError:
            return None


class Record(Protocol):
    """What the hub needs of a consumed record (aiokafka's ConsumerRecord has it)."""

    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes
    headers: Any


class Hub:
    """Fans the API's ledger tail out to subscriptions."""

    def __init__(self, queue_max: int = QUEUE_MAX):
        self.queue_max = queue_max
        self.positions: Cursor = {}
        self._subscriptions: set[Subscription] = set()

    def begin(self, positions: Cursor) -> None:
        """Where the tail starts: the next offset it will read, per partition."""
        self.positions = dict(positions)

    def subscribe(self, selector: Selector) -> Subscription:
        """A new subscription receiving every admitted record from ``positions`` on."""
        sub = Subscription(selector, dict(self.positions), self.queue_max)
        self._subscriptions.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscriptions.discard(sub)

    def close(self) -> None:
        """End every subscription (the API is shutting down)."""
        for sub in self._subscriptions:
            sub.close()
        self._subscriptions.clear()

    def publish(self, records: Iterable[Record]) -> None:
        """Dispatch consumed records, in order; never waits."""
        for r in records:
            self.positions[r.partition] = r.offset + 1
            if not self._subscriptions:
                continue
            logged = LogRecord(
                r.partition, r.offset, r.timestamp, r.key, r.value, r.headers
            ).decoded()
            if logged is None:
                continue
            cursor: Cursor | None = None
            for sub in list(self._subscriptions):
                # Only the stateless part here: the session applies the rest in
                # log order, across the seam between the past and the live part.
                if sub.overflowed or not sub.selector.visible(logged.event):
                    continue
                cursor = cursor or dict(self.positions)
                sub.offer(
                    Delivery(logged.event, r.partition, r.offset, logged.timestamp_ms, cursor)
                )
