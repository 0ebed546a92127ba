"""Rebuild the activation projection from the ledger (``projections.compare`` checks the result).

The rebuild reads ``activation-events`` from the oldest kept offset to the end
(as it stood when the rebuild began) and applies the events with the
projection writer's own merge (``projections.record``) into a fresh database,
a thousand records per write. Because the merge is idempotent and
order-tolerant, how the events are split between writes changes nothing: an
activation written in two goes is merged with what the first one stored
(``writer.project``, the writer's read-merge-write).

Writing is cheap because the target is fresh and has no other writer: records
are created in ``_bulk_docs`` without reading anything first. An activation's
record is written once its ``completed`` has been read, so it is created whole
in one write: from that event alone when it carries a ``head``, as the live
writer does (the other events are not even decoded), else merged with the
activation's earlier events. A duplicate read later goes through the writer's
read-merge-write when the create conflicts. An activation not completed by the
cut gets no record, as in the live projection (``unfinished``). Up to two
writes are in flight while the next records are read and folded, so CouchDB
and the reader work side by side; memory holds the records of activations in
flight at any point of the log, not the log.

``until_ms`` gives the projection as it stood at a past moment: only records
the log had received by then (their Kafka timestamp) are applied.

The rebuild reads the log up to a *cut* (``Rebuilt.stop``, the end of every
partition when it began); ``projections.compare`` compares with the live
projection only what the cut covers. A rebuild that fails or is interrupted
drops the database it created, so no half-built projection is left behind.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

from projections.record import apply_all, standalone
from projections.writer import project
from store import views
from store.couch import Couch, JsonDict, StoreUnavailable
from streams.events import COMPLETED, HEADER_TYPE, LedgerEvent, header
from streams.history import SEEK_SLACK_MS, LedgerReader, LogRecord
from streams.ids import now_ms
from streams.positions import Cursor
from streams.settings import Settings

# Records per _bulk_docs write, writes in flight.
CHUNK_RECORDS = 1_000
WRITES_IN_FLIGHT = 2


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
    # Events the log received after ``until_ms``: all of them, read or not.
    after_until: int
    records: int
    seconds: float
    stop: Cursor
    # Activations not completed by the cut (no record, as in the live projection).
    unfinished: int = 0
    # Retention deleted events before about this moment (None: the log is whole).
    horizon_ms: int | None = None

    @property
    def events_per_s(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


def selected(record: LogRecord, until_ms: int | None) -> bool:
    """Whether a record belongs to the projection as of ``until_ms`` (None: now)."""
    return until_ms is None or record.timestamp_ms <= until_ms


def horizon(beginning: Cursor, first_kept_ms: dict[int, int], now: int) -> int | None:
    """Before when the log may no longer hold whole histories; None if it never deleted any.

    A partition whose oldest kept offset is past 0 lost its older events to
    retention; the first event it still holds says when (a partition that
    holds nothing at all lost everything up to now).
    """
    trimmed = [p for p, offset in beginning.items() if offset > 0]
    if not trimmed:
        return None
    return max(first_kept_ms.get(p, now) for p in trimmed)


def total_of(start: Cursor, stop: Cursor) -> int:
    return sum(max(0, stop.get(p, o) - o) for p, o in start.items())


def fresh_docs(by_id: dict[str, list[LedgerEvent]]) -> list[JsonDict]:
    """New documents for activations not stored yet (the writer's merge, from nothing)."""
    out = []
    for aid, evs in by_id.items():
        rec = apply_all(None, evs)
        if rec is not None:
            out.append({**rec, "_id": aid})
    return out


async def store(couch: Couch, db: str, by_id: dict[str, list[LedgerEvent]]) -> int:
    """Create these activations' records; merge those that exist (conflicts) as the writer does.

    Returns how many records it created.
    """
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
    """The state of one rebuild: counters, open and completed activations, writes in flight."""

    def __init__(self, couch: Couch, into: str, until_ms: int | None, chunk: int):
        self.couch, self.into, self.until_ms = couch, into, until_ms
        self.chunk = chunk
        self.read = self.applied = self.unreadable = self.late = self.records = 0
        self.unfinished = 0
        # Activations by id: those whose completion is not read yet (their records,
        # decoded only should the completion not carry a head), and those ready to write.
        self.open: dict[str, list[LogRecord]] = {}
        self.ready: dict[str, list[LedgerEvent]] = {}
        self.writing: set[asyncio.Task[int]] = set()
        self.first_kept_ms: dict[int, int] = {}

    def take(self, record: LogRecord) -> None:
        self.read += 1
        self.first_kept_ms.setdefault(record.partition, record.timestamp_ms)
        if not selected(record, self.until_ms):
            self.late += 1
            return
        kind = header(record.headers, HEADER_TYPE)
        if kind is not None and kind != COMPLETED and record.key is not None:
            # Not decoded unless its completion turns out to need it (it has no head).
            aid = record.key.decode("utf-8", "replace")
            waiting = self.ready.get(aid)
            if waiting is None:
                self.open.setdefault(aid, []).append(record)
            elif not standalone(waiting[0]):
                self._append_decoded(waiting, record)
            return
        logged = record.decoded()
        if logged is None:
            self.unreadable += 1
            return
        event = logged.event
        aid = event.activation_id
        waiting = self.ready.get(aid)
        if waiting is not None:
            if event.type == COMPLETED or not standalone(waiting[0]):
                waiting.append(event)
            return
        if standalone(event):
            # The live writer projects such a completion alone: so does the rebuild.
            self.open.pop(aid, None)
            self.ready[aid] = [event]
        elif event.type == COMPLETED:
            earlier: list[LedgerEvent] = []
            for raw in self.open.pop(aid, []):
                self._append_decoded(earlier, raw)
            self.ready[aid] = [*earlier, event]
        else:
            self.open.setdefault(aid, []).append(record)

    def _append_decoded(self, events: list[LedgerEvent], record: LogRecord) -> None:
        logged = record.decoded()
        if logged is None:
            self.unreadable += 1
        else:
            events.append(logged.event)

    async def flush(self, force: bool = False) -> None:
        """Write what is ready, a chunk at a time; everything when ``force``."""
        if force:
            # Not completed by the cut: no record, as in the live projection.
            self.unfinished += len(self.open)
            self.open.clear()
        while len(self.ready) >= self.chunk or (force and self.ready):
            ids = list(itertools.islice(self.ready, self.chunk))
            by_id = {aid: self.ready.pop(aid) for aid in ids}
            await self._room()
            self.writing.add(asyncio.create_task(store(self.couch, self.into, by_id)))
            self.applied += sum(len(evs) for evs in by_id.values())

    async def _room(self) -> None:
        while len(self.writing) >= WRITES_IN_FLIGHT:
            done, self.writing = await asyncio.wait(
                self.writing, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                self.records += task.result()  # a failed write ends the rebuild

    async def settle(self) -> None:
        while self.writing:
            task = self.writing.pop()
            self.records += await task

    def abandon(self) -> None:
        for task in self.writing:
            task.cancel()


async def rebuild(
    settings: Settings,
    couch: Couch,
    into: str,
    until_ms: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    chunk: int = CHUNK_RECORDS,
) -> Rebuilt:
    """Rebuild the activation projection from the ledger into the fresh database ``into``.

    Raises ``RebuildError`` when ``into`` holds records already, and passes
    on ``StoreError`` and ``LedgerUnavailable``; whatever ends it early
    (an error, a cancellation) drops ``into`` when this call created it.
    """
    created = await couch.doc_count(into) is None
    await prepare_target(couch, into)
    try:
        return await _rebuild(settings, couch, into, until_ms, on_progress, chunk)
    except BaseException:
        if created:
            await asyncio.shield(couch.drop(into))
        raise


async def _rebuild(
    settings: Settings,
    couch: Couch,
    into: str,
    until_ms: int | None,
    on_progress: Callable[[Progress], None] | None,
    chunk: int,
) -> Rebuilt:
    began = time.monotonic()
    work = _Rebuild(couch, into, until_ms, chunk)

    def report() -> None:
        if on_progress is not None:
            on_progress(Progress(work.read, total, work.applied, time.monotonic() - began))

    try:
        async with LedgerReader(settings) as reader:
            beginning, stop = await reader.bounds()
            end = dict(stop)
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
        # Read and left out (the seek slack), and never read: past the slack.
        work.late + total_of(stop, end),
        work.records,
        time.monotonic() - began,
        stop,
        work.unfinished,
        horizon(beginning, work.first_kept_ms, now_ms()),
    )


async def index_views(
    couch: Couch, db: str, on_view: Callable[[str, int, int], None] | None = None
) -> float:
    """Build the activation views' indexes now (a first query builds them); returns seconds.

    Without this, the first listing the API serves from a rebuilt database
    waits for the whole index to be built and may time out. ``on_view(name,
    done, total)`` is called before each view and once at the end (CouchDB
    tells nothing of an index's progress while it builds).
    """
    began = time.monotonic()
    names = list(views.ACTIVATIONS_VIEWS)
    for done, name in enumerate(names):
        if on_view is not None:
            on_view(name, done, len(names))
        await couch.view(db, views.ACTIVATIONS_DDOC, name, limit=1, reduce=False)
    if on_view is not None:
        on_view("", len(names), len(names))
    return time.monotonic() - began
