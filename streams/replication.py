"""How durable the ledger's writes are: everything that differs between one broker and a cluster.

One setting decides it, ``kafka_replication_factor`` (``LEDGERWHISK_KAFKA_REPLICATION_FACTOR``:
1 on the dev broker, 3 for ``make up KAFKA_BROKERS=3`` or an existing cluster);
the rest is derived here, pure, and read by the topics' creation
(``streams/topics.py``), every producer (``streams/app.py``, ``api/ledger.py``)
and every reader of the ledger. ``scripts/kafka/replication.sh`` keeps the
same rule for the brokers' own defaults and internal topics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streams.settings import Settings


@dataclass(frozen=True)
class Replication:
    """The copies each partition keeps and what a producer and a consumer ask of them.

    With one replica nothing is gained by waiting for others: producers ask the
    leader's acknowledgement only (``acks=1``), the speed of the dev stack.
    With three, a write is acknowledged once ``min_insync`` replicas have it
    (``acks=all`` with ``min.insync.replicas=2``: it survives the loss of any
    broker), the producer is idempotent (a batch retried after a leader
    change is written once), and consumers read committed data only.
    """

    replicas: int

    @property
    def min_insync(self) -> int:
        """1 below three replicas, else a majority: 3 -> 2, 5 -> 3."""
        return 1 if self.replicas < 3 else self.replicas // 2 + 1

    @property
    def replicated(self) -> bool:
        return self.replicas > 1

    def topic_config(self) -> dict[str, str]:
        """Topic-level settings (``kafka-configs`` names)."""
        return {"min.insync.replicas": str(self.min_insync)}

    def producer_options(self) -> dict[str, Any]:
        """Keyword arguments of ``AIOKafkaProducer`` (``acks``, ``enable_idempotence``)."""
        if not self.replicated:
            return {"acks": 1}
        return {"acks": "all", "enable_idempotence": True}

    def consumer_options(self) -> dict[str, Any]:
        """Keyword arguments of ``AIOKafkaConsumer`` (``isolation_level``)."""
        if not self.replicated:
            return {}
        return {"isolation_level": "read_committed"}


def replication_of(settings: Settings) -> Replication:
    return Replication(settings.kafka_replication_factor)
