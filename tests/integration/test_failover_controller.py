"""Controllers and the projection writer killed (``kill -9``) under load, and restarted.

They resume from their committed offsets: every activation is placed once
(by the API's ``accepted`` or the controller's ``scheduled``, and that
placement ran), completed once, and projected into exactly the record the
ledger folds into.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from projections import record
from streams.settings import Settings
from tests.support.cluster import Cluster, fire, log_time_ms, put_counting, running, stories
from tests.support.waits import eventually

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

    by_id = await eventually(everything_done, 180, "every activation to complete")
    runs = cluster.executions()
    for aid in ids:
        story = by_id[aid]
        assert len(story.scheduled) == 1, story.scheduled  # placed once
        assert len(story.started) == 1 and len(story.completed) == 1, story.events
        assert story.completed[0].response.status_code == 0, story.completed[0]
        assert runs[aid] == 1

    async def all_projected() -> list[str] | None:
        found = await cluster.completed_records(namespace)
        return found if sorted(found) == sorted(ids) else None

    await eventually(all_projected, 60, "every record to be projected")
    stored = await cluster.records(ids)
    for aid in ids:
        expected = record.apply_all(None, by_id[aid].events)
        assert expected is not None
        assert record.public_view(stored[aid]) == record.public_view(expected)
        assert record.is_completed(stored[aid])


async def test_controller_and_projection_writer_killed_and_restarted_resume_where_they_were(
    cluster: Cluster,
) -> None:
    async with aiohttp.ClientSession() as session:
        client = await cluster.client(session)
        await put_counting(client, "count")
        ids = await fire(client, "count", COUNT // 2, sleep_s=SLEEP_S)
        # Some are done, some run, most wait in the controller's queue.
        await eventually(
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

    await eventually(split, 60, "the partitions to be split")
    async with aiohttp.ClientSession() as session:
        client = await cluster.client(session)
        await put_counting(client, "count")
        ids = await fire(client, "count", COUNT // 2, sleep_s=SLEEP_S)
        await asyncio.sleep(0)  # let a part of them run before the kill
        await eventually(
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
