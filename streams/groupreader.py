"""Reading the ledger as a member of a consumer group, in the worker's own event loop.

The controller and the projection writer each read the ledger with one
``GroupReader``: Kafka's group protocol splits the partitions among the
instances, the reader hands whole fetched batches to its handler and commits
the offsets the handler has finished. It replaces a Faust agent on the hot
path: Faust hands every record from its consumer thread to the event loop and
through its stream machinery one at a time, which cost more CPU than
everything the controller decides (``make bench``, ARCHITECTURE.md). The
Faust app still runs the process: the worker, its timers and the producer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import ConsumerRecord

from streams import constants
from streams.replication import replication_of
from streams.retry import until_done
from streams.settings import Settings

log = logging.getLogger("ledgerwhisk.groupreader")

# Offsets are committed at most this often (and when partitions are taken away).
COMMIT_EVERY_S = 1.0
# How long one poll waits for records before it looks again.
POLL_MS = 1000
# Logged at every assignment: scripts/stack.sh waits for it.
READING = "reading ledger partitions"

Records = list[ConsumerRecord[bytes, bytes]]
Fetch = dict[TopicPartition, Records]
Handler = Callable[[Fetch], Awaitable[None]]
PartitionHandler = Callable[[TopicPartition, Records], Awaitable[None]]
Partitions = Callable[[set[int]], Awaitable[None]]


def group_id(settings: Settings, name: str) -> str:
    """The consumer group of the ``name`` workers (``<prefix>-<name>``)."""
    return f"{settings.prefix}-{name}"


async def fetches(
    consumer: AIOKafkaConsumer, reader: logging.Logger
) -> AsyncIterator[dict[TopicPartition, Records]]:
    """The batches of a consumer read outside any group, for ever: a fetch Kafka fails is
    logged on ``reader`` and tried again half a second later (aiokafka reconnects)."""
    while True:
        try:
            yield await consumer.getmany(timeout_ms=1000)
        except KafkaError as exc:
            reader.warning("ledger reader: %r; reading on", exc)
            await asyncio.sleep(0.5)


def each_partition(handle: PartitionHandler) -> Handler:
    """A fetch handler giving ``handle`` each partition's records in turn, in log order."""

    async def handle_fetch(batches: Fetch) -> None:
        for tp, records in batches.items():
            await handle(tp, records)

    return handle_fetch


@dataclass(frozen=True)
class Fetching:
    """How a reader trades latency for fewer, larger fetches.

    ``max_wait_ms``: how long Kafka may hold a fetch for ``min_bytes`` to arrive;
    ``max_records``: the most records one batch hands the handler.
    """

    max_wait_ms: int = 100
    min_bytes: int = 1
    max_records: int = 500


@dataclass
class _Listener(ConsumerRebalanceListener):
    reader: GroupReader

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.reader.revoked({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.reader.assigned({tp.partition for tp in assigned})


@dataclass
class GroupReader:
    """One topic read by a group member; ``handle`` gets each fetch: the records of
    every partition that had some, each partition's in log order (``each_partition``
    adapts a handler of one partition at a time).

    ``on_assigned`` / ``on_revoked`` get the partition numbers given to or taken
    from this member (at start and at every rebalance), before any record of an
    assigned partition is handled and before a revoked one's offsets are
    committed for the last time. Offsets are committed after ``handle``
    returns: a batch whose handler raised is not committed and is read again
    by whoever owns the partition next (``handle`` must not raise for one bad
    record; see ``streams.events.read``).
    """

    settings: Settings
    name: str
    topic: str
    handle: Handler
    fetching: Fetching = Fetching()
    instance: str | None = None
    on_assigned: Partitions | None = None
    on_revoked: Partitions | None = None
    _consumer: AIOKafkaConsumer | None = None
    _done: dict[int, int] = field(default_factory=dict)  # partition -> next offset to commit
    _committed_at: float = 0.0

    def consumer(self) -> AIOKafkaConsumer:
        s = self.settings
        group = group_id(s, self.name)
        return AIOKafkaConsumer(
            bootstrap_servers=s.kafka_bootstrap,
            **replication_of(s).consumer_options(),
            group_id=group,
            # A static member: a restarted instance gets its partitions back at
            # once instead of after the old session expires.
            group_instance_id=f"{group}-{self.instance}" if self.instance else None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.fetching.max_wait_ms,
            fetch_min_bytes=self.fetching.min_bytes,
            max_partition_fetch_bytes=constants.LEDGER_MESSAGE_MAX_BYTES,
            session_timeout_ms=int(s.group_session_timeout_s * 1000),
            heartbeat_interval_ms=int(min(3.0, s.group_session_timeout_s / 5) * 1000),
            rebalance_timeout_ms=int(max(10.0, s.group_session_timeout_s) * 1000),
        )

    async def run(self) -> None:
        """Read for as long as the process runs (cancel to stop); Kafka away is waited out."""
        consumer = self.consumer()
        await until_done(
            consumer.start, what=f"joining the {self.name} group", retry_on=KafkaError, log=log
        )
        self._consumer = consumer
        try:
            consumer.subscribe([self.topic], listener=_Listener(self))
            while True:
                try:
                    batches = await consumer.getmany(
                        timeout_ms=POLL_MS, max_records=self.fetching.max_records
                    )
                except KafkaError as exc:
                    log.warning("%s: reading the ledger: %r; reading on", self.name, exc)
                    await asyncio.sleep(0.5)
                    continue
                batches = {tp: records for tp, records in batches.items() if records}
                if batches:
                    await self.handle(batches)
                    assignment = consumer.assignment()
                    for tp, records in batches.items():
                        if tp in assignment:  # not revoked while it was handled
                            self._done[tp.partition] = records[-1].offset + 1
                if time.monotonic() - self._committed_at >= COMMIT_EVERY_S:
                    await self.commit()
        finally:
            self._consumer = None
            with contextlib.suppress(KafkaError, CommitFailedError):
                await self.commit()
            with contextlib.suppress(KafkaError):
                await consumer.stop()

    async def commit(self) -> None:
        """Commit the offsets handled since the last commit (a failed commit is retried later)."""
        self._committed_at = time.monotonic()
        consumer = self._consumer
        if consumer is None or not self._done:
            return
        offsets = {TopicPartition(self.topic, p): o for p, o in self._done.items()}
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as exc:
            # A rebalance took the partitions meanwhile: their new owner reads
            # from the last commit, and the handlers are idempotent.
            log.warning("%s: offsets not committed (%r)", self.name, exc)
            return
        for p, o in offsets.items():
            if self._done.get(p.partition) == o:
                del self._done[p.partition]

    async def revoked(self, partitions: set[int]) -> None:
        if self.on_revoked is not None:
            await self.on_revoked(partitions)
        with contextlib.suppress(KafkaError, CommitFailedError):
            await self.commit()
        for p in partitions:
            self._done.pop(p, None)

    async def assigned(self, partitions: set[int]) -> None:
        if self.on_assigned is not None:
            await self.on_assigned(partitions)
        log.info("%s: %s %s", self.name, READING, sorted(partitions))
