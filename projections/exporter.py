"""The metrics exporter: reads the ledger's ``completed`` events, the API's throttles, the
invokers' heartbeats and the services' stats, serves ``GET /metrics``.

It is OpenWhisk's user-events service (``core/monitoring/user-events``) for
Ledgerwhisk: one process, reading every ledger partition from its first
offset (no consumer group, no committed offsets), and the ``throttles``
topic likewise, so after a restart it
counts the whole ledger again and its counters never go backwards. Until it
has read up to the ends the partitions had when it started, ``/metrics``
answers 503: a scrape never sees a half-rebuilt counter (Prometheus marks
that scrape failed and keeps the series).

Beside OpenWhisk's user events it exposes the platform's own figures
(projections/platformmetrics.py): each invoker's containers by state and
queue from its heartbeats, each process's Kafka produce latency and the
controller's queue from the ``service-stats`` topic, and, polled every
``stats_interval_s``, the lag of the ledger's consumer groups and of the
projection.

It listens on ``LEDGERWHISK_METRICS_HOST``:``LEDGERWHISK_METRICS_PORT``
(127.0.0.1:9095, the user-events service's port), apart from the API and
not behind nginx: the metrics name every namespace's actions, so only who
can reach that address (the machine itself, by default) reads them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict

from aiohttp import web
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from projections.platformmetrics import (
    PlatformMetrics,
    RecordClock,
    behind,
    oldest_uncommitted_ms,
)
from projections.usermetrics import UserMetrics, observation_of
from streams import constants, worker
from streams.events import (
    COMPLETED,
    HEADER_TYPE,
    ActivationCompleted,
    InvokerHealth,
    NamespaceThrottled,
    ServiceStats,
    header,
    read,
    read_fact,
)
from streams.groupreader import Records, fetches, group_id
from streams.ids import now_ms
from streams.replication import replication_of
from streams.retry import until_done
from streams.settings import Settings
from streams.topics import partition_count

log = logging.getLogger("ledgerwhisk.metrics")

# Logged once the HTTP server listens: scripts/stack.sh waits for it.
SERVING = "metrics: serving"
# A second ``completed`` of one activation (the controller's at its deadline,
# then a late invoker's) comes within this long of the first: only the first
# counts, and ids older than this are forgotten.
REPEAT_WINDOW_MS = 2 * constants.TIMEOUT_MAX_MS + 60_000
# Metrics are scraped every few seconds: like the projection, let Kafka hold a fetch up
# to 200 ms for 256 kB, so that under load each fetch brings many records.
FETCH_WAIT_MS = 200
FETCH_MIN_BYTES = 256 * 1024


class FirstCompletions:
    """Which completions are an activation's first, per partition (all of an activation's
    events share its partition, so log order decides), remembering ids for a window."""

    def __init__(self, window_ms: int = REPEAT_WINDOW_MS):
        self.window_ms = window_ms
        self._seen: dict[int, OrderedDict[str, int]] = {}

    def first(self, partition: int, event: ActivationCompleted) -> bool:
        seen = self._seen.setdefault(partition, OrderedDict())
        if event.activation_id in seen:
            return False
        seen[event.activation_id] = event.at_ms
        while seen:
            oldest = next(iter(seen.values()))
            if oldest >= event.at_ms - self.window_ms:
                break
            seen.popitem(last=False)
        return True


class Exporter:
    """The reader and the HTTP server of one metrics process."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.topic = settings.topic(constants.TOPIC_EVENTS)
        self.throttles = settings.topic(constants.TOPIC_THROTTLES)
        self.health = settings.topic(constants.TOPIC_HEALTH)
        self.stats = settings.topic(constants.TOPIC_STATS)
        self.metrics = UserMetrics()
        self.platform = PlatformMetrics(
            int(settings.invoker_offline_after_s * 1000), int(settings.stats_interval_s * 1000)
        )
        self.metrics.registry.register(self.platform)
        self.clocks: dict[int, RecordClock] = {}
        self.firsts = FirstCompletions()
        self.caught_up = asyncio.Event()
        self.closing = asyncio.Event()

    async def serve_metrics(self, _request: web.Request) -> web.Response:
        if not self.caught_up.is_set():
            return web.Response(status=503, text="reading the ledger back; try again\n")
        self.platform.now_ms = now_ms()
        return web.Response(
            body=generate_latest(self.metrics.registry),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )

    async def run(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self.serve_metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.metrics_host, self.settings.metrics_port)
        await site.start()
        log.info(
            "%s on http://%s:%d/metrics",
            SERVING,
            self.settings.metrics_host,
            self.settings.metrics_port,
        )
        reader = asyncio.create_task(self.read(), name="metrics-reader")
        closing = asyncio.create_task(self.closing.wait())
        try:
            await asyncio.wait({reader, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader  # a reader that failed raises here, and the process exits
            closing.cancel()
            await runner.cleanup()

    async def read(self) -> None:
        """Read every partition from its first offset for ever, counting first completions
        and throttles."""
        tps = await until_done(
            self._partitions, what="finding the ledger", retry_on=KafkaError, log=log
        )
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            **replication_of(self.settings).consumer_options(),
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=FETCH_WAIT_MS,
            fetch_min_bytes=FETCH_MIN_BYTES,
            max_partition_fetch_bytes=constants.LEDGER_MESSAGE_MAX_BYTES,
        )
        await until_done(consumer.start, what="starting the reader", retry_on=KafkaError, log=log)
        try:
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = {tp: int(offset) for tp, offset in (await consumer.end_offsets(tps)).items()}
            await self._check_caught_up(consumer, ends)
            lags = asyncio.create_task(self._poll_lags(consumer), name="metrics-lags")
            try:
                async for batches in fetches(consumer, log):
                    for tp, records in batches.items():
                        self._take(tp, records)
                    if not self.caught_up.is_set():
                        await self._check_caught_up(consumer, ends)
            finally:
                lags.cancel()
        finally:
            await consumer.stop()

    def _take(self, tp: TopicPartition, records: Records) -> None:
        if tp.topic == self.topic:
            self._count_completions(tp.partition, records)
            return
        # The side topics hold one fact per record; one that holds none is skipped.
        for record in records:
            if tp.topic == self.throttles:
                throttled = read_fact(NamespaceThrottled, record.value)
                if throttled is not None:
                    self.metrics.observe_throttle(throttled)
                else:
                    log.warning("skipping a throttle fact that does not read at %d", record.offset)
            elif tp.topic == self.health:
                health = read_fact(InvokerHealth, record.value)
                if health is not None:
                    self.platform.observe_health(health)
            else:
                stats = read_fact(ServiceStats, record.value)
                if stats is not None:
                    self.platform.observe_stats(stats)

    def _count_completions(self, partition: int, records: Records) -> None:
        clock = self.clocks.setdefault(partition, RecordClock())
        for record in records:
            clock.saw(record.offset, record.timestamp)
            if header(record.headers, HEADER_TYPE) != COMPLETED:
                continue
            event = read(record.value, record.key, record.headers)
            if isinstance(event, ActivationCompleted) and self.firsts.first(partition, event):
                seen = observation_of(event)
                if seen is not None:
                    self.metrics.observe(seen)

    async def _poll_lags(self, consumer: AIOKafkaConsumer) -> None:
        """Every ``stats_interval_s``: how far the ledger's consumer groups are behind."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap)
        await until_done(admin.start, what="starting the lag reader", retry_on=KafkaError, log=log)
        ledger = [tp for tp in consumer.assignment() if tp.topic == self.topic]
        try:
            while True:
                try:
                    await self._measure_lags(admin, consumer, ledger)
                except KafkaError as exc:
                    log.warning("consumer-group lag not measured: %r; trying again", exc)
                await asyncio.sleep(self.settings.stats_interval_s)
        finally:
            await admin.close()

    async def _measure_lags(
        self, admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer, ledger: list[TopicPartition]
    ) -> None:
        ends = {tp.partition: int(end) for tp, end in (await consumer.end_offsets(ledger)).items()}
        for name in ("controller", "projection"):
            found = await admin.list_consumer_group_offsets(
                group_id(self.settings, name), partitions=ledger
            )
            committed = {tp.partition: meta.offset for tp, meta in found.items()}
            lag = behind(ends, committed)
            self.platform.group_lag[name] = sum(lag.values())
            if name == "projection":
                oldest = oldest_uncommitted_ms(lag, committed, self.clocks)
                self.platform.projection_lag_s = (
                    0.0 if oldest is None else max(0.0, (now_ms() - oldest) / 1000)
                )

    async def _partitions(self) -> list[TopicPartition]:
        """Every partition of the ledger, the throttles, the health and the stats topics."""
        tps = []
        for topic in (self.topic, self.throttles, self.health, self.stats):
            count = await partition_count(self.settings, topic)
            if not count:
                raise KafkaError(f"topic {topic} does not exist yet")
            tps += [TopicPartition(topic, p) for p in range(count)]
        return tps

    async def _check_caught_up(
        self, consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]
    ) -> None:
        for tp, end in ends.items():
            if await consumer.position(tp) < end:
                return
        self.caught_up.set()
        log.info(
            "metrics: caught up with the ledger (%d activations counted)", self.metrics.observed
        )


def main() -> None:
    worker.serve(Exporter)


if __name__ == "__main__":
    main()
