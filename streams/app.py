"""The Faust app every ledger agent runs in, configured for low latency."""

from __future__ import annotations

import logging
from typing import Any

import faust
from aiokafka.errors import KafkaError
from faust.exceptions import ProducerSendError

from streams.constants import LEDGER_MESSAGE_MAX_BYTES
from streams.retry import until_done
from streams.settings import Settings

log = logging.getLogger("ledgerwhisk.streams")


def make_app(name: str, settings: Settings, instance: str | None = None) -> faust.App:
    """A Faust app for one agent process.

    The web server is off (several workers share one host), values are raw bytes
    (our pydantic models do the JSON), and the producer sends at once.

    With an ``instance`` name (stable across restarts, unique in the group:
    an invoker's id, a controller's process name) the worker joins its consumer
    group as a static member, so after a crash its next run takes its
    partitions back at once instead of waiting for the old session to expire.
    """
    return faust.App(
        f"{settings.prefix}-{name}",
        broker=f"kafka://{settings.kafka_bootstrap}",
        value_serializer="raw",
        key_serializer="raw",
        web_enabled=False,
        topic_allow_declare=False,
        topic_disable_leader=True,
        producer_linger=0.0,
        producer_acks=1,
        producer_max_request_size=LEDGER_MESSAGE_MAX_BYTES,
        consumer_max_fetch_size=LEDGER_MESSAGE_MAX_BYTES,
        consumer_auto_offset_reset="earliest",
        broker_commit_every=100,
        broker_commit_interval=1.0,
        stream_wait_empty=False,
        table_standby_replicas=0,
        topic_replication_factor=1,
        # A killed member's partitions move to the others after this long
        # (Faust's default is 60 s).
        broker_session_timeout=settings.group_session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.group_session_timeout_s / 5),
        consumer_group_instance_id=f"{settings.prefix}-{name}-{instance}" if instance else None,
    )


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
        lambda: app.producer.send_and_wait(topic, key, value, None, None, headers),
        what=f"writing to {topic}",
        retry_on=(KafkaError, ProducerSendError),
        log=log,
    )
