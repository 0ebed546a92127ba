"""The Faust app every ledger agent runs in, configured for low latency."""

from __future__ import annotations

import faust

from streams.constants import LEDGER_MESSAGE_MAX_BYTES
from streams.settings import Settings


def make_app(name: str, settings: Settings) -> faust.App:
    """A Faust app for one agent process.

    The web server is off (several workers share one host), values are raw bytes
    (our pydantic models do the JSON), and the producer sends at once.
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
    )
