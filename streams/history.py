"""Read the ledger back from Kafka alone (no projection): one activation, or ranges of the log.

``read_activation`` seeks by the time encoded in an activation id, so it never
scans the whole history. ``LedgerReader`` reads ranges of every partition
(``[start, stop)`` per partition); event streams use it to replay the past
before they go live, and the projection rebuild uses it to read everything.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections import deque
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from types import TracebackType

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

from streams import constants
from streams.errors import LedgerUnavailable, kafka_unavailable
from streams.events import COMPLETED, Headers, LedgerEvent, Unreadable, read
from streams.ids import accepted_at_ms
from streams.positions import Cursor, behind
from streams.replication import replication_of
from streams.settings import Settings
from streams.topics import partition_count

log = logging.getLogger("ledgerwhisk.history")

# Clocks of the API and the broker may differ a little: seek this much earlier.
SEEK_SLACK_MS = 5_000
FETCH_WAIT_MS = 50
POLL_MS = 200
# Records one partition may hold while a time-ordered read waits for the others.
MERGE_BUFFER_MAX = 2_000


@dataclass(frozen=True)
class LoggedEvent:
    """One event with where it sits in the log."""

    event: LedgerEvent
    partition: int
    offset: int
    timestamp_ms: int


@dataclass(frozen=True)
class LogRecord:
    """One raw record of the ledger, not decoded yet."""

    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes
    headers: Headers = None

    def decoded(self) -> LoggedEvent | None:
        """The event this record holds, or None when it is not a readable ledger event.

        Readers of ranges skip such records (the controller, which reads every
        partition live, ends their activations; see ``streams.completion``).
        """
        event = read(self.value, self.key, self.headers)
        if isinstance(event, Unreadable):
            log.warning(
                "unreadable ledger record at %d:%d skipped (%s)",
                self.partition,
                self.offset,
                event.error,
            )
            return None
        return LoggedEvent(event, self.partition, self.offset, self.timestamp_ms)


def partition_for(activation_id: str, partitions: int) -> int:
    """The ledger partition holding an activation's events (Kafka's default partitioner)."""
    every = list(range(partitions))
    return int(DefaultPartitioner()(activation_id.encode(), every, every))


class LedgerReader:
    """A consumer of ``activation-events`` outside any group, for reading ranges of the log.

    Use as ``async with LedgerReader(settings) as reader:``. Kafka failures
    leave as ``LedgerUnavailable``.
    """

    def __init__(self, settings: Settings, topic: str | None = None):
        self.settings = settings
        self.topic = topic or settings.topic(constants.TOPIC_EVENTS)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            **replication_of(settings).consumer_options(),
            enable_auto_commit=False,
            group_id=None,
            fetch_max_wait_ms=FETCH_WAIT_MS,
        )
        self.partitions: list[TopicPartition] = []

    async def __aenter__(self) -> LedgerReader:
        try:
            await self._consumer.start()
            count = await partition_count(self.settings, self.topic)
        except KafkaError as exc:
            await self._stop()
            raise self._unavailable(exc) from exc
        except BaseException:
            await self._stop()
            raise
        self.partitions = [TopicPartition(self.topic, p) for p in range(count)]
        if self.partitions:
            self._consumer.assign(self.partitions)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop()

    async def _stop(self) -> None:
        try:
            await self._consumer.stop()
        except KafkaError as exc:
            log.warning("ledger reader did not stop cleanly: %r", exc)

    def _unavailable(self, exc: BaseException) -> LedgerUnavailable:
        return kafka_unavailable(self.settings.kafka_bootstrap, exc)

    async def bounds(self) -> tuple[Cursor, Cursor]:
        """``(beginning, end)``: the oldest kept offset and the next offset, per partition."""
        if not self.partitions:
            return {}, {}
        try:
            first = await self._consumer.beginning_offsets(self.partitions)
            last = await self._consumer.end_offsets(self.partitions)
        except KafkaError as exc:
            raise self._unavailable(exc) from exc
        return (
            {tp.partition: first[tp] for tp in self.partitions},
            {tp.partition: last[tp] for tp in self.partitions},
        )

    async def offsets_at(self, at_ms: int) -> Cursor:
        """Per partition, the first offset appended at or after ``at_ms`` (the end if none)."""
        if not self.partitions:
            return {}
        _, end = await self.bounds()
        try:
            found = await self._consumer.offsets_for_times(
                {tp: max(0, at_ms) for tp in self.partitions}
            )
        except KafkaError as exc:
            raise self._unavailable(exc) from exc
        return {
            tp.partition: (found[tp].offset if found.get(tp) is not None else end[tp.partition])
            for tp in self.partitions
        }

    async def read(self, start: Cursor, stop: Cursor) -> AsyncGenerator[list[LogRecord], None]:
        """Batches of records from ``start`` (inclusive) to ``stop`` (exclusive), per partition.

        Records of one partition come in log order; partitions interleave in
        batches as Kafka hands them out. Ends when every partition has reached
        its stop offset.
        """
        batches = self._read(start, stop)
        async with aclosing(batches):
            async for batch, _pending in batches:
                if batch:
                    yield batch

    async def read_in_time_order(
        self, start: Cursor, stop: Cursor, buffered_max: int = MERGE_BUFFER_MAX
    ) -> AsyncGenerator[list[LogRecord], None]:
        """Like ``read``, but partitions merged by the records' Kafka timestamps.

        A k-way merge (``TimeMerge``): a record is handed out only once every
        partition still being read has a later one buffered, or has reached its
        stop. A partition holding more than ``buffered_max`` records waits
        (paused) for the others, so memory stays bounded. Records of one
        partition keep their log order, so a cursor of what was handed out
        stays exact.
        """
        merge = TimeMerge(set(behind(start, stop)))
        batches = self._read(start, stop, merge.buffered, buffered_max)
        async with aclosing(batches):
            async for batch, pending in batches:
                merge.add(batch)
                out = merge.take(pending)
                if out:
                    yield out

    async def _read(
        self,
        start: Cursor,
        stop: Cursor,
        buffered: Callable[[int], int] | None = None,
        buffered_max: int = 0,
    ) -> AsyncGenerator[tuple[list[LogRecord], set[int]], None]:
        """``(batch, partitions still being read)`` until every partition reached its stop.

        With ``buffered`` (records a reader holds per partition), a partition
        holding more than ``buffered_max`` is paused until it holds fewer.
        """
        pending = behind(start, stop)
        if not pending:
            return
        tps = {p: TopicPartition(self.topic, p) for p in pending}
        try:
            for p, offset in pending.items():
                self._consumer.seek(tps[p], offset)
            self._consumer.resume(*tps.values())
            others = [tp for tp in self.partitions if tp.partition not in pending]
            self._consumer.pause(*others)
            while pending:
                if buffered is not None:
                    for p, tp in tps.items():
                        full = buffered(p) > buffered_max
                        (self._consumer.pause if full else self._consumer.resume)(tp)
                batches = await self._consumer.getmany(*tps.values(), timeout_ms=POLL_MS)
                out: list[LogRecord] = []
                for tp, records in batches.items():
                    end = stop[tp.partition]
                    for r in records:
                        if r.offset >= end:
                            break
                        at = (tp.partition, r.offset, r.timestamp)
                        out.append(LogRecord(*at, r.key, r.value, r.headers))
                for p in list(pending):
                    # The position, not the last record: offsets may skip (control records).
                    if await self._consumer.position(tps[p]) >= stop[p]:
                        self._consumer.pause(tps.pop(p))
                        del pending[p]
                yield out, set(pending)
        except KafkaError as exc:
            raise self._unavailable(exc) from exc


class TimeMerge:
    """Merges partitions' records by Kafka timestamp (pure; ``LedgerReader.read_in_time_order``).

    Each partition's records arrive in log order, in batches of any size, and
    keep that order: it is the truth of what happened in one partition, while
    timestamps are the producers' clocks (the API's ``accepted`` may carry an
    earlier time than the controller's ``scheduled`` logged before it). So a
    record's merge key is the latest timestamp its partition has shown up to
    it, and the keys of what ``take`` hands out never decrease.

    ``take(pending)`` hands out, smallest key first (ties by partition, then
    offset), every record that no record still to come can precede: it stops
    at the first moment a partition in ``pending`` (still being read) has
    nothing buffered. With ``pending`` empty it hands out everything.

    Worked example: partition 0 holds records at t=5 and t=9, partition 1 at
    t=7, and both are still being read: take gives t=5 and t=7, then stops,
    since partition 1's next record may come before t=9.
    """

    def __init__(self, partitions: set[int]):
        self._buffers: dict[int, deque[tuple[int, LogRecord]]] = {p: deque() for p in partitions}
        self._latest: dict[int, int] = {}

    def buffered(self, partition: int) -> int:
        return len(self._buffers.get(partition, ()))

    def add(self, records: list[LogRecord]) -> None:
        for r in records:
            key = max(self._latest.get(r.partition, r.timestamp_ms), r.timestamp_ms)
            self._latest[r.partition] = key
            self._buffers.setdefault(r.partition, deque()).append((key, r))

    def take(self, pending: set[int]) -> list[LogRecord]:
        out: list[LogRecord] = []
        heads = [(b[0][0], p, b[0][1].offset) for p, b in self._buffers.items() if b]
        heapq.heapify(heads)
        while heads:
            if any(not self._buffers[p] for p in pending if p in self._buffers):
                break
            _, p, _ = heapq.heappop(heads)
            buffer = self._buffers[p]
            out.append(buffer.popleft()[1])
            if buffer:
                heapq.heappush(heads, (buffer[0][0], p, buffer[0][1].offset))
        return out


async def read_activation(
    settings: Settings, activation_id: str, timeout_s: float = 10.0
) -> list[LoggedEvent]:
    """Every ledger event of one activation, in log order.

    The id carries the moment it was accepted, so the read starts there and
    stops at the completion or at the end of the partition: it never scans the
    whole history.
    """
    since = accepted_at_ms(activation_id)
    async with LedgerReader(settings) as reader:
        if not reader.partitions:
            return []
        partition = partition_for(activation_id, len(reader.partitions))
        beginning, end = await reader.bounds()
        start = beginning[partition]
        if since is not None:
            start = (await reader.offsets_at(since - SEEK_SLACK_MS))[partition]
        key = activation_id.encode()
        found: list[LoggedEvent] = []
        async with asyncio.timeout(timeout_s):
            batches = reader.read({partition: start}, {partition: end[partition]})
            async with aclosing(batches):
                async for batch in batches:
                    for record in batch:
                        if record.key != key:
                            continue
                        logged = record.decoded()
                        if logged is None:
                            continue
                        found.append(logged)
                        if logged.event.type == COMPLETED:
                            return found
        return found
