"""Controllers and the projection writer killed (``kill -9``) under load, and restarted.

They resume from their committed offsets: every activation is scheduled once
(one ``scheduled`` event, one dispatch that ran), completed once, and projected
into exactly the record the ledger folds into.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from projections import record
from streams.events import SCHEDULED, ActivationScheduled, Dispatch, encode
from streams.lifecycle import seq_for
from streams.settings import Settings

from .cluster import (
    Cluster,
    Story,
    fire,
    log_time_ms,
    now_ms,
    put_counting,
    running,
    stories,
    until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

INVOKERS = 2
COUNT = 120
SLEEP_S = 0.3


@pytest.fixture(scope="module")
async def cluster(
    stack: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    workdir = tmp_path_factory.mktemp("failover-controller")
    async with running(stack, workdir, "fc", INVOKERS) as c:
        yield c


async def check_once_each(cluster: Cluster, namespace: str, ids: list[str]) -> None:
    async def everything_done() -> dict | None:
        by_id = stories(await cluster.ledger(), namespace)
        return by_id if all(i in by_id and by_id[i].completed for i in ids) else None

    by_id = await until(everything_done, 180, "every activation to complete")
    runs = cluster.executions()
    for aid in ids:
        story = by_id[aid]
        assert len(story.scheduled) == 1, story.scheduled  # scheduled once
        assert len(story.started) == 1 and len(story.completed) == 1, story.events
        assert story.completed[0].response.status_code == 0, story.completed[0]
        assert runs[aid] == 1

    async def all_projected() -> list[str] | None:
        found = await cluster.completed_records(namespace)
        return found if sorted(found) == sorted(ids) else None

    await until(all_projected, 60, "every record to be projected")
    stored = await cluster.records(ids)
    for aid in ids:
        expected = record.apply_all(None, by_id[aid].events)
        assert expected is not None
        assert {k: v for k, v in stored[aid].items() if k not in ("_id", "_rev")} == expected


async def test_controller_and_projection_writer_killed_and_restarted_resume_where_they_were(
    cluster: Cluster,
) -> None:
    async with aiohttp.ClientSession() as session:
        client = await cluster.client(session)
        await put_counting(client, "count")
        ids = await fire(client, "count", COUNT // 2, sleep_s=SLEEP_S)
        # Some are done, some run, most wait in the controller's queue.
        await until(
            lambda: _completed_at_least(cluster, client.namespace, 5), 60, "a few completions"
        )
        killed_at = cluster.kill("controller")
        cluster.kill("projection")
        # Accepted while neither runs: they wait in the ledger.
        ids += await fire(client, "count", COUNT - len(ids), sleep_s=SLEEP_S)
        cluster.start_controller("controller")
        cluster.start_projection()
        await cluster.ready("controller", "projection")
    await check_once_each(cluster, client.namespace, ids)
    rebuilt = [line for line in cluster.lines("controller") if "rebuilt:" in line]
    resumed_at = min(t for t in map(log_time_ms, rebuilt) if t is not None)
    cluster.save(
        "controller_restarted",
        {"activations": COUNT, "rebuilt_ms_after_kill": resumed_at - killed_at},
    )


async def _completed_at_least(cluster: Cluster, namespace: str, n: int) -> bool:
    by_id = stories(await cluster.ledger(), namespace)
    return sum(1 for s in by_id.values() if s.completed) >= n


async def test_two_controllers_share_the_work_and_one_takes_over_when_the_other_dies(
    cluster: Cluster,
) -> None:
    cluster.start_controller("controller2")
    await cluster.ready("controller2")

    async def split() -> bool:
        lines = cluster.lines("controller") + cluster.lines("controller2")
        owning = [line for line in lines if "owning ledger partitions" in line]
        return (
            bool(owning)
            and all("of 4" in line for line in owning[-2:])
            and ("[0, 1, 2, 3]" not in owning[-1])
        )

    await until(split, 60, "the partitions to be split")
    async with aiohttp.ClientSession() as session:
        client = await cluster.client(session)
        await put_counting(client, "count")
        ids = await fire(client, "count", COUNT // 2, sleep_s=SLEEP_S)
        await asyncio.sleep(0)  # let a part of them run before the kill
        await until(
            lambda: _completed_at_least(cluster, client.namespace, 5), 60, "a few completions"
        )
        killed_at = cluster.kill("controller2")
        ids += await fire(client, "count", COUNT - len(ids), sleep_s=SLEEP_S)
    await check_once_each(cluster, client.namespace, ids)
    owning = [
        line
        for line in cluster.lines("controller")
        if "owning ledger partitions [0, 1, 2, 3]" in line
    ]
    taken_over_at = log_time_ms(owning[-1])
    assert taken_over_at is not None and taken_over_at > killed_at
    cluster.save(
        "controller_taken_over",
        {
            "session_timeout_s": cluster.settings.group_session_timeout_s,
            "partitions_taken_over_ms_after_kill": taken_over_at - killed_at,
        },
    )


async def test_a_dispatch_written_without_its_scheduled_is_adopted_not_sent_again(
    cluster: Cluster,
) -> None:
    # A first attempt's scheduled and its dispatch are written side by side
    # (streams.controller.steps). Here the controller dies between the two: the
    # dispatch reached invoker 0, the scheduled never reached the ledger. The
    # next controller must find the dispatch, record the missing scheduled, and
    # send nothing again.
    async with aiohttp.ClientSession() as session:
        client = await cluster.client(session)
        await put_counting(client, "adopted")
        cluster.kill("controller")
        [aid] = await fire(client, "adopted", 1)
        story = await until(lambda: _story(cluster, aid), 30, "the acceptance to reach the ledger")
        written = ActivationScheduled(
            activation_id=aid,
            seq=seq_for(SCHEDULED, 0),
            at_ms=now_ms(),
            namespace=story.accepted.namespace,
            source="controller@died-between-the-writes",
            invoker=0,
            decision="home",
            wait_ms=0,
            attempt=0,
        )
        # Invoker 0 takes the dispatch only once the new controller has rebuilt
        # every partition (well within the 10 s it may stay silent).
        cluster.signal("invoker0", signal.SIGSTOP)
        try:
            await _append_dispatch(
                cluster.settings, Dispatch(accepted=story.accepted, scheduled=written)
            )
            cluster.start_controller("controller")
            await until(lambda: _rebuilt_all(cluster), 30, "every partition to be rebuilt")
        finally:
            cluster.signal("invoker0", signal.SIGCONT)
        done = await until(
            lambda: _completed(cluster, aid), 120, "the adopted activation to complete"
        )
    assert [(s.source, s.invoker, s.attempt) for s in done.scheduled] == [
        ("controller@died-between-the-writes", 0, 0)
    ]
    assert len(done.started) == 1 and done.started[0].invoker == 0
    assert done.completed[0].response.status_code == 0, done.completed[0]
    assert cluster.executions()[aid] == 1
    assert await _dispatches_of(cluster.settings, aid) == 1


async def _rebuilt_all(cluster: Cluster) -> bool:
    return sum("rebuilt:" in line for line in cluster.lines("controller")) >= 4


async def _story(cluster: Cluster, aid: str) -> Story | None:
    return stories(await cluster.ledger()).get(aid)


async def _completed(cluster: Cluster, aid: str) -> Story | None:
    story = await _story(cluster, aid)
    return story if story is not None and story.completed else None


async def _append_dispatch(settings: Settings, dispatch: Dispatch) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            settings.dispatch_topic(dispatch.scheduled.invoker),
            encode(dispatch),
            key=dispatch.scheduled.activation_id.encode(),
        )
    finally:
        await producer.stop()


async def _dispatches_of(settings: Settings, aid: str) -> int:
    """How many dispatches of ``aid`` the invokers' topics hold."""
    count = 0
    for invoker in range(INVOKERS):
        topic = settings.dispatch_topic(invoker)
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            tp = TopicPartition(topic, 0)
            end = (await consumer.end_offsets([tp]))[tp]
            while await consumer.position(tp) < end:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                count += sum(1 for r in batch.get(tp, []) if r.key == aid.encode())
        finally:
            await consumer.stop()
    return count
