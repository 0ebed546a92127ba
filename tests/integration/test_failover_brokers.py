"""A three-broker Kafka cluster loses brokers under a steady load: nothing lost, nothing twice.

The test starts its own cluster of three KRaft nodes (``scripts/kafka.sh`` with
``LEDGERWHISK_KAFKA_BROKERS=3``: every topic three replicas, ``min.insync.replicas=2``,
producers ``acks=all`` and idempotent) and the platform's processes on it, with
the session stack's CouchDB and Docker. A few callers invoke a counting action
blocking, back to back, a bounded number of times, while the test

1. kills one broker with ``kill -9`` and restarts it, then kills the leader of
   the ledger's partition 0 (and restarts it);
2. kills the leader of the KRaft quorum (and restarts it).

After each: every caller got an answer (a result, or OpenWhisk's error), no
activation is lost (each id a caller or the action saw is in the ledger), none
ran twice (the action counts its own runs), none is left without
``completed``, and ``lwsk admin rebuild --verify`` finds the projection equal
to the ledger. The figures are printed (and saved under
``.state/test/measurements``): load held, time without service after each
kill, lost / twice / hanging.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from streams import constants
from streams.ids import now_ms
from streams.settings import Settings
from tests.support.brokers import Brokers
from tests.support.cluster import Cluster, put_counting, running
from tests.support.load import Load, check, outcome, rate, served, verified
from tests.support.stack import PORT_BASE, ROOT
from tests.support.waits import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

INVOKERS = 2
TIMEOUT_MS = 30_000
STATE = ROOT / ".state" / "test" / "brokers"
# Brokers on base+100, +110, +120 (controllers one above): clear of the session stack's.
FIRST_PORT = PORT_BASE + 100


@pytest.fixture(scope="module")
async def brokers() -> AsyncIterator[Brokers]:
    shutil.rmtree(STATE, ignore_errors=True)
    cluster = Brokers(STATE, FIRST_PORT)
    try:
        await cluster.start()
        yield cluster
    finally:
        await cluster.stop()


@pytest.fixture(scope="module")
async def cluster(
    stack: Settings, brokers: Brokers, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    on_brokers = Settings(
        kafka_bootstrap=brokers.bootstrap,
        kafka_replication_factor=3,
        couchdb_url=stack.couchdb_url,
    )
    async with running(
        on_brokers, tmp_path_factory.mktemp("failover-brokers"), "fb", INVOKERS
    ) as c:
        yield c


async def back_in_sync(brokers: Brokers, cluster: Cluster) -> None:
    await brokers.start()
    topic = cluster.settings.topic(constants.TOPIC_EVENTS)
    await eventually(lambda: brokers.in_sync(topic), 240, "every replica back in sync", 0.5)


async def test_a_broker_killed_and_restarted_then_the_ledgers_leader_killed_lose_nothing(
    brokers: Brokers, cluster: Cluster
) -> None:
    ledger = cluster.settings.topic(constants.TOPIC_EVENTS)
    async with aiohttp.ClientSession() as session:
        client = await cluster.client(session)
        await put_counting(client, "count", timeout_ms=TIMEOUT_MS)
        load = Load(client, ["count"])
        began = time.monotonic()
        task = asyncio.ensure_future(load.run())
        try:
            await served(load, 0, "the load to run")
            # A follower of the ledger's partition 0 first: one broker of three down.
            leader = await brokers.leader(ledger, 0)
            follower = (leader + 1) % brokers.count
            broker_killed = await brokers.kill(follower)
            await served(load, broker_killed, "results with one broker down")
            await back_in_sync(brokers, cluster)
            restarted = now_ms()
            await served(load, restarted, "results after the broker's restart")
            # Then the leader of the ledger's partition 0.
            leader = await brokers.leader(ledger, 0)
            leader_killed = await brokers.kill(leader)
            await served(load, leader_killed, "results after the leader's loss")
            await back_in_sync(brokers, cluster)
        finally:
            load.stopping.set()
            await task
        seconds = time.monotonic() - began
    figures = await outcome(cluster, client.namespace, load)
    await verified(cluster)
    figures.update(
        {
            "seconds": round(seconds, 1),
            "results_per_second": rate(load),
            "broker_killed": follower,
            "ms_to_first_result_after_broker_kill": load.without_service_ms(broker_killed),
            "longest_ms_without_result_after_broker_kill": load.longest_gap_ms(broker_killed),
            "broker_restart_in_sync_ms": restarted - broker_killed,
            "ledger_leader_killed": leader,
            "ms_to_first_result_after_leader_kill": load.without_service_ms(leader_killed),
            "longest_ms_without_result_after_leader_kill": load.longest_gap_ms(leader_killed),
        }
    )
    cluster.save("brokers_follower_then_leader_killed", figures)
    check(figures)


async def test_the_kraft_quorum_leader_killed_loses_nothing(
    brokers: Brokers, cluster: Cluster
) -> None:
    async with aiohttp.ClientSession() as session:
        client = await cluster.client(session)
        await put_counting(client, "count", timeout_ms=TIMEOUT_MS)
        load = Load(client, ["count"])
        began = time.monotonic()
        task = asyncio.ensure_future(load.run())
        try:
            await served(load, 0, "the load to run")
            quorum_leader = brokers.quorum_leader()
            killed = await brokers.kill(quorum_leader)
            await served(load, killed, "results after the quorum leader's loss")
            await back_in_sync(brokers, cluster)
            new_leader = brokers.quorum_leader()
        finally:
            load.stopping.set()
            await task
        seconds = time.monotonic() - began
    figures = await outcome(cluster, client.namespace, load)
    await verified(cluster)
    figures.update(
        {
            "seconds": round(seconds, 1),
            "results_per_second": rate(load),
            "quorum_leader_killed": quorum_leader,
            "quorum_leader_after": new_leader,
            "ms_to_first_result_after_kill": load.without_service_ms(killed),
            "longest_ms_without_result_after_kill": load.longest_gap_ms(killed),
        }
    )
    cluster.save("brokers_quorum_leader_killed", figures)
    check(figures)
