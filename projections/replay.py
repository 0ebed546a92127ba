"""Rebuild the activation projection from the ledger, and compare two projections field by field.

The rebuild reads ``activation-events`` from the oldest kept offset to the end
(as it stood when the rebuild began) and applies the events with the
projection writer's own code (``writer.project``: the same merge, the same
bulk upserts), a chunk of events at a time, into a fresh database. Because the
merge is idempotent and order-tolerant, chunking changes nothing: an
activation whose events straddle two chunks is merged with what the first
chunk stored.

``until_ms`` gives the projection as it stood at a past moment: only records
the log had received by then (their Kafka timestamp) are applied.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from projections import views
from projections.couch import Couch, JsonDict
from projections.writer import project
from streams.events import LedgerEvent
from streams.history import SEEK_SLACK_MS, LedgerReader, LogRecord
from streams.positions import Cursor
from streams.settings import Settings

CHUNK_EVENTS = 5_000
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

    @property
    def events_per_s(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


def selected(record: LogRecord, until_ms: int | None) -> bool:
    """Whether a record belongs to the projection as of ``until_ms`` (None: now)."""
    return until_ms is None or record.timestamp_ms <= until_ms


def total_of(start: Cursor, stop: Cursor) -> int:
    return sum(max(0, stop.get(p, o) - o) for p, o in start.items())


async def prepare_target(couch: Couch, db: str) -> None:
    """Create ``db`` with the activation views; refuse one that holds records already."""
    await couch.ensure(db)
    async for _doc in couch.all_docs(db, page=10):
        raise RebuildError(
            f"database {db} already holds activation records: rebuild into a fresh one "
            "(or drop it first)"
        )
    await couch.ensure_design(db, views.ACTIVATIONS_DDOC, views.ACTIVATIONS_VIEWS)


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
    read = applied = unreadable = late = 0
    ids: set[str] = set()
    pending: list[LedgerEvent] = []

    async def flush() -> None:
        nonlocal applied
        if pending:
            await project(couch, into, pending)
            applied += len(pending)
            pending.clear()

    async with LedgerReader(settings) as reader:
        beginning, stop = await reader.bounds()
        if until_ms is not None:
            # Timestamps are the producers' clocks: read a little past the moment.
            bound = await reader.offsets_at(until_ms + SEEK_SLACK_MS)
            stop = {p: min(o, bound.get(p, o)) for p, o in stop.items()}
        total = total_of(beginning, stop)
        async for batch in reader.read(beginning, stop):
            for record in batch:
                read += 1
                if not selected(record, until_ms):
                    late += 1
                    continue
                logged = record.decoded()
                if logged is None:
                    unreadable += 1
                    continue
                pending.append(logged.event)
                ids.add(logged.event.activation_id)
            if len(pending) >= chunk:
                await flush()
            if on_progress is not None:
                on_progress(Progress(read, total, applied, time.monotonic() - began))
        await flush()
    seconds = time.monotonic() - began
    if on_progress is not None:
        on_progress(Progress(read, total, applied, seconds))
    return Rebuilt(into, read, applied, unreadable, late, len(ids), seconds, stop)


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


async def verify(couch: Couch, live_db: str, rebuilt_db: str) -> Verified:
    """Compare every record of two projections, field by field (``_rev`` aside)."""
    compared = 0
    found: list[Difference] = []
    pairs = _merged(couch.all_docs(live_db, PAGE), couch.all_docs(rebuilt_db, PAGE))
    async for activation_id, live, rebuilt in pairs:
        compared += 1
        found.extend(record_differences(activation_id, live, rebuilt))
    return Verified(compared, found)
