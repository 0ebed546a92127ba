"""Rebuild the activation projection from the ledger, and compare two projections field by field.

The rebuild reads ``activation-events`` from the oldest kept offset to the end
(as it stood when the rebuild began) and applies the events with the
projection writer's own code (``writer.project``: the same merge, the same
bulk upserts), a chunk of events at a time, into a fresh database. Because the
merge is idempotent and order-tolerant, chunking changes nothing: an
activation whose events straddle two chunks is merged with what the first
chunk stored.

Writing is cheap because the target is fresh and has no other writer: a
chunk's records are created in one ``_bulk_docs`` without reading anything
first; only the ids that already exist (an activation straddling two chunks:
the create conflicts) go through the writer's read-merge-write upsert. One
chunk is written while the next is read and folded, so memory stays at two
chunks whatever the length of the log.

``until_ms`` gives the projection as it stood at a past moment: only records
the log had received by then (their Kafka timestamp) are applied.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from projections import views
from projections.couch import Couch, JsonDict, StoreUnavailable
from projections.record import LEDGER_FIELD, apply_all
from projections.writer import project
from streams.events import ACCEPTED, LedgerEvent
from streams.history import SEEK_SLACK_MS, LedgerReader, LogRecord
from streams.ids import accepted_at_ms, now_ms
from streams.positions import Cursor
from streams.settings import Settings

CHUNK_EVENTS = 10_000
PAGE = 1_000
# Fields every store adds on its own: not part of a record's content.
STORE_FIELDS = frozenset({"_rev"})


class RebuildError(Exception):
    """The rebuild cannot start (e.g. the target database is not fresh)."""


@dataclass(frozen=True)
class Progress:
    """How far a rebuild is: log records read of the total, events applied."""

    read: int
    total: int
    applied: int
    elapsed_s: float


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild did."""

    database: str
    read: int
    applied: int
    unreadable: int
    after_until: int
    records: int
    seconds: float
    stop: Cursor
    # Retention deleted events before about this moment (None: the log is whole).
    horizon_ms: int | None = None

    @property
    def events_per_s(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


def selected(record: LogRecord, until_ms: int | None) -> bool:
    """Whether a record belongs to the projection as of ``until_ms`` (None: now)."""
    return until_ms is None or record.timestamp_ms <= until_ms


def horizon(beginning: Cursor, first_kept_ms: dict[int, int], now_ms: int) -> int | None:
    """Before when the log may no longer hold whole histories; None if it never deleted any.

    A partition whose oldest kept offset is past 0 lost its older events to
    retention; the first event it still holds says when (a partition that
    holds nothing at all lost everything up to now).
    """
    trimmed = [p for p, offset in beginning.items() if offset > 0]
    if not trimmed:
        return None
    return max(first_kept_ms.get(p, now_ms) for p in trimmed)


def comparable(activation_id: str, rebuilt: JsonDict | None, horizon_ms: int | None) -> bool:
    """Whether the log still holds the whole history of an activation, so records must agree.

    One partition holds all of an activation's events in order, and retention
    deletes the oldest: a rebuilt record with its ``accepted`` part lost
    nothing. A record the rebuild lacks entirely is comparable when its id says
    it was accepted after the horizon.
    """
    if horizon_ms is None:
        return True
    if rebuilt is not None:
        return ACCEPTED in rebuilt.get(LEDGER_FIELD, {}).get("parts", {})
    at = accepted_at_ms(activation_id)
    return at is None or at >= horizon_ms


def total_of(start: Cursor, stop: Cursor) -> int:
    return sum(max(0, stop.get(p, o) - o) for p, o in start.items())


def group(events: list[LedgerEvent]) -> dict[str, list[LedgerEvent]]:
    """Events by activation id, in their order."""
    by_id: dict[str, list[LedgerEvent]] = defaultdict(list)
    for event in events:
        by_id[event.activation_id].append(event)
    return by_id


def fresh_docs(by_id: dict[str, list[LedgerEvent]]) -> list[JsonDict]:
    """New documents for activations not stored yet (the writer's merge, from nothing)."""
    out = []
    for aid, evs in by_id.items():
        rec = apply_all(None, evs)
        if rec is not None:
            out.append({**rec, "_id": aid})
    return out


async def store(couch: Couch, db: str, events: list[LedgerEvent]) -> int:
    """Create the chunk's records, merge those that exist (conflicts) as the writer does.

    Returns how many records it created.
    """
    by_id = group(events)
    statuses = await couch.bulk_write(db, fresh_docs(by_id))
    failed = [s for s in statuses if s.get("error") and s.get("error") != "conflict"]
    if failed:
        raise StoreUnavailable(f"CouchDB refused writes to {db}: {failed[:3]}")
    existing = {s["id"] for s in statuses if s.get("error") == "conflict"}
    if existing:
        await project(couch, db, [e for aid in existing for e in by_id[aid]])
    return len(statuses) - len(existing)


async def prepare_target(couch: Couch, db: str) -> None:
    """Create ``db`` with the activation views; refuse one that holds records already."""
    await couch.ensure(db)
    async for _doc in couch.all_docs(db, page=10):
        raise RebuildError(
            f"database {db} already holds activation records: rebuild into a fresh one "
            "(or drop it first)"
        )
    await couch.ensure_design(db, views.ACTIVATIONS_DDOC, views.ACTIVATIONS_VIEWS)


class _Rebuild:
    """The state of one rebuild: counters, the chunk being read, the chunk being written."""

    def __init__(self, couch: Couch, into: str, until_ms: int | None, chunk: int):
        self.couch, self.into, self.until_ms, self.chunk = couch, into, until_ms, chunk
        self.read = self.applied = self.unreadable = self.late = self.records = 0
        self.pending: list[LedgerEvent] = []
        self.writing: asyncio.Task[int] | None = None
        self.first_kept_ms: dict[int, int] = {}

    def take(self, record: LogRecord) -> None:
        self.read += 1
        self.first_kept_ms.setdefault(record.partition, record.timestamp_ms)
        if not selected(record, self.until_ms):
            self.late += 1
            return
        logged = record.decoded()
        if logged is None:
            self.unreadable += 1
            return
        self.pending.append(logged.event)

    async def flush(self, force: bool = False) -> None:
        """Start writing the pending chunk once the previous one is written."""
        if not force and len(self.pending) < self.chunk:
            return
        await self.settle()
        if self.pending:
            events, self.pending = self.pending, []
            self.writing = asyncio.create_task(store(self.couch, self.into, events))
            self.applied += len(events)

    async def settle(self) -> None:
        if self.writing is not None:
            writing, self.writing = self.writing, None
            self.records += await writing

    def abandon(self) -> None:
        if self.writing is not None:
            self.writing.cancel()


async def rebuild(
    settings: Settings,
    couch: Couch,
    into: str,
    until_ms: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    chunk: int = CHUNK_EVENTS,
) -> Rebuilt:
    """Rebuild the activation projection from the ledger into the fresh database ``into``."""
    await prepare_target(couch, into)
    began = time.monotonic()
    work = _Rebuild(couch, into, until_ms, chunk)

    def report() -> None:
        if on_progress is not None:
            on_progress(Progress(work.read, total, work.applied, time.monotonic() - began))

    try:
        async with LedgerReader(settings) as reader:
            beginning, stop = await reader.bounds()
            if until_ms is not None:
                # Timestamps are the producers' clocks: read a little past the moment.
                bound = await reader.offsets_at(until_ms + SEEK_SLACK_MS)
                stop = {p: min(o, bound.get(p, o)) for p, o in stop.items()}
            total = total_of(beginning, stop)
            async for batch in reader.read(beginning, stop):
                for record in batch:
                    work.take(record)
                await work.flush()
                report()
        await work.flush(force=True)
        await work.settle()
    finally:
        work.abandon()
    report()
    return Rebuilt(
        into,
        work.read,
        work.applied,
        work.unreadable,
        work.late,
        work.records,
        time.monotonic() - began,
        stop,
        horizon(beginning, work.first_kept_ms, now_ms()),
    )


async def index_views(couch: Couch, db: str) -> float:
    """Build the activation views' indexes now (a first query builds them); returns seconds.

    Without this, the first listing the API serves from a rebuilt database
    waits for the whole index to be built and may time out.
    """
    began = time.monotonic()
    for name in views.ACTIVATIONS_VIEWS:
        await couch.view(db, views.ACTIVATIONS_DDOC, name, limit=1)
    return time.monotonic() - began


# -- verification ------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One field of one record that differs between two projections."""

    activation_id: str
    field: str
    live: Any
    rebuilt: Any

    def __str__(self) -> str:
        return f"{self.activation_id} {self.field}: live={self.live!r} rebuilt={self.rebuilt!r}"


MISSING = "<missing>"


def _flat(doc: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths of a document's leaves (objects are walked; lists are leaves)."""
    if not isinstance(doc, dict) or (prefix and not doc):
        return {prefix: doc}
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if not prefix and key in STORE_FIELDS:
            continue
        out.update(_flat(value, f"{prefix}.{key}" if prefix else key))
    return out


def record_differences(
    activation_id: str, live: JsonDict | None, rebuilt: JsonDict | None
) -> list[Difference]:
    """Field-by-field differences between the live and the rebuilt record of one activation."""
    if live is None or rebuilt is None:
        return [
            Difference(
                activation_id,
                "(record)",
                MISSING if live is None else "present",
                MISSING if rebuilt is None else "present",
            )
        ]
    a, b = _flat(live), _flat(rebuilt)
    return [
        Difference(activation_id, key, a.get(key, MISSING), b.get(key, MISSING))
        for key in sorted(set(a) | set(b))
        if a.get(key, MISSING) != b.get(key, MISSING)
    ]


async def _merged(
    left: AsyncIterator[JsonDict], right: AsyncIterator[JsonDict]
) -> AsyncIterator[tuple[str, JsonDict | None, JsonDict | None]]:
    """Join two id-ordered document streams on ``_id`` (memory: one page each)."""
    a = await anext(left, None)
    b = await anext(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a["_id"] < b["_id"]):
            assert a is not None
            yield a["_id"], a, None
            a = await anext(left, None)
        elif a is None or b["_id"] < a["_id"]:
            yield b["_id"], None, b
            b = await anext(right, None)
        else:
            yield a["_id"], a, b
            a, b = await anext(left, None), await anext(right, None)


@dataclass(frozen=True)
class Verified:
    compared: int
    differences: list[Difference]
    # Records not compared: retention removed part of their history from the log.
    expired: int = 0


async def verify(
    couch: Couch, live_db: str, rebuilt_db: str, horizon_ms: int | None = None
) -> Verified:
    """Compare the records of two projections field by field (``_rev`` aside).

    With a ``horizon_ms`` (see ``horizon``), records whose history the log no
    longer holds whole are counted apart instead of compared.
    """
    compared = expired = 0
    found: list[Difference] = []
    pairs = _merged(couch.all_docs(live_db, PAGE), couch.all_docs(rebuilt_db, PAGE))
    async for activation_id, live, rebuilt in pairs:
        if not comparable(activation_id, rebuilt, horizon_ms):
            expired += 1
            continue
        compared += 1
        found.extend(record_differences(activation_id, live, rebuilt))
    return Verified(compared, found, expired)
