"""Runs one Kafka feed: reads its topic, fires the trigger per batch, commits after acceptance.

Exactly once per offset, across restarts of anything:

1. The position is the registration's own consumer group's committed offsets
   (``messaging.group_id``); a partition with none starts where the topic
   ended when the feed was created (``start_offsets``), or at 0 for a
   partition added since.
2. Before a batch is fired, its fire id and offset ranges are stored as the
   state's ``pending`` (CouchDB).
3. The fire carries that id (``feeds/firing.py``); the API starts rules only
   for the first ``accepted`` of an id in the ledger (``api/triggers.py``).
4. Only once the fire is accepted are the offsets after the batch committed.

A service killed before 2 has fired nothing past the committed offsets;
between 2 and 4, it finds ``pending`` not covered by the committed offsets
on return and fires exactly that batch again with the same id: if the first
try was accepted, the API answers with its id and starts nothing, so the
offsets are committed and the batch has run once; if not, it runs now. The
ranges are immutable log records, so the batch is the same.

A registration whose brokers no client can read (stored before CREATE refused
such addresses) ends with the reason READ shows, instead of failing again and
again.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from feeds import messaging
from feeds import registration as reg
from feeds.alarms import BadParameters
from feeds.client import PlatformClient
from feeds.firing import FeedFire, Outcome, retry_delay_s
from feeds.messaging import Message
from feeds.store import FeedStore
from streams.ids import new_activation_id, now_ms
from streams.messages import (
    FEED_ENDED_BY_STATUS,
    FEED_ENDED_ON_CREATION,
    KAFKA_BROKER_INVALID,
    KAFKA_UNREACHABLE,
)
from streams.settings import Settings

log = logging.getLogger("ledgerwhisk.feeds.consumer")
JsonDict = dict[str, Any]
PROBE_TIMEOUT_S = 5.0
POLL_MS = 1_000
NO_TOPIC_WAIT_S = 5.0
MAX_RECORDS = 500


async def partitions(
    brokers: list[str], topic: str, timeout_s: float = PROBE_TIMEOUT_S
) -> list[int]:
    """The topic's partitions (none when it does not exist yet); ``KafkaError`` when no
    broker answers."""
    admin = AIOKafkaAdminClient(bootstrap_servers=brokers, request_timeout_ms=int(timeout_s * 1000))
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    info = described[0] if described else {}
    return [] if info.get("error_code") else sorted(p["partition"] for p in info["partitions"])


async def end_offsets(brokers: list[str], topic: str) -> dict[str, int]:
    """Per partition (a JSON key), where the topic ends now: where a new feed starts.
    ``BadParameters`` when none of the brokers answers, or the Kafka client cannot read
    their addresses (``messaging.checked_brokers`` refuses those first)."""
    consumer: AIOKafkaConsumer | None = None
    try:
        found = await partitions(brokers, topic)
        if not found:
            return {}
        consumer = AIOKafkaConsumer(bootstrap_servers=brokers, enable_auto_commit=False)
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            await consumer.start()
            ends = await consumer.end_offsets([TopicPartition(topic, p) for p in found])
        return {str(tp.partition): offset for tp, offset in ends.items()}
    except (KafkaError, TimeoutError, OSError) as exc:
        raise BadParameters(
            KAFKA_UNREACHABLE.format(brokers=brokers, seconds=PROBE_TIMEOUT_S, cause=repr(exc))
        ) from exc
    except ValueError as exc:  # aiokafka's collect_hosts on an address it cannot split
        raise BadParameters(KAFKA_BROKER_INVALID.format(broker=",".join(brokers))) from exc
    finally:
        if consumer is not None:
            await consumer.stop()


class KafkaRunner:
    """One Kafka feed's loop, until it ends or ``stop`` is set."""

    def __init__(
        self,
        registration: JsonDict,
        store: FeedStore,
        client: PlatformClient,
        stop: asyncio.Event,
        settings: Settings,
    ):
        self.registration = registration
        self.config = registration["config"]
        self.topic = self.config["topic"]
        self.store = store
        self.client = client
        self.stop = stop
        self.settings = settings
        self.name = f"/{registration['_id']}"
        self.waiting: collections.deque[Message] = collections.deque()

    async def run(self) -> None:
        bad = [b for b in self.config["brokers"] if not messaging.is_broker(b)]
        if bad:
            await self._end(
                FEED_ENDED_ON_CREATION.format(error=KAFKA_BROKER_INVALID.format(broker=bad[0]))
            )
            return
        attempt = 0
        while not self.stop.is_set():
            try:
                await self._consume()
                return
            except KafkaError as exc:
                attempt += 1
                log.warning("feeds: %s: Kafka failed (%r); starting again", self.name, exc)
                self.waiting.clear()
                try:
                    await asyncio.wait_for(self.stop.wait(), retry_delay_s(attempt))
                except TimeoutError:
                    pass

    async def _end(self, why: str) -> None:
        """End the registration for good (READ shows ``why``), unless it ended already."""
        stored = await self.store.state(self.registration["uuid"])
        if not reg.is_live(self.registration, stored):
            return
        state = reg.current_state(self.registration, stored)
        await self.store.put_state(reg.ended(state, now_ms(), why))
        log.info("feeds: %s ends: %s", self.name, why)

    async def _consume(self) -> None:
        group = messaging.group_id(self.settings.prefix, self.registration["uuid"])
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.config["brokers"],
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=messaging.PAYLOAD_LIMIT_BYTES + 100_000,
        )
        await consumer.start()
        try:
            stored = await self.store.state(self.registration["uuid"])
            if not reg.is_live(self.registration, stored):
                return
            tps = await self._assign(consumer, [])
            while not tps:  # the topic does not exist (yet, or any more)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), NO_TOPIC_WAIT_S)
                if self.stop.is_set():
                    return
                tps = await self._assign(consumer, [])
            state = reg.current_state(self.registration, stored)
            pending = state["pending"]
            if pending and messaging.pending_left(
                pending["ranges"], await self._positions(consumer, tps)
            ):
                entries = await self._read_ranges(consumer, pending["ranges"])
                settled = await self._fire(consumer, state, entries, pending["fire_id"])
                if settled is None or settled["ended"]:
                    return
                state = settled
            await self._seek_committed(consumer, tps)
            refreshed = time.monotonic()
            while not self.stop.is_set():
                if time.monotonic() - refreshed > 10:
                    tps = await self._assign(consumer, tps)
                    refreshed = time.monotonic()
                entries = await self._batch(consumer)
                if not entries:
                    continue
                fire_id = new_activation_id()
                pending = {"fire_id": fire_id, "ranges": messaging.ranges_of(entries)}
                state = await self.store.put_state(reg.with_pending(state, pending))
                settled = await self._fire(consumer, state, entries, fire_id)
                if settled is None or settled["ended"]:
                    return
                state = settled
        finally:
            await consumer.stop()

    async def _assign(
        self, consumer: AIOKafkaConsumer, current: list[TopicPartition]
    ) -> list[TopicPartition]:
        """Assign every partition of the topic (new ones start at their committed offset, or
        the offset recorded at creation, or 0)."""
        found = await partitions(self.config["brokers"], self.topic)
        tps = [TopicPartition(self.topic, p) for p in found]
        added = [tp for tp in tps if tp not in current]
        if added:
            consumer.assign(tps)
            known = set(current)
            for tp in tps:
                if tp in known:
                    continue
                consumer.seek(tp, await self._position(consumer, tp))
        return tps

    async def _position(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> int:
        committed = await consumer.committed(tp)
        if committed is not None:
            return int(committed)
        return int(self.config.get("start_offsets", {}).get(str(tp.partition), 0))

    async def _positions(
        self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]
    ) -> dict[int, int]:
        return {tp.partition: await self._position(consumer, tp) for tp in tps}

    async def _seek_committed(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> None:
        self.waiting.clear()
        for tp in tps:
            consumer.seek(tp, await self._position(consumer, tp))

    async def _read_ranges(
        self, consumer: AIOKafkaConsumer, ranges: dict[str, list[int]]
    ) -> list[JsonDict]:
        """Exactly the records of ``ranges`` (first..last per partition), in log order (of
        the partitions that still exist)."""
        assigned = consumer.assignment()
        left = {
            TopicPartition(self.topic, int(p)): (first, last) for p, (first, last) in ranges.items()
        }
        left = {tp: r for tp, r in left.items() if tp in assigned}
        for tp, (first, _last) in left.items():
            consumer.seek(tp, first)
        out: list[JsonDict] = []
        while left and not self.stop.is_set():
            batches = await consumer.getmany(*left, timeout_ms=POLL_MS)
            for tp, records in batches.items():
                first, last = left[tp]
                for r in records:
                    if first <= r.offset <= last:
                        out.append(
                            messaging.shaped(
                                Message(r.topic, r.partition, r.offset, r.key, r.value), self.config
                            )
                        )
                if records and records[-1].offset >= last:
                    del left[tp]
        return out

    async def _batch(self, consumer: AIOKafkaConsumer) -> list[JsonDict]:
        """The next batch: messages as long as they keep coming, for at most 2 s and up to
        the payload limit (``messaging.take``); empty when none came within a poll."""
        entries: list[JsonDict] = []
        size = 0
        started = time.monotonic()
        while not self.stop.is_set():
            if not self.waiting:
                left_s = messaging.BATCH_WINDOW_S - (time.monotonic() - started)
                if entries and left_s <= 0:
                    break
                timeout_ms = POLL_MS if not entries else int(min(POLL_MS, left_s * 1000))
                batches = await consumer.getmany(
                    timeout_ms=max(1, timeout_ms), max_records=MAX_RECORDS
                )
                if not batches:
                    break
                for records in batches.values():
                    self.waiting.extend(
                        Message(r.topic, r.partition, r.offset, r.key, r.value) for r in records
                    )
                continue
            message = self.waiting.popleft()
            entry = messaging.shaped(message, self.config)
            entry_bytes = messaging.size_of(entry)
            take = messaging.take(size, len(entries), entry_bytes)
            if take.skip:
                log.error(
                    "feeds: %s: the message at offset %d of partition %d is over %d bytes "
                    "alone; skipped",
                    self.name,
                    message.offset,
                    message.partition,
                    messaging.PAYLOAD_LIMIT_BYTES,
                )
                await consumer.commit(
                    {TopicPartition(message.topic, message.partition): message.offset + 1}
                )
                break
            if take.add:
                entries.append(entry)
                size += entry_bytes
            else:
                self.waiting.appendleft(message)
            if take.close:
                break
        return entries

    async def _fire(
        self, consumer: AIOKafkaConsumer, state: JsonDict, entries: list[JsonDict], fire_id: str
    ) -> JsonDict | None:
        """Fire one batch until settled, then commit past it; the state stored after it."""
        fire = FeedFire(fire_id, self.registration["cause"], self.registration["feed"])
        answer = await self.client.fire(self.registration, {"messages": entries}, fire, self.stop)
        if answer is None:
            return None
        outcome, status = answer
        if outcome is Outcome.ENDS:
            log.info("feeds: %s ends: its fire was answered %d", self.name, status)
            ended = reg.ended(state, now_ms(), FEED_ENDED_BY_STATUS.format(status=status), status)
            return await self.store.put_state(ended)
        offsets = {
            TopicPartition(self.topic, p): o for p, o in messaging.next_offsets(entries).items()
        }
        await consumer.commit(offsets)
        log.info(
            "feeds: %s fired %d messages (%s, HTTP %d)", self.name, len(entries), fire_id, status
        )
        return {**state, "pending": None, "fired": state["fired"] + 1}
