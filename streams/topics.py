"""The ledger's Kafka topics: names, partitioning, retention, and their creation."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from streams import constants
from streams.errors import kafka_unavailable
from streams.replication import Replication, replication_of
from streams.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopicSpec:
    """A topic the platform needs: its partitions, how long it keeps data, how many copies."""

    name: str
    partitions: int
    retention_ms: int
    replication: Replication = field(default_factory=lambda: Replication(1))

    def config(self) -> dict[str, str]:
        return {
            "retention.ms": str(self.retention_ms),
            "retention.bytes": "-1",
            "max.message.bytes": str(constants.LEDGER_MESSAGE_MAX_BYTES),
            **self.replication.topic_config(),
        }


def ledger_topics(settings: Settings) -> list[TopicSpec]:
    """Every topic a stack needs: the ledger, invoker health, dead letters, throttles.

    There is no topic per invoker: an activation is placed on an invoker by a
    record of the ledger itself (an ``accepted`` the API placed, a ``scheduled``
    the controller wrote), which names it in its ``invoker`` header, and every
    invoker reads the ledger. One write does both jobs: the fact and the dispatch.
    """
    copies = replication_of(settings)
    return [
        TopicSpec(
            settings.topic(constants.TOPIC_EVENTS),
            settings.ledger_partitions,
            settings.ledger_retention_ms,
            copies,
        ),
        TopicSpec(settings.topic(constants.TOPIC_HEALTH), 1, settings.health_retention_ms, copies),
        TopicSpec(settings.topic(constants.TOPIC_STATS), 1, settings.health_retention_ms, copies),
        TopicSpec(
            settings.topic(constants.TOPIC_DEAD_LETTERS),
            1,
            settings.dead_letter_retention_ms,
            copies,
        ),
        # Kept as long as the ledger: the metrics exporter counts them again at every start.
        TopicSpec(
            settings.topic(constants.TOPIC_THROTTLES), 1, settings.ledger_retention_ms, copies
        ),
    ]


async def ensure_topics(settings: Settings, specs: list[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet, update the settings of those that do.

    Returns the names created.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        await admin.start()
    except KafkaError as exc:
        raise kafka_unavailable(settings.kafka_bootstrap, exc) from exc
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        present = [s for s in specs if s.name in existing]
        if present:
            # Topics made by an older version keep their old settings (a 1 MB
            # message limit, say) unless they are brought up to date here.
            await admin.alter_configs(
                [ConfigResource(ConfigResourceType.TOPIC, s.name, s.config()) for s in present]
            )
        if not missing:
            return []
        try:
            await admin.create_topics(
                [
                    NewTopic(s.name, s.partitions, s.replication.replicas, topic_configs=s.config())
                    for s in missing
                ]
            )
        except TopicAlreadyExistsError:
            # Another process created them in between: that is what we wanted.
            pass
        log.info("created topics %s", [s.name for s in missing])
        return [s.name for s in missing]
    finally:
        await admin.close()


_PARTITIONS: dict[tuple[str, str], int] = {}


async def partition_count(settings: Settings, topic: str) -> int:
    """How many partitions ``topic`` has (0 when it does not exist); cached per process."""
    key = (settings.kafka_bootstrap, topic)
    if key in _PARTITIONS:
        return _PARTITIONS[key]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        await admin.start()
        described = await admin.describe_topics([topic])
    except KafkaError as exc:
        raise kafka_unavailable(settings.kafka_bootstrap, exc) from exc
    finally:
        await admin.close()
    info = described[0] if described else {}
    count = 0 if info.get("error_code") else len(info.get("partitions", []))
    if count:
        _PARTITIONS[key] = count
    return count
