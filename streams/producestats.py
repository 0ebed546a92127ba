"""A process's own figures for the metrics exporter: how long its Kafka writes take to be
acknowledged, and what it holds queued.

Each service that writes to Kafka (the API, the controller, every invoker)
times each acknowledged write from the call to the acknowledgement in the one
``PRODUCE_CLOCK`` of its process (counts per bucket, as a Prometheus histogram
keeps them), and ``send_stats`` sends them every ``stats_interval_s`` as a
``ServiceStats`` fact to the ``service-stats`` topic. The exporter keeps the
latest of each process and exposes ``ledgerwhisk_kafka_produce_seconds``
(projections/platformmetrics.py). A stats write is best effort: one Kafka
refuses is logged and the next one carries the same, grown, counts.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka.errors import KafkaError
from faust.exceptions import ProducerSendError

from streams import constants
from streams.events import ServiceStats, encode
from streams.ids import now_ms
from streams.settings import Settings

log = logging.getLogger("ledgerwhisk.stats")

T = TypeVar("T")

# Upper bounds, in seconds, of the produce-latency buckets (a last one is above them all).
PRODUCE_BUCKETS_S: tuple[float, ...] = (
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)
# A stats write waits this long for its acknowledgement, then gives up until the next.
SEND_TIMEOUT_S = 5.0

Send = Callable[[str, bytes, bytes], Awaitable[object]]


class ProduceClock:
    """Counts acknowledged Kafka writes per latency bucket, and their total seconds."""

    def __init__(self) -> None:
        self.counts = [0] * (len(PRODUCE_BUCKETS_S) + 1)
        self.sum_s = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(PRODUCE_BUCKETS_S, seconds)] += 1
        self.sum_s += seconds

    async def timed(self, write: Awaitable[T]) -> T:
        """Await ``write`` (one Kafka write); count its latency when it succeeds."""
        started = time.perf_counter()
        result = await write
        self.observe(time.perf_counter() - started)
        return result


# The one clock of this process: every writer of the process counts in it.
PRODUCE_CLOCK = ProduceClock()


async def send_stats(
    settings: Settings,
    service: str,
    instance: str,
    send: Send,
    queued: Callable[[], int] | None = None,
) -> None:
    """Send this process's ``ServiceStats`` every ``stats_interval_s``, for ever.

    ``send(topic, key, value)`` writes one record with the service's producer;
    ``queued`` tells how many activations the service holds waiting, if it holds any.
    """
    topic = settings.topic(constants.TOPIC_STATS)
    incarnation = uuid.uuid4().hex[:12]
    key = f"{service}/{instance}".encode()
    while True:
        fact = ServiceStats(
            service=service,
            instance=instance,
            incarnation=incarnation,
            at_ms=now_ms(),
            produce_counts=list(PRODUCE_CLOCK.counts),
            produce_sum_s=PRODUCE_CLOCK.sum_s,
            queued=queued() if queued is not None else None,
        )
        try:
            await asyncio.wait_for(send(topic, key, encode(fact)), SEND_TIMEOUT_S)
        except (KafkaError, ProducerSendError, TimeoutError) as exc:
            log.warning("stats: %s/%s not sent (%r); sending again later", service, instance, exc)
        await asyncio.sleep(settings.stats_interval_s)
