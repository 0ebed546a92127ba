"""Reading the invoker-health topic into a registry: every controller and API instance does.

Not a consumer group: each reader needs every heartbeat. It starts a little
in the past (so a process that just started knows the invokers at once) and
tells the registry, after every fetch, whether it has read the topic to its end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from streams import constants
from streams.events import InvokerHealth
from streams.ids import now_ms
from streams.registry import InvokerRegistry, believable
from streams.replication import replication_of
from streams.settings import Settings

log = logging.getLogger("ledgerwhisk.heartbeats")

RETRY_S = 0.5
FETCH_MS = 200

OnHealth = Callable[[InvokerHealth, bool], None]


class HealthTail:
    """Follows the health topic; calls ``on_health(health, new_run)`` for each heartbeat.

    ``caught_up`` is set the first time the reader reaches the end of the topic.
    """

    def __init__(
        self, settings: Settings, registry: InvokerRegistry, on_health: OnHealth | None = None
    ):
        self.settings = settings
        self.registry = registry
        self.on_health = on_health
        self.caught_up = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="health-tail")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.settings.kafka_bootstrap,
                **replication_of(self.settings).consumer_options(),
                group_id=None,
                enable_auto_commit=False,
                fetch_max_wait_ms=FETCH_MS,
            )
            try:
                await consumer.start()
                await self._follow(consumer)
            except (KafkaError, OSError) as exc:
                log.warning("health topic: %r; reading again in %.1f s", exc, RETRY_S)
                self.registry.hearing(now_ms(), caught_up=False)
            finally:
                with contextlib.suppress(KafkaError):
                    await consumer.stop()
            await asyncio.sleep(RETRY_S)

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        tp = TopicPartition(self.settings.topic(constants.TOPIC_HEALTH), 0)
        consumer.assign([tp])
        since = now_ms() - 2 * int(self.settings.invoker_offline_after_s * 1000)
        found = (await consumer.offsets_for_times({tp: since})).get(tp)
        if found is not None:
            consumer.seek(tp, found.offset)
        else:
            await consumer.seek_to_end(tp)
        catching_up = True
        while True:
            asked = now_ms()
            end = (await consumer.end_offsets([tp]))[tp]
            batch = await consumer.getmany(tp, timeout_ms=FETCH_MS)
            for record in batch.get(tp, []):
                try:
                    health = InvokerHealth.model_validate_json(record.value)
                except (ValueError, RecursionError, TypeError) as exc:  # ValidationError too
                    log.warning("ignoring a malformed heartbeat at %d: %s", record.offset, exc)
                    continue
                if not believable(health, now_ms()):
                    log.warning(
                        "ignoring a heartbeat of invoker %d at %d stamped %d ms ahead of "
                        "this host's clock (a forged record, or clocks not in sync: run NTP)",
                        health.invoker,
                        record.offset,
                        health.at_ms - now_ms(),
                    )
                    continue
                # While catching up, a heartbeat was heard when it was written.
                seen = min(now_ms(), record.timestamp) if catching_up else now_ms()
                new_run = self.registry.observe(health, seen)
                if self.on_health is not None:
                    self.on_health(health, new_run)
            if await consumer.position(tp) >= end:
                # Everything appended before ``asked`` has been observed.
                self.registry.hearing(asked, caught_up=True)
                catching_up = False
                self.caught_up.set()
