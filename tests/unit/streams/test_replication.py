"""What one broker and a cluster ask of Kafka, derived from the replication factor alone."""

from __future__ import annotations

from streams.replication import Replication, replication_of
from streams.settings import Settings
from streams.topics import ledger_topics


def test_one_replica_keeps_the_dev_brokers_settings() -> None:
    one = Replication(1)
    assert one.min_insync == 1
    assert one.producer_options() == {"acks": 1}
    assert one.consumer_options() == {}


def test_three_replicas_acknowledge_after_two_with_an_idempotent_producer() -> None:
    three = Replication(3)
    assert three.min_insync == 2
    assert three.topic_config() == {"min.insync.replicas": "2"}
    assert three.producer_options() == {"acks": "all", "enable_idempotence": True}
    assert three.consumer_options() == {"isolation_level": "read_committed"}


def test_the_quorum_is_a_majority_from_three_replicas_on() -> None:
    assert [Replication(n).min_insync for n in (1, 2, 3, 4, 5)] == [1, 1, 2, 3, 3]


def test_every_platform_topic_gets_the_settings_replication() -> None:
    settings = Settings(kafka_replication_factor=3)
    assert replication_of(settings) == Replication(3)
    for spec in ledger_topics(settings):
        assert spec.replication.replicas == 3
        assert spec.config()["min.insync.replicas"] == "2"
