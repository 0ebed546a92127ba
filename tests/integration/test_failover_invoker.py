"""An invoker killed, or killed and restarted: nothing lost, nothing run twice, nothing hangs.

Each test hangs invoker 1 first (SIGSTOP), so that work dispatched to it
after that moment is deterministically *scheduled but not started*, then kills
it with SIGKILL (``kill -9``), which is what the controller has to live with.
"""

from __future__ import annotations

import re
import signal
from collections.abc import AsyncIterator

import aiohttp
import pytest

from streams.events import ActivationAccepted, ActivationScheduled, attempt_of
from streams.history import read_activation
from streams.ids import now_ms
from streams.settings import Settings
from tests.support.cluster import (
    Cluster,
    ClusterClient,
    fire,
    homed_on,
    log_time_ms,
    put_counting,
    running,
    stories,
)
from tests.support.waits import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

INVOKERS = 2
VICTIM = 1


@pytest.fixture(scope="module")
async def cluster(
    stack: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    async with running(stack, tmp_path_factory.mktemp("failover-invoker"), "fi", INVOKERS) as c:
        yield c


@pytest.fixture
async def user(cluster: Cluster) -> AsyncIterator[ClusterClient]:
    async with aiohttp.ClientSession() as session:
        client = await cluster.client(session)
        # Everyone must be healthy in the controller's eyes before a test begins.
        if cluster.procs["invoker1"].popen.poll() is not None:
            cluster.start_invoker(VICTIM)
            await cluster.ready("invoker1")

        async def all_healthy() -> bool:
            rows = await client.admin_invokers()
            return sorted(r["id"] for r in rows if r["state"] == "healthy") == [0, 1]

        await eventually(all_healthy, 30, "both invokers healthy")
        yield client


async def started_on(cluster: Cluster, ids: list[str], invoker: int) -> bool:
    by_id = stories(await cluster.ledger())
    return all(any(s.invoker == invoker for s in by_id[i].started) for i in ids if i in by_id)


async def scheduled_on(cluster: Cluster, ids: list[str], invoker: int) -> bool:
    by_id = stories(await cluster.ledger())
    return all(i in by_id and any(s.invoker == invoker for s in by_id[i].scheduled) for i in ids)


async def all_completed(cluster: Cluster, ids: list[str]) -> dict | None:
    by_id = stories(await cluster.ledger())
    if all(i in by_id and by_id[i].completed for i in ids):
        return by_id
    return None


async def hang_with_work(cluster: Cluster, user: ClusterClient) -> tuple[list[str], list[str], int]:
    """Invoker 1 starts two long activations, hangs, and is sent two more.

    Returns the ids of the started ones, of the ones only dispatched, and the
    moment it hung (its last heartbeat).
    """
    name = homed_on(user.namespace, VICTIM, INVOKERS)
    await put_counting(user, name)
    long_ids = await fire(user, name, 2, sleep_s=60)
    await eventually(lambda: started_on(cluster, long_ids, VICTIM), 60, "the long ones to start")

    async def running() -> bool:
        # ``started`` is written when the invoker claims the activation, before a
        # cold container exists: wait until the user code itself has begun.
        runs = cluster.executions()
        return all(runs[i] == 1 for i in long_ids)

    await eventually(running, 60, "the long ones' code to run")
    silent_from = cluster.signal("invoker1", signal.SIGSTOP)
    quick_ids = await fire(user, name, 2)
    await eventually(
        lambda: scheduled_on(cluster, quick_ids, VICTIM), 30, "dispatches to invoker 1"
    )
    return long_ids, quick_ids, silent_from


async def test_a_killed_invoker_loses_its_started_work_and_its_unstarted_work_runs_elsewhere(
    cluster: Cluster, user: ClusterClient
) -> None:
    long_ids, quick_ids, silent_from = await hang_with_work(cluster, user)
    killed_at = cluster.kill("invoker1")

    by_id = await eventually(
        lambda: all_completed(cluster, long_ids + quick_ids), 60, "completions"
    )
    runs = cluster.executions()
    for aid in long_ids:  # they had started: a whisk error, never run again
        s = by_id[aid]
        assert s.completed[0].response.status_code == 3 and s.reason() == "lost"
        assert [e.invoker for e in s.scheduled] == [VICTIM]
        assert runs[aid] == 1
    for aid in quick_ids:  # never started on invoker 1: run once on invoker 0
        s = by_id[aid]
        assert [(e.invoker, e.attempt) for e in s.scheduled] == [(VICTIM, 0), (0, 1)]
        assert [e.invoker for e in s.started] == [0]
        assert s.completed[0].response.status_code == 0
        assert runs[aid] == 1
    records = await cluster.projected(long_ids + quick_ids)
    assert {aid: r["response"]["statusCode"] for aid, r in records.items()} == {
        **dict.fromkeys(long_ids, 3),
        **dict.fromkeys(quick_ids, 0),
    }

    offline = await cluster.wait_log("controller", "invoker 1 is offline")
    declared_at = log_time_ms(offline)
    assert declared_at is not None
    retried_at = [e.at_ms for i in quick_ids for e in by_id[i].scheduled if e.attempt == 1]
    lost_at = [by_id[i].completed[0].at_ms for i in long_ids]
    cluster.save(
        "invoker_killed",
        {
            "offline_after_s": cluster.settings.invoker_offline_after_s,
            "detection_ms_from_hang": declared_at - silent_from,
            "detection_ms_from_kill": declared_at - killed_at,
            "rescheduled_ms_from_hang": max(retried_at) - silent_from,
            "lost_declared_ms_from_hang": max(lost_at) - silent_from,
        },
    )


async def test_a_restarted_invoker_rejoins_clears_its_containers_and_reruns_nothing(
    cluster: Cluster, user: ClusterClient
) -> None:
    long_ids, quick_ids, _ = await hang_with_work(cluster, user)
    old_containers = cluster.containers(VICTIM)
    assert old_containers

    cluster.kill("invoker1")
    restarted_at = now_ms()
    cluster.start_invoker(VICTIM)
    await cluster.ready("invoker1")

    by_id = await eventually(
        lambda: all_completed(cluster, long_ids + quick_ids), 60, "completions"
    )
    runs = cluster.executions()
    for aid in long_ids:
        s = by_id[aid]
        assert s.completed[0].response.status_code == 3 and s.reason() == "lost"
        assert len(s.started) == 1 and runs[aid] == 1  # started once, never again
    for aid in quick_ids:
        s = by_id[aid]
        assert s.completed[0].response.status_code == 0, s.completed[0]
        assert runs[aid] == 1
        assert s.claim.holder is not None and s.claim.holder.attempt == 1
        assert [attempt_of(e.seq) for e in s.started] == [1]  # attempt 0 never started
    # The new run reads the ledger from where it began: the old placements lie
    # below its floor, so it never even sees them.
    ready = await cluster.wait_log("invoker1", "ledger from ")
    found = re.search(r"ledger from ([\d:,]+)\)", ready)
    assert found, ready
    floor = {int(p): int(o) for p, o in (pair.split(":") for pair in found.group(1).split(","))}
    for aid in quick_ids:
        first_attempt = [
            e
            for e in await read_activation(cluster.settings, aid)
            if isinstance(e.event, ActivationAccepted | ActivationScheduled)
            and e.event.invoker == VICTIM
            and attempt_of(e.event.seq) == 0
        ]
        assert first_attempt, aid
        assert all(e.offset < floor[e.partition] for e in first_attempt), (first_attempt, floor)
    # It removed the containers its previous run left behind.
    assert not old_containers & cluster.containers(VICTIM)
    lost_at = [by_id[i].completed[0].at_ms for i in long_ids]
    cluster.save(
        "invoker_restarted",
        {"lost_declared_ms_after_restart": max(lost_at) - restarted_at},
    )
