"""One Server-Sent Events session: the past from the log, then live from the hub, seamlessly.

The session keeps a *cursor* (``streams.positions``): per partition, the
offset after the last record it has delivered or filtered out. Every event it
sends carries the cursor as its SSE ``id``, and so do heartbeats (an ``id:``
line beside the comment updates ``lastEventId`` without firing an event), so a
client reconnecting with ``Last-Event-ID`` resumes exactly there.

The loop, until the client goes away or the API shuts down:

1. subscribe to the hub (its snapshot S: from S on, live records are queued);
2. if the cursor is behind S, read ``[cursor, S)`` from the log, partitions
   merged by the records' Kafka timestamps, so the past arrives in time order
   (``LedgerReader.read_in_time_order``; each partition stays in log order);
3. if the queue overflowed meanwhile, drop it and go to 1 (read on from the
   cursor); otherwise serve the queue, skipping anything the cursor has passed;
4. a queue that overflows while live sends the session back to 1 as well.

With an ``action`` filter, an event that does not name its action (a
``started``) of an activation accepted before the stream's start is
undecided (``Selector.admits`` answers None): the session reads that
activation's ``accepted`` event from its partition (``find_acceptance``,
from the moment its id records up to the event; a second reader, since the
first may be mid-read) and asks again. Only activations in flight at the
start (or forgotten past ``api.tail.REMEMBER_MAX``) cost such a read, so a
resumed or ``since`` stream gets every event of them, as the README promises.

Live events keep the order in which the API's tail reads them: each
partition's in log order, partitions interleaved as Kafka hands out their
fetches, so two activations on different partitions may arrive a few
milliseconds out of time order (every event carries ``logged_ms`` and
``at_ms`` for a client that sorts). A reconnect or a fall-back to the log
reads its stretch in time order again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import aclosing
from typing import Any

from aiohttp import web

from api.tail import Delivery, Hub, Selector, Subscription
from streams.errors import LedgerUnavailable, kafka_unavailable
from streams.events import ActivationAccepted, ActivationScheduled, LedgerEvent
from streams.history import SEEK_SLACK_MS, LedgerReader, LogRecord
from streams.ids import accepted_at_ms, iso_ms
from streams.positions import (
    Cursor,
    FromCursor,
    FromEarliest,
    FromNow,
    FromTime,
    Since,
    advance,
    behind,
    clamp,
    encode_cursor,
    fill,
)
from streams.settings import Settings

log = logging.getLogger("ledgerwhisk.api.stream")

RETRY_MS = 2_000
# Reading back one activation's acceptance reads a few seconds of one partition.
LOOKUP_TIMEOUT_S = 10.0
HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "Connection": "keep-alive",
    # nginx would otherwise buffer the stream.
    "X-Accel-Buffering": "no",
}


def frame(data: str, event_id: str | None = None, event: str | None = None) -> bytes:
    """One SSE message."""
    lines = []
    if event:
        lines.append(f"event: {event}")
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.extend(f"data: {line}" for line in data.split("\n"))
    return ("\n".join(lines) + "\n\n").encode()


def comment(text: str, event_id: str | None = None, retry_ms: int | None = None) -> bytes:
    """An SSE comment (ignored by clients, keeps proxies from closing), optionally with an id."""
    lines = [f": {text}"]
    if retry_ms is not None:
        lines.append(f"retry: {retry_ms}")
    if event_id is not None:
        lines.append(f"id: {event_id}")
    return ("\n".join(lines) + "\n\n").encode()


def event_view(event: LedgerEvent, partition: int, offset: int, logged_ms: int) -> dict[str, Any]:
    """How an event is shown to clients: where it is in the log, and all its fields."""
    return {
        "type": event.type,
        "activationId": event.activation_id,
        "seq": event.seq,
        "at_ms": event.at_ms,
        "time": iso_ms(event.at_ms),
        "partition": partition,
        "offset": offset,
        "logged_ms": logged_ms,
        "fields": event.model_dump(mode="json"),
    }


async def find_acceptance(
    reader: LedgerReader, activation_id: str, partition: int, before: int
) -> ActivationAccepted | None:
    """The ``accepted`` event of ``activation_id``, read from ``partition`` below offset ``before``.

    The read starts at the moment the id records (less ``SEEK_SLACK_MS``, for
    clocks), as ``streams.history.read_activation`` does, and ends at the first
    event of the activation that carries its acceptance (``accepted``, or a
    ``scheduled`` with ``accepted``). None when there is none (an id that is
    not ours, or retention removed it). Raises ``LedgerUnavailable`` when Kafka
    fails or the read takes longer than ``LOOKUP_TIMEOUT_S``.
    """
    at_ms = accepted_at_ms(activation_id)
    if at_ms is None:
        return None
    key = activation_id.encode()
    try:
        async with asyncio.timeout(LOOKUP_TIMEOUT_S):
            start = (await reader.offsets_at(at_ms - SEEK_SLACK_MS)).get(partition, before)
            batches = reader.read({partition: start}, {partition: before})
            async with aclosing(batches):
                async for batch in batches:
                    for record in batch:
                        logged = record.decoded() if record.key == key else None
                        event = logged.event if logged is not None else None
                        if isinstance(event, ActivationScheduled) and event.accepted:
                            return event.accepted
                        if isinstance(event, ActivationAccepted):
                            return event
    except TimeoutError as exc:
        raise kafka_unavailable(reader.settings.kafka_bootstrap, exc) from exc
    return None


class Closed(Exception):
    """The client went away, or the API is shutting down."""


class Session:
    """Writes one subscriber's stream; see the module docstring for the loop."""

    def __init__(
        self,
        response: web.StreamResponse,
        hub: Hub,
        settings: Settings,
        selector: Selector,
        heartbeat_s: float,
    ):
        self.response = response
        self.hub = hub
        self.settings = settings
        self.selector = selector
        self.heartbeat_s = heartbeat_s
        self.cursor: Cursor = {}
        self.sent = 0
        self._reader: LedgerReader | None = None
        self._lookups: LedgerReader | None = None
        self._sub: Subscription | None = None
        self._last_write = time.monotonic()

    async def run(self, since: Since) -> None:
        """Serve the stream until the client leaves or the API stops."""
        try:
            start = await self._resolve(since)
            await self._loop(start)
        except Closed:
            pass
        except LedgerUnavailable as exc:
            log.warning("event stream ends: %s", exc)
            await self._try_write(frame(json.dumps({"error": str(exc)}), event="error"))
        finally:
            if self._sub is not None:
                self.hub.unsubscribe(self._sub)
            await self._close_reader()
            if self._lookups is not None:
                lookups, self._lookups = self._lookups, None
                await lookups.__aexit__(None, None, None)

    async def _resolve(self, since: Since) -> Cursor | None:
        """The start cursor (None: live from the subscription), as far as it is known now."""
        if isinstance(since, FromNow):
            return None
        if isinstance(since, FromCursor):
            return dict(since.cursor)
        reader = await self._open_reader()
        if isinstance(since, FromEarliest):
            return (await reader.bounds())[0]
        assert isinstance(since, FromTime)
        return await reader.offsets_at(since.at_ms)

    async def _loop(self, start: Cursor | None) -> None:
        first = True
        while True:
            sub = self._sub = self.hub.subscribe(self.selector)
            if first:
                self.cursor = await self._start_at(start, sub.snapshot)
                await self._write(comment("subscribed", encode_cursor(self.cursor), RETRY_MS))
                first = False
            if behind(self.cursor, sub.snapshot):
                await self._read_log(sub)
                if sub.overflowed:
                    self._detach(sub)
                    continue
            await self._close_reader()
            await self._serve_live(sub)
            self._detach(sub)
            await self._write(comment("falling behind: reading from the log"))

    async def _start_at(self, start: Cursor | None, snapshot: Cursor) -> Cursor:
        """The first cursor: ``start`` filled with the snapshot, and never past the log's end.

        An offset past the snapshot may be legitimate (another API instance's
        tail ran ahead) and is kept; one past the end of the log is not (a
        forged id, a recreated topic) and is brought back to the end.
        """
        cursor = fill(start or {}, snapshot)
        if any(offset > snapshot[p] for p, offset in cursor.items()):
            _, end = await (await self._open_reader()).bounds()
            cursor = {p: min(offset, end.get(p, offset)) for p, offset in cursor.items()}
        return cursor

    def _detach(self, sub: Subscription) -> None:
        self.hub.unsubscribe(sub)
        self._sub = None

    async def _read_log(self, sub: Subscription) -> None:
        """Deliver ``[cursor, snapshot)`` from the log."""
        reader = await self._open_reader()
        beginning, end = await reader.bounds()
        clamped = clamp(self.cursor, beginning, end)
        for p, (wanted, oldest) in sorted(clamped.expired.items()):
            await self._write(
                comment(f"partition {p}: events {wanted}..{oldest - 1} are gone (retention)")
            )
        self.cursor = clamped.cursor
        batches = reader.read_in_time_order(dict(self.cursor), sub.snapshot)
        async with aclosing(batches):
            async for batch in batches:
                for record in batch:
                    await self._from_log(record)
                if sub.closed:
                    raise Closed
                await self._maybe_heartbeat()

    async def _from_log(self, record: LogRecord) -> None:
        self.cursor[record.partition] = record.offset + 1
        logged = record.decoded()
        if logged is not None and await self._admits(logged.event, record.partition, record.offset):
            await self._send(logged.event, record.partition, record.offset, record.timestamp_ms)

    async def _serve_live(self, sub: Subscription) -> None:
        """Serve the queue until it overflows (return) or the session closes (raise)."""
        while True:
            wait = max(0.05, self.heartbeat_s - (time.monotonic() - self._last_write))
            delivery = await sub.next(wait)
            if sub.closed:
                raise Closed
            if sub.overflowed:
                return
            if delivery is None:
                if sub.queue.empty():
                    # Everything before the hub's positions was queued and served.
                    self.cursor = advance(self.cursor, self.hub.positions)
                await self._maybe_heartbeat()
                continue
            await self._from_live(delivery)
            await self._maybe_heartbeat()

    async def _from_live(self, d: Delivery) -> None:
        if d.offset < self.cursor.get(d.partition, 0):
            return  # already delivered from the log
        self.cursor = advance(self.cursor, d.cursor)
        if await self._admits(d.event, d.partition, d.offset):
            await self._send(d.event, d.partition, d.offset, d.timestamp_ms)

    async def _admits(self, event: LedgerEvent, partition: int, offset: int) -> bool:
        """The selector's verdict; an undecided one after reading the activation's acceptance."""
        verdict = self.selector.admits(event)
        if verdict is None:
            if self._lookups is None:
                lookups = LedgerReader(self.settings)
                await lookups.__aenter__()
                self._lookups = lookups
            accepted = await find_acceptance(self._lookups, event.activation_id, partition, offset)
            self.selector.learn(event.activation_id, accepted)
            verdict = self.selector.admits(event)
        return bool(verdict)

    async def _send(self, event: LedgerEvent, partition: int, offset: int, logged: int) -> None:
        data = json.dumps(event_view(event, partition, offset, logged), separators=(",", ":"))
        await self._write(frame(data, encode_cursor(self.cursor)))
        self.sent += 1

    async def _maybe_heartbeat(self) -> None:
        if time.monotonic() - self._last_write >= self.heartbeat_s:
            await self._write(comment("heartbeat", encode_cursor(self.cursor)))

    async def _write(self, data: bytes) -> None:
        try:
            await self.response.write(data)
        except (ConnectionResetError, RuntimeError) as exc:
            raise Closed from exc
        self._last_write = time.monotonic()

    async def _try_write(self, data: bytes) -> None:
        try:
            await self._write(data)
        except Closed:
            pass

    async def _open_reader(self) -> LedgerReader:
        if self._reader is None:
            reader = LedgerReader(self.settings)
            await reader.__aenter__()
            self._reader = reader
        return self._reader

    async def _close_reader(self) -> None:
        if self._reader is not None:
            reader, self._reader = self._reader, None
            await reader.__aexit__(None, None, None)
