"""Kafka restarted in the middle of a load: what was accepted before all completes after.

This restarts the session's own broker (``scripts/kafka.sh stop`` and
``start``, the data stays on disk), so every other process of the test run
lives through it too.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator

import aiohttp
import pytest

from streams.ids import now_ms
from streams.settings import Settings
from tests.support.cluster import Cluster, fire, put_counting, running, stories
from tests.support.stack import ROOT, TEST_ENV
from tests.support.waits import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

INVOKERS = 2
COUNT = 40
SLEEP_S = 2.0
TIMEOUT_MS = 120_000


def kafka(command: str) -> None:
    subprocess.run(
        [str(ROOT / "scripts" / "kafka.sh"), command],
        env={**os.environ, **TEST_ENV},
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
async def cluster(
    stack: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    async with running(stack, tmp_path_factory.mktemp("failover-kafka"), "fk", INVOKERS) as c:
        yield c


async def test_activations_accepted_before_a_kafka_restart_all_complete_after_it(
    cluster: Cluster,
) -> None:
    async with aiohttp.ClientSession() as session:
        client = await cluster.client(session)
        await put_counting(client, "count", timeout_ms=TIMEOUT_MS)
        ids = await fire(client, "count", COUNT, sleep_s=SLEEP_S)
    stopped_at = now_ms()
    kafka("stop")
    kafka("start")
    back_at = now_ms()

    async def everything_done() -> dict | None:
        by_id = stories(await cluster.ledger(), client.namespace)
        return by_id if all(i in by_id and by_id[i].completed for i in ids) else None

    by_id = await eventually(everything_done, 240, "every activation to complete")
    runs = cluster.executions()
    for aid in ids:
        story = by_id[aid]
        assert story.completed[0].response.status_code == 0, story.completed[0]
        assert runs[aid] == 1
        assert story.completed[0].at_ms <= story.accepted.deadline_ms
    survived = [aid for aid in ids if by_id[aid].completed[0].at_ms > stopped_at]
    assert survived  # some were still waiting or running when the broker went away

    async def all_projected() -> bool:
        return sorted(await cluster.completed_records(client.namespace)) == sorted(ids)

    await eventually(all_projected, 60, "every record to be projected")
    cluster.save(
        "kafka_restarted",
        {
            "activations": COUNT,
            "kafka_down_ms": back_at - stopped_at,
            "completed_after_the_restart": len(survived),
            "last_completion_ms_after_kafka_back": max(
                s.completed[0].at_ms for s in by_id.values() if s.accepted.activation_id in ids
            )
            - back_at,
        },
    )
