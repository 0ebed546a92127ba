"""Refusals, never silent drops: 429 over a namespace's limit, 503 with no room or no invoker.

One invoker with room for two activations, an API that places up to twice
that on it (the invoker's pool holds the excess), a controller whose queue
holds one, and namespaces that may have two activations each in flight unless
their subject says otherwise. The API decides the throttle before anything is
appended (api/accept.py); the controller refuses only what no invoker can take,
and that refusal is a fact in the ledger. (Which of several activations
accepted at once is refused depends on the order the controller reads the
ledger's partitions, so the tests fill first, then ask.)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

import runtimes
from streams.messages import NO_CAPACITY, NO_INVOKERS
from streams.settings import Settings
from tests.support.cluster import (
    Cluster,
    ClusterClient,
    fire,
    put_counting,
    running,
    stories,
)
from tests.support.waits import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

LIMIT = 2


@pytest.fixture(scope="module")
async def cluster(
    stack: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    env = {
        "LEDGERWHISK_INVOKER_USER_MEMORY_MB": "256",
        "LEDGERWHISK_CONTROLLER_QUEUE_MAX": "1",
        "LEDGERWHISK_API_OVERCOMMIT": "2",
        "LEDGERWHISK_THROTTLE_CONCURRENT": str(LIMIT),
        # Long enough for three failures, the health table and a 3 s wait for an
        # invoker to pass on a loaded machine before the errors age out.
        "LEDGERWHISK_INVOKER_UNHEALTHY_WINDOW_S": "20",
    }
    workdir = tmp_path_factory.mktemp("scheduling-limits")
    # A fault of the platform itself: the invoker's nodejs runtime image is not
    # on its host (a bad image of a user's blackbox action would be theirs).
    manifest = json.loads(runtimes.MANIFEST.read_text())
    manifest["kinds"]["nodejs:18"]["image"] = "ledgerwhisk/no-such-runtime:test"
    broken = workdir / "manifest.json"
    broken.write_text(json.dumps(manifest))
    invoker_env = {"LEDGERWHISK_RUNTIMES_MANIFEST": str(broken)}
    async with running(stack, workdir, "sl", 1, env=env, invoker_env=invoker_env) as c:
        yield c


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def state_is(client: ClusterClient, state: str) -> bool:
    rows = await client.admin_invokers()
    return [r["state"] for r in rows] == [state]


async def test_over_its_limit_a_namespace_gets_429_and_beyond_the_queue_503(
    cluster: Cluster, session: aiohttp.ClientSession
) -> None:
    a, b, c = [await cluster.client(session) for _ in range(3)]
    await eventually(lambda: state_is(a, "healthy"), 30, "the invoker to be healthy")
    for client in (a, b, c):
        await put_counting(client, "count")
    running_ids = await fire(a, "count", LIMIT, sleep_s=10)  # they fill the invoker

    async def placed(namespace: str, ids: list[str]) -> bool:
        by_id = stories(await cluster.ledger(), namespace)
        return all(i in by_id and by_id[i].scheduled for i in ids)

    await eventually(lambda: placed(a.namespace, running_ids), 30, "the first ones to be placed")
    status, body = await a.invoke("count", {}, blocking=True, result=True)
    assert status == 429, body
    assert isinstance(body, dict)
    assert body["error"] == (
        f"Too many concurrent requests in flight (count: {LIMIT}, allowed: {LIMIT})."
    )
    # The invoker is full: the API still places these two on it (twice its
    # room), and the invoker's pool holds them until a container frees.
    held_ids = await fire(b, "count", LIMIT)
    await eventually(lambda: placed(b.namespace, held_ids), 30, "the held ones to be placed")
    # Beyond that the controller queues: one of these two waits in its queue
    # (it holds one), the other is refused.
    answers = await asyncio.gather(
        *(c.invoke("count", {}, blocking=True, result=True) for _ in range(2))
    )
    assert sorted(status for status, _ in answers) == [200, 503], answers
    assert {"error": NO_CAPACITY} in [body for _, body in answers]

    ids = running_ids + held_ids

    async def done() -> dict | None:
        by_id = stories(await cluster.ledger())
        return by_id if all(i in by_id and by_id[i].completed for i in ids) else None

    by_id = await eventually(done, 60, "the accepted ones to complete")
    assert [by_id[i].completed[0].response.status_code for i in ids] == [0] * len(ids)
    # Held by the invoker, not queued by the controller: placed once, by the API.
    for aid in held_ids:
        assert [(p.attempt, p.source) for p in by_id[aid].scheduled] == [(0, "api0")]
    # The throttled request was refused before anything was appended.
    assert set(stories(await cluster.ledger(), a.namespace)) == set(running_ids)
    # The controller's refusal is a fact in the ledger: nothing is silently dropped.
    refused = [
        s for s in stories(await cluster.ledger(), c.namespace).values() if s.reason() is not None
    ]
    assert [s.reason() for s in refused] == ["no_capacity"]
    queued = [s for s in stories(await cluster.ledger(), c.namespace).values() if not s.reason()]
    assert len(queued) == 1 and queued[0].scheduled[0].source.startswith("controller")


async def test_a_subjects_own_limit_is_the_one_that_holds_not_the_global_one(
    cluster: Cluster, session: aiohttp.ClientSession
) -> None:
    generous = await cluster.client(session, limits={"concurrentInvocations": LIMIT + 1})
    strict = await cluster.client(session, limits={"concurrentInvocations": 1})
    await eventually(lambda: state_is(generous, "healthy"), 30, "the invoker to be healthy")
    for client in (generous, strict):
        await put_counting(client, "count")
    # Over the global limit of LIMIT, within the subject's own: every one runs
    # (the one the invoker has no room for waits in the controller's queue).
    ids = await fire(generous, "count", LIMIT + 1, sleep_s=2)

    async def done() -> dict | None:
        by_id = stories(await cluster.ledger(), generous.namespace)
        return by_id if all(i in by_id and by_id[i].completed for i in ids) else None

    by_id = await eventually(done, 90, "all of them to complete")
    assert [by_id[i].completed[0].response.status_code for i in ids] == [0] * (LIMIT + 1)
    # Under the global limit, over the subject's own: the second is refused.
    [running_id] = await fire(strict, "count", 1, sleep_s=5)
    status, body = await strict.invoke("count", {}, blocking=True, result=True)
    assert status == 429 and isinstance(body, dict), body
    assert body["error"] == "Too many concurrent requests in flight (count: 1, allowed: 1)."
    assert set(stories(await cluster.ledger(), strict.namespace)) == {running_id}


async def test_an_invoker_with_system_errors_is_unhealthy_gets_no_work_then_recovers(
    cluster: Cluster, session: aiohttp.ClientSession
) -> None:
    client = await cluster.client(session)
    await eventually(lambda: state_is(client, "healthy"), 30, "the invoker to be healthy")
    # Its nodejs runtime image is missing (see the fixture): each run is a whisk
    # error of the invoker's own making.
    status, body = await client.put_action(
        "broken", "function main() { return {}; }", kind="nodejs:18"
    )
    assert status == 200, body
    for _ in range(3):
        status, body = await client.invoke("broken", {}, blocking=True, result=True)
        assert status == 500, body
    await eventually(lambda: state_is(client, "unhealthy"), 10, "the invoker to say unhealthy")

    await put_counting(client, "count")
    status, body = await client.invoke("count", {}, blocking=True, result=True)
    assert (status, body) == (503, {"error": NO_INVOKERS})

    await eventually(lambda: state_is(client, "healthy"), 60, "the errors to age out")
    status, _ = await client.invoke("count", {}, blocking=True)
    assert status == 200


async def test_with_no_invoker_left_an_invocation_is_refused_with_503(
    cluster: Cluster, session: aiohttp.ClientSession
) -> None:
    client = await cluster.client(session)
    await put_counting(client, "count")
    cluster.kill("invoker0")
    await eventually(lambda: state_is(client, "offline"), 30, "the invoker to be offline")
    # The API's table says offline; the controller reads heartbeats on its own.
    await cluster.wait_log("controller", "invoker 0 is offline")
    status, body = await client.invoke("count", {}, blocking=True, result=True)
    assert (status, body) == (503, {"error": NO_INVOKERS})
    [story] = stories(await cluster.ledger(), client.namespace).values()
    assert story.reason() == "no_invoker" and not story.scheduled
