"""The rebuild's cut: which activations the log touched after it, and when the live projection
has applied everything before it.

A rebuild reads the log up to a cut (``Rebuilt.stop``: per partition, the
offset it stopped at). On a stack in use the live projection goes on past
it; ``projections.compare`` must then leave out the records of activations
that have events at or after the cut, and compare the rest only once the live
projection writer has applied everything before the cut.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from streams import constants
from streams.errors import kafka_unavailable
from streams.history import LedgerReader
from streams.positions import Cursor
from streams.settings import Settings

WRITER_POLL_S = 0.2


def writer_group(settings: Settings) -> str:
    """The projection writer's consumer group (its Faust app id, ``streams.app.make_app``)."""
    return f"{settings.prefix}-projection"


def reached(committed: Cursor, cut: Cursor) -> bool:
    """Whether a consumer that committed ``committed`` has read everything before ``cut``.

    A partition it never committed on is at 0.
    """
    return all(committed.get(p, 0) >= offset for p, offset in cut.items())


async def writer_position(settings: Settings) -> Cursor:
    """Per partition, the next offset the projection writer will apply (its committed offset).

    The writer commits a batch only after CouchDB stored it.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        await admin.start()
        committed = await admin.list_consumer_group_offsets(writer_group(settings))
    except KafkaError as exc:
        raise kafka_unavailable(settings.kafka_bootstrap, exc) from exc
    finally:
        await admin.close()
    topic = settings.topic(constants.TOPIC_EVENTS)
    return {tp.partition: meta.offset for tp, meta in committed.items() if tp.topic == topic}


async def wait_for_writer(settings: Settings, cut: Cursor, timeout_s: float) -> Cursor | None:
    """Wait until the live projection applied everything before ``cut``; None if it has, else
    where it stands when ``timeout_s`` ran out."""
    deadline = time.monotonic() + timeout_s
    while True:
        at = await writer_position(settings)
        if reached(at, cut):
            return None
        if time.monotonic() >= deadline:
            return at
        await asyncio.sleep(WRITER_POLL_S)


async def touched_since(settings: Settings, cut: Cursor) -> tuple[set[str], Cursor]:
    """The ids of activations with an event at or after ``cut``, and the end it read up to.

    Reads only the record keys (every ledger record is keyed by its
    activation id), from ``cut`` to the end of the log as it is now.
    """
    ids: set[str] = set()
    async with LedgerReader(settings) as reader:
        _, end = await reader.bounds()
        batches = reader.read(dict(cut), end)
        async with aclosing(batches):
            async for batch in batches:
                ids.update(r.key.decode("utf-8", "replace") for r in batch if r.key)
    return ids, end
