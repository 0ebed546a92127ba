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

from streams.events import (
    STATE_RANK,
    ActivationAccepted,
    ActivationCompleted,
    ActivationScheduled,
    LedgerEvent,
)
from streams.history import LogRecord
from streams.positions import Cursor

log = logging.getLogger("ledgerwhisk.api.tail")

# Activations in flight a selector filtering by action remembers its verdict on.
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
    """What a subscriber asked for; empty sets mean "any".

    ``actions`` holds names as ``api.ledgerview.action_spec`` gives them: a
    name filter of OpenWhisk's activation list (``hello``, ``pkg/hello``,
    ``binding/hello``) or a full path without its leading slash
    (``ns/pkg/hello``).
    """

    namespace: str
    actions: frozenset[str] = frozenset()
    activation_ids: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()


def _annotation(annotations: Iterable[dict[str, Any]], key: str) -> str | None:
    for a in annotations:
        if a.get("key") == key and isinstance(a.get("value"), str):
            return str(a["value"])
    return None


def action_names(path: str, name: str, binding: str | None = None) -> frozenset[str]:
    """Every name an action filter knows one activation by (pure).

    ``path`` is the action's path without the leading slash (``ns/hello``,
    ``ns/pkg/hello``), ``name`` its simple name, ``binding`` the ``binding``
    annotation (``ns/bind``) of an activation that ran through a binding.
    The result holds the name the activation list's ``name`` filter matches
    (OpenWhisk's ``pathFilter``: ``hello``; ``pkg/hello`` in a package;
    ``bind/hello`` through a binding, and then not ``pkg/hello``; the view
    ``byName`` in store/views.py and apache/openwhisk
    ansible/files/whisks_design_document_for_activations_db_filters_v2.1.1.json),
    and the full paths: the action's, and through a binding the binding's.

    >>> sorted(action_names("guest/pkg/hello", "hello", "guest/bind"))
    ['bind/hello', 'guest/bind/hello', 'guest/pkg/hello']
    """
    name = name or path.rsplit("/", 1)[-1]
    names = {path} if path else set()
    segments = path.split("/")
    if binding:
        names.add(f"{binding}/{name}")
        names.add(f"{binding.split('/')[-1]}/{name}")
    elif len(segments) == 3:
        names.add(f"{segments[1]}/{name}")
    else:
        names.add(name)
    return frozenset(names)


def _names_of(event: LedgerEvent) -> frozenset[str] | None:
    """The names of the action an event's activation ran, when the event says (pure).

    ``accepted`` says, ``scheduled`` when it carries its acceptance, and
    ``completed`` by its ``head`` or, without one, its ``path`` annotation
    (no binding then: a record written before heads existed). ``started``
    never says: None.
    """
    if isinstance(event, ActivationScheduled) and event.accepted is not None:
        event = event.accepted
    if isinstance(event, ActivationAccepted):
        binding = _annotation(event.annotations, "binding")
        return action_names(event.action, event.action_name, binding)
    if isinstance(event, ActivationCompleted):
        if event.head is not None:
            head = event.head
            binding = _annotation(head.annotations, "binding")
            return action_names(head.action, head.action_name, binding)
        path = _annotation(event.annotations, "path")
        if path:
            return action_names(path, "", _annotation(event.annotations, "binding"))
    return None


class Selector:
    """Decides which events a subscriber sees (tenancy first, then its filter).

    Only some events name the action (``_names_of``): ``started`` never does,
    ``scheduled`` not always. A selector filtering by action remembers its
    verdict on every activation it saw accepted until that activation
    completes (so memory holds the activations in flight, bounded by
    ``remember``). For an event it cannot decide, one of an activation
    accepted before the stream's start (a ``Last-Event-ID`` or ``since``
    between its ``accepted`` and its ``started``) or forgotten, ``admits``
    answers None: the session reads that activation's acceptance from the
    log, hands it to ``learn`` and asks again.
    """

    def __init__(self, spec: Filter, remember: int = REMEMBER_MAX):
        self.spec = spec
        self._remember = remember
        # Activation id -> whether its action is wanted, while it is in flight.
        self._known: OrderedDict[str, bool] = OrderedDict()

    def visible(self, event: LedgerEvent) -> bool:
        """The stateless part: the subscriber's own namespace, and its activation ids."""
        spec = self.spec
        if event.namespace.split("/")[0] != spec.namespace:
            return False
        return not spec.activation_ids or event.activation_id in spec.activation_ids

    def admits(self, event: LedgerEvent) -> bool | None:
        """Whether the subscriber gets ``event``; None: only its activation's acceptance can tell.

        Call it for every event, in log order (the action filter remembers
        what it saw, also of events whose type is filtered out).
        """
        if not self.visible(event):
            return False
        wanted: bool | None = True
        if self.spec.actions:
            wanted = self._wanted_action(event)
        if self.spec.types and event.type not in self.spec.types:
            return False
        return wanted

    def learn(self, activation_id: str, accepted: ActivationAccepted | None) -> None:
        """The acceptance of an activation ``admits`` could not decide (None: not found)."""
        names = _names_of(accepted) if accepted is not None else None
        self._keep(activation_id, names is not None and not names.isdisjoint(self.spec.actions))

    def _keep(self, activation_id: str, wanted: bool) -> None:
        self._known[activation_id] = wanted
        self._known.move_to_end(activation_id)
        if len(self._known) > self._remember:
            self._known.popitem(last=False)

    def _wanted_action(self, event: LedgerEvent) -> bool | None:
        aid = event.activation_id
        names = _names_of(event)
        if isinstance(event, ActivationCompleted):
            # The last event of an activation: decided, and forgotten.
            known = self._known.pop(aid, None)
            if event.head is None and known is not None:
                return known  # the acceptance said more than a path annotation does
            return names is not None and not names.isdisjoint(self.spec.actions)
        if names is not None:
            wanted = not names.isdisjoint(self.spec.actions)
            self._keep(aid, wanted)
            return wanted
        return self._known.get(aid)


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
