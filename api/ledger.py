"""The API's side of the ledger: append events, and tail the log for completions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from api.tail import Hub
from streams import constants
from streams.errors import LedgerUnavailable, kafka_unavailable
from streams.events import (
    ActivationCompleted,
    LedgerEvent,
    NamespaceThrottled,
    ThrottleLimit,
    encode,
    headers_of,
    read,
)
from streams.ids import now_ms
from streams.producestats import PRODUCE_CLOCK, send_stats
from streams.replication import replication_of
from streams.settings import Settings
from streams.tasks import TaskSet
from streams.topics import partition_count

log = logging.getLogger("ledgerwhisk.api.ledger")
# Only completions answer a waiter: other events of a waited-for activation are
# recognised by this text and left undecoded (a false match is decoded and checked).
COMPLETED_MARK = b'"type":"activation.completed"'


class Ledger:
    """Appends events and tells waiters when their activation completes.

    Every API instance tails the whole ``activation-events`` topic from its end,
    so a blocking invoke is answered by the instance that accepted it however
    the work was spread. Only records whose key someone waits for are decoded.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.topic = settings.topic(constants.TOPIC_EVENTS)
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._tail: asyncio.Task[None] | None = None
        self._waiters: dict[bytes, asyncio.Future[ActivationCompleted]] = {}
        # Event streams ride on this tail (api/tail.py).
        self.hub = Hub(settings.events_queue_max)
        self._throttle_notes = TaskSet(log, "appending a throttle to its topic")
        self._stats = TaskSet(log, "sending the API's stats")

    async def start(self) -> None:
        bootstrap = self.settings.kafka_bootstrap
        copies = replication_of(self.settings)
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            linger_ms=0,
            max_request_size=constants.LEDGER_MESSAGE_MAX_BYTES,
            **copies.producer_options(),
        )
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            **copies.consumer_options(),
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=100,
        )
        try:
            await self._producer.start()
            await self._consumer.start()
            count = await partition_count(self.settings, self.topic)
            if not count:
                raise LedgerUnavailable(
                    f"topic {self.topic} does not exist; run `python -m api.setup` (make up does)"
                )
            tps = [TopicPartition(self.topic, p) for p in range(count)]
            self._consumer.assign(tps)
            await self._consumer.seek_to_end(*tps)
            # Resolve the positions now, so no event appended from here on is skipped.
            self.hub.begin({tp.partition: await self._consumer.position(tp) for tp in tps})
        except KafkaError as exc:
            await self.stop()
            raise kafka_unavailable(bootstrap, exc) from exc
        self._tail = asyncio.create_task(self._follow())
        self._stats.spawn(
            send_stats(self.settings, "api", self.settings.api_instance, self._send_once)
        )

    async def _send_once(self, topic: str, key: bytes, value: bytes) -> None:
        assert self._producer is not None
        await PRODUCE_CLOCK.timed(self._producer.send_and_wait(topic, value, key=key))

    async def stop(self) -> None:
        self.hub.close()
        await self._throttle_notes.cancel()
        await self._stats.cancel()
        if self._tail is not None:
            self._tail.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tail
        for client in (self._producer, self._consumer):
            if client is not None:
                with contextlib.suppress(KafkaError):
                    await client.stop()

    async def append(self, event: LedgerEvent, value: bytes | None = None) -> int:
        """Write one event (``value``: its ``encode``, when the caller has it); returns its
        offset once Kafka has it. Raises ``LedgerUnavailable`` when Kafka refuses it."""
        assert self._producer is not None
        try:
            metadata = await PRODUCE_CLOCK.timed(
                self._producer.send_and_wait(
                    self.topic,
                    encode(event) if value is None else value,
                    key=event.activation_id.encode(),
                    headers=headers_of(event),
                )
            )
        except KafkaError as exc:
            raise LedgerUnavailable(f"Kafka refused the event ({exc!r})") from exc
        return int(metadata.offset)

    def note_throttled(self, namespace: str, limit: ThrottleLimit) -> None:
        """Append, in the background, that ``namespace`` got a 429 (for the metrics exporter).

        The 429 does not wait for it: a namespace flooding the API is answered
        at once, and a fact Kafka refuses is logged, not answered.
        """
        if self._producer is None:
            return
        fact = NamespaceThrottled(
            namespace=namespace, limit=limit, at_ms=now_ms(), source=self.settings.api_instance
        )
        topic = self.settings.topic(constants.TOPIC_THROTTLES)
        self._throttle_notes.spawn(
            self._producer.send_and_wait(topic, encode(fact), key=namespace.encode())
        )

    def expect(self, activation_id: str) -> asyncio.Future[ActivationCompleted]:
        """A future set when the activation's ``completed`` event reaches the log."""
        future: asyncio.Future[ActivationCompleted] = asyncio.get_running_loop().create_future()
        self._waiters[activation_id.encode()] = future
        return future

    def forget(self, activation_id: str) -> None:
        self._waiters.pop(activation_id.encode(), None)

    async def _follow(self) -> None:
        """Read the ledger from its end for as long as the API runs; nothing ends this loop.

        A record that does not decode is skipped here (the controller ends its
        activation with a readable whisk error, which answers the waiter).
        """
        assert self._consumer is not None
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=1000)
            except KafkaError as exc:
                log.warning("ledger tail: %r; retrying", exc)
                await asyncio.sleep(0.5)
                continue
            for records in batches.values():
                try:
                    self._answer(records)
                except Exception:
                    # A fault of ours must not end the tail: every blocking
                    # invoke of this instance waits on it.
                    log.exception("ledger tail: a batch could not be handled")

    def _answer(self, records: list[Any]) -> None:
        self.hub.publish(records)
        for record in records:
            waiter = self._waiters.get(record.key) if record.key else None
            if waiter is None or waiter.done() or COMPLETED_MARK not in record.value:
                continue
            event = read(record.value, record.key, record.headers)
            if isinstance(event, ActivationCompleted):
                waiter.set_result(event)
                self._waiters.pop(record.key, None)
