"""Read the ledger back from Kafka alone (no projection): one activation, or ranges of the log.

``read_activation`` seeks by the time encoded in an activation id, so it never
scans the whole history. ``LedgerReader`` reads ranges of every partition
(``[start, stop)`` per partition); event streams use it to replay the past
before they go live, and the projection rebuild uses it to read everything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
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
from streams.settings import Settings
from streams.topics import partition_count

log = logging.getLogger("ledgerwhisk.history")

# Clocks of the API and the broker may differ a little: seek this much earlier.
SEEK_SLACK_MS = 5_000
FETCH_WAIT_MS = 50
POLL_MS = 200


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
        batches. Ends when every partition has reached its stop offset.
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
                if out:
                    yield out
        except KafkaError as exc:
            raise self._unavailable(exc) from exc


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
