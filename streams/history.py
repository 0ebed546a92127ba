"""Read one activation's events back from the ledger (Kafka alone, no projection)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

from streams import constants
from streams.errors import LedgerUnavailable
from streams.events import COMPLETED, LedgerEvent, decode_event
from streams.ids import accepted_at_ms
from streams.settings import Settings
from streams.topics import partition_count

# Clocks of the API and the broker may differ a little: seek this much earlier.
SEEK_SLACK_MS = 5_000


@dataclass(frozen=True)
class LoggedEvent:
    """One event with where it sits in the log."""

    event: LedgerEvent
    partition: int
    offset: int
    timestamp_ms: int


def partition_for(activation_id: str, partitions: int) -> int:
    """The ledger partition holding an activation's events (Kafka's default partitioner)."""
    every = list(range(partitions))
    return int(DefaultPartitioner()(activation_id.encode(), every, every))


async def read_activation(
    settings: Settings, activation_id: str, timeout_s: float = 10.0
) -> list[LoggedEvent]:
    """Every ledger event of one activation, in log order.

    The id carries the moment it was accepted, so the read starts there and
    stops at the completion or at the end of the partition: it never scans the
    whole history.
    """
    since = accepted_at_ms(activation_id)
    topic = settings.topic(constants.TOPIC_EVENTS)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_auto_commit=False,
        group_id=None,
        fetch_max_wait_ms=50,
    )
    try:
        await consumer.start()
    except KafkaError as exc:
        raise LedgerUnavailable(
            f"Kafka at {settings.kafka_bootstrap} did not answer: {exc!r}"
        ) from exc
    found: list[LoggedEvent] = []
    try:
        count = await partition_count(settings, topic)
        if not count:
            return []
        tp = TopicPartition(topic, partition_for(activation_id, count))
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        start_offset = 0
        if since is not None:
            offsets = await consumer.offsets_for_times({tp: max(0, since - SEEK_SLACK_MS)})
            at = offsets.get(tp)
            start_offset = at.offset if at is not None else end
        if start_offset >= end:
            return []
        consumer.seek(tp, start_offset)
        key = activation_id.encode()
        async with asyncio.timeout(timeout_s):
            while True:
                batch = await consumer.getmany(tp, timeout_ms=200)
                done = False
                for record in batch.get(tp, []):
                    if record.key == key:
                        event = decode_event(record.value)
                        found.append(
                            LoggedEvent(event, tp.partition, record.offset, record.timestamp)
                        )
                        done = done or event.type == COMPLETED
                    if record.offset + 1 >= end:
                        done = True
                if done:
                    return found
    finally:
        await consumer.stop()
