"""500 invocations over three invokers, one of them killed (``kill -9``) in the middle.

Every accepted activation must end ``completed`` by its deadline (acceptance +
timeout + the platform's completion grace, plus ``SLACK_MS`` for the
controller's tick), user code must run at most once per activation id (counted
by the action itself in a host directory), and the projection must hold exactly
one completed record per activation.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import pytest

from streams.settings import Settings
from tests.support.cluster import (
    Cluster,
    ClusterClient,
    log_time_ms,
    put_counting,
    running,
    stories,
)
from tests.support.waits import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

INVOKERS = 3
VICTIM = 1
TOTAL = 500
KILL_AFTER = 200
WORKERS = 16
SLEEP_S = 0.2
TIMEOUT_MS = 30_000
# The controller checks deadlines twice a second; a completion it declares
# lands a little after the deadline itself.
SLACK_MS = 2_000


@pytest.fixture(scope="module")
async def cluster(
    stack: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    async with running(stack, tmp_path_factory.mktemp("failover-load"), "fl", INVOKERS) as c:
        yield c


async def load(
    client: ClusterClient, name: str, on_count: dict[int, asyncio.Event]
) -> Counter[int]:
    """``TOTAL`` blocking invocations from ``WORKERS`` concurrent callers; HTTP statuses seen."""
    statuses: Counter[int] = Counter()
    sent = 0

    async def worker() -> None:
        nonlocal sent
        while sent < TOTAL:
            sent += 1
            if sent in on_count:
                on_count[sent].set()
            status, _ = await client.invoke(name, {"sleep": SLEEP_S}, blocking=True)
            statuses[status] += 1

    await asyncio.gather(*(worker() for _ in range(WORKERS)))
    return statuses


async def test_an_invoker_killed_under_load_loses_nothing_and_runs_nothing_twice(
    cluster: Cluster,
) -> None:
    async with aiohttp.ClientSession() as session:
        client = await cluster.client(session)
        name = "count"
        await put_counting(client, name, timeout_ms=TIMEOUT_MS)
        kill_now = asyncio.Event()
        began = time.monotonic()
        running = asyncio.ensure_future(load(client, name, {KILL_AFTER: kill_now}))
        await kill_now.wait()
        killed_at = cluster.kill(f"invoker{VICTIM}")
        statuses = await running
        elapsed_s = time.monotonic() - began

    async def everything_done() -> dict | None:
        by_id = stories(await cluster.ledger(), client.namespace)
        done = len(by_id) >= TOTAL and all(s.completed for s in by_id.values())
        return by_id if done else None

    by_id = await eventually(everything_done, 120, "every activation to complete")
    assert len(by_id) == TOTAL, statuses

    runs = cluster.executions()
    lost = []
    for aid, story in by_id.items():
        accepted = story.accepted
        assert len(story.completed) == 1, story.completed
        end = story.completed[0]
        assert end.at_ms <= accepted.deadline_ms + SLACK_MS, (aid, end)
        assert runs[aid] <= 1, (aid, runs[aid])
        if end.response.status_code == 0:
            assert runs[aid] == 1
        else:
            # Only what had started on the killed invoker may fail, as a whisk error.
            assert end.response.status_code == 3 and story.reason() == "lost", end
            holder = story.claim.holder
            assert holder is not None and holder.invoker == VICTIM, story.events
            lost.append(story)
    assert not set(runs) - set(by_id)  # no execution of anything else

    stored = await cluster.projected(list(by_id))
    records = await cluster.completed_records(client.namespace)
    assert sorted(records) == sorted(by_id)  # exactly one completed record each
    for aid, story in by_id.items():
        assert stored[aid]["response"]["statusCode"] == story.completed[0].response.status_code

    offline = await cluster.wait_log("controller", f"invoker {VICTIM} is offline")
    declared_at = log_time_ms(offline)
    assert declared_at is not None
    retried = [e.at_ms for s in by_id.values() for e in s.scheduled if e.attempt > 0]
    cluster.save(
        "load_with_invoker_killed",
        {
            "invocations": TOTAL,
            "http_statuses": dict(statuses),
            "seconds": round(elapsed_s, 1),
            "per_second": round(TOTAL / elapsed_s, 1),
            "lost_started_on_killed_invoker": len(lost),
            "rescheduled_not_started": len(retried),
            "detection_ms_from_kill": declared_at - killed_at,
            "first_reschedule_ms_from_kill": min(retried) - killed_at if retried else None,
            "last_lost_declared_ms_from_kill": (
                max(s.completed[0].at_ms for s in lost) - killed_at if lost else None
            ),
            "max_ms_accept_to_complete": max(
                s.completed[0].at_ms - s.accepted.at_ms for s in by_id.values()
            ),
            "executions_counted": sum(runs.values()),
        },
    )
