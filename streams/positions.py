"""Positions in the ledger: cursors (partition -> next offset) and ``since`` specs. Pure.

A *cursor* names, for every partition of ``activation-events``, the offset of
the next record a reader has not consumed yet. It is what an event stream puts
in its SSE ``id`` (``"0:12,1:40,2:7,3:9"``), so a client that reconnects with
``Last-Event-ID`` resumes exactly where it stopped: no gap, no duplicate.

A *since* spec says where a reader starts:

- a time: ISO 8601 (``2024-05-01T12:00:00Z``; no zone means UTC), epoch
  milliseconds (``1714564800000``), or relative to now (``90s``, ``10m``,
  ``2h``, ``1d``, ``1w``);
- offsets: a cursor (``0:12,1:40``; partitions it does not name start at the
  live end), ``earliest`` (the oldest event kept) or ``now`` (live only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

Cursor = dict[int, int]

# Digits are ASCII only, and an offset fits Kafka's 64-bit offsets.
CURSOR_RE = re.compile(r"\A\d{1,18}:\d{1,18}(,\d{1,18}:\d{1,18})*\Z", re.ASCII)
RELATIVE_RE = re.compile(r"\A(\d{1,15})(ms|s|m|h|d|w)\Z", re.ASCII)
EPOCH_MS_RE = re.compile(r"\A\d{1,15}\Z", re.ASCII)
# The latest moment ``since`` may name: the end of year 9999, in epoch milliseconds.
EPOCH_MAX_MS = 253_402_300_799_999
UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
EARLIEST = frozenset({"earliest", "beginning", "start"})
NOW = frozenset({"now", "latest", "end", "live"})


@dataclass(frozen=True)
class FromTime:
    """Start at the first event appended at or after ``at_ms``."""

    at_ms: int


@dataclass(frozen=True)
class FromCursor:
    """Start at these offsets; partitions not named start at the live end."""

    cursor: Cursor


@dataclass(frozen=True)
class FromEarliest:
    """Start at the oldest event the ledger still keeps."""


@dataclass(frozen=True)
class FromNow:
    """Live only: start where the log ends when the reader subscribes."""


Since = FromTime | FromCursor | FromEarliest | FromNow


def encode_cursor(cursor: Cursor) -> str:
    """``{0: 12, 1: 40}`` -> ``"0:12,1:40"``."""
    return ",".join(f"{p}:{o}" for p, o in sorted(cursor.items()))


def decode_cursor(text: str) -> Cursor | None:
    """The cursor ``text`` spells, or None when it is not one."""
    cursor: Cursor = {}
    for item in text.strip().split(","):
        partition, sep, offset = item.strip().partition(":")
        if not sep or not CURSOR_RE.match(f"{partition}:{offset}"):
            return None
        cursor[int(partition)] = int(offset)
    return cursor or None


def parse_time(text: str, now_ms: int) -> int | None:
    """Epoch milliseconds of an ISO time, epoch ms or relative time; None when none of those.

    A moment before the epoch is the epoch; one after the year 9999 is None.
    """
    text = text.strip()
    if EPOCH_MS_RE.match(text):
        at = int(text)
    elif relative := RELATIVE_RE.match(text):
        at = now_ms - int(relative.group(1)) * UNIT_MS[relative.group(2)]
    else:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        at = int(moment.timestamp() * 1000)
    return max(0, at) if at <= EPOCH_MAX_MS else None


def parse_since(text: str | None, now_ms: int) -> Since | None:
    """What a ``since`` value asks for (``FromNow`` when absent); None when it is malformed."""
    if text is None or not text.strip():
        return FromNow()
    lowered = text.strip().lower()
    if lowered in EARLIEST:
        return FromEarliest()
    if lowered in NOW:
        return FromNow()
    if CURSOR_RE.match(lowered):
        cursor = decode_cursor(lowered)
        return FromCursor(cursor) if cursor is not None else None
    at = parse_time(text, now_ms)
    return FromTime(at) if at is not None else None


def fill(cursor: Cursor, live: Cursor) -> Cursor:
    """``cursor`` with every partition of ``live`` it does not name set to the live end."""
    return {p: cursor.get(p, offset) for p, offset in live.items()}


def advance(cursor: Cursor, other: Cursor) -> Cursor:
    """The cursor past everything either one is past (partition-wise maximum)."""
    merged = dict(cursor)
    for p, offset in other.items():
        merged[p] = max(merged.get(p, offset), offset)
    return merged


@dataclass(frozen=True)
class Clamped:
    """A start cursor brought inside what the log holds, and what had to be moved."""

    cursor: Cursor
    # Partitions whose requested offset was older than the oldest kept event:
    # partition -> (requested, oldest kept). Those events are gone (retention).
    expired: dict[int, tuple[int, int]]


def clamp(cursor: Cursor, beginning: Cursor, end: Cursor) -> Clamped:
    """Bring every offset of ``cursor`` within ``[beginning, end]`` of its partition."""
    out: Cursor = {}
    expired: dict[int, tuple[int, int]] = {}
    for p, offset in cursor.items():
        low, high = beginning.get(p, 0), end.get(p, offset)
        if offset < low:
            expired[p] = (offset, low)
        out[p] = min(max(offset, low), high)
    return Clamped(out, expired)


def behind(cursor: Cursor, stop: Cursor) -> Cursor:
    """The partitions where ``cursor`` has not reached ``stop`` yet, with their start offsets."""
    return {p: offset for p, offset in cursor.items() if offset < stop.get(p, offset)}
