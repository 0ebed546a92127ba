"""The Faust app every ledger agent runs in, configured for low latency."""

from __future__ import annotations

import faust

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
    )
