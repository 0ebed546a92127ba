"""The Faust app every ledger agent runs in, configured for low latency."""

from __future__ import annotations

import logging
from typing import Any, cast

import faust
from aiokafka.errors import KafkaError
from faust.exceptions import ProducerSendError
from faust.transport.drivers import aiokafka as faust_aiokafka

from streams.constants import LEDGER_MESSAGE_MAX_BYTES
from streams.groupreader import group_id
from streams.producestats import PRODUCE_CLOCK
from streams.replication import Replication, replication_of
from streams.retry import until_done
from streams.settings import Settings

log = logging.getLogger("ledgerwhisk.streams")


def make_app(name: str, settings: Settings) -> faust.App:
    """A Faust app for one worker process: its lifecycle, timers, tasks and producer.

    The web server is off (several workers share one host), values are raw bytes
    (our pydantic models do the JSON), and the producer sends at once. No worker
    consumes through Faust (``producer_only``): the ledger is read by
    ``streams.groupreader.GroupReader`` or, in an invoker, by its own consumer.
    """
    app = faust.App(
        group_id(settings, name),
        broker=f"kafka://{settings.kafka_bootstrap}",
        value_serializer="raw",
        key_serializer="raw",
        web_enabled=False,
        topic_allow_declare=False,
        topic_disable_leader=True,
        producer_linger=0.0,
        producer_max_request_size=LEDGER_MESSAGE_MAX_BYTES,
        table_standby_replicas=0,
        topic_replication_factor=1,
    )
    app.producer_only = True
    transport = _Transport(app.conf.broker_consumer, app)
    transport.replication = replication_of(settings)
    app.transport = transport
    return app


class _Producer(faust_aiokafka.Producer):
    """Faust's producer with the ledger's acks and idempotence (``streams/replication.py``).

    Faust sets ``acks`` from one setting and turns idempotence on only inside
    its transactions; this producer asks for what the replication asks.
    """

    def _settings_extra(self) -> dict[str, Any]:
        return {
            **super()._settings_extra(),
            **cast(_Transport, self.transport).replication.producer_options(),
        }


class _Transport(faust_aiokafka.Transport):
    Producer = _Producer
    replication = Replication(1)


async def write_until_taken(
    app: faust.App,
    topic: str,
    key: bytes,
    value: bytes,
    headers: list[tuple[str, bytes]] | None = None,
) -> Any:
    """Write one record with the app's producer; retry until Kafka takes it.

    For facts that must not be lost (a decision, an outcome): while Kafka is
    away the caller waits rather than drops. Returns the record's metadata.
    """
    return await until_done(
        lambda: PRODUCE_CLOCK.timed(
            app.producer.send_and_wait(topic, key, value, None, None, headers)
        ),
        what=f"writing to {topic}",
        retry_on=(KafkaError, ProducerSendError),
        log=log,
    )
