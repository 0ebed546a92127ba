"""Two invokers on two Docker engines; one engine stopped under load: its invoker is taken
out of service and its work runs on the other, with nothing lost or run twice.

Invoker 0 uses the machine's engine; invoker 1 a second dockerd the test
starts (``tests/support/engine.py``: its own socket, data root and exec root
under ``.state/test``), through ``LEDGERWHISK_DOCKER_HOST`` alone: each
invoker's containers live in its own engine. Two actions are homed one on
each invoker, and a few callers invoke them blocking, back to back. Then the
second engine is stopped (SIGTERM: its containers stop with it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

import runtimes
from invoker.containers import LABEL_OWNER
from streams.ids import now_ms
from streams.settings import Settings
from tests.support.cluster import Cluster, homed_on, put_counting, running, stories
from tests.support.engine import Engine
from tests.support.load import Load, check, outcome, rate, served, verified
from tests.support.stack import ROOT
from tests.support.waits import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

INVOKERS = 2
TIMEOUT_MS = 30_000
# The python image of the manifest the stack runs with (LEDGERWHISK_RUNTIMES_MANIFEST
# may name images of other tags).
_PYTHON = runtimes.resolve("python:3.11")
assert _PYTHON is not None and _PYTHON.image is not None
IMAGE = _PYTHON.image
ENGINE = ROOT / ".state" / "test" / "engine"


@pytest.fixture(scope="module")
async def engine(stack: Settings) -> AsyncIterator[Engine]:
    second = Engine(ENGINE)
    try:
        await second.start()
        await second.load(IMAGE)
        yield second
    finally:
        second.stop()


@pytest.fixture(scope="module")
async def cluster(
    stack: Settings, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    async with running(
        stack,
        tmp_path_factory.mktemp("failover-engine"),
        "fe",
        INVOKERS,
        each_invoker_env={1: {"LEDGERWHISK_DOCKER_HOST": engine.host}},
    ) as c:
        try:
            yield c
        finally:
            if engine.popen is not None and engine.popen.poll() is None:
                engine.remove_containers(f"{LABEL_OWNER}={c.prefix}-invoker1")


async def test_an_engine_stopped_takes_its_invoker_out_and_its_work_runs_on_the_other(
    cluster: Cluster, engine: Engine
) -> None:
    async with aiohttp.ClientSession() as session:
        client = await cluster.client(session)
        names = [homed_on(client.namespace, i, INVOKERS) for i in range(INVOKERS)]
        for name in names:
            await put_counting(client, name, timeout_ms=TIMEOUT_MS)
        load = Load(client, names)
        began = time.monotonic()
        task = asyncio.ensure_future(load.run())
        try:
            for name in names:
                await served(load, 0, f"results of {name}", name)
            # Each invoker's containers are in its own engine, and only there.
            mine, other = f"{cluster.prefix}-invoker1", f"{cluster.prefix}-invoker0"
            in_second = engine.containers(f"{LABEL_OWNER}={mine}")
            assert in_second and not engine.containers(f"{LABEL_OWNER}={other}")
            assert cluster.containers(0) and not cluster.containers(1)

            stopped = now_ms()
            # In a thread: the callers go on, and the test watches, while dockerd
            # stops its containers.
            stopping = asyncio.ensure_future(asyncio.to_thread(engine.stop))

            async def out_of_service() -> str | None:
                rows = {r["id"]: r["state"] for r in await client.admin_invokers()}
                return rows[1] if rows.get(1) in ("unhealthy", "offline") else None

            state = await eventually(out_of_service, 120, "invoker 1 out of service", 0.2)
            out_at = now_ms()
            await stopping
            assert engine.stop_ms is not None
            # Work homed on invoker 1 now runs on invoker 0.
            await served(load, out_at, f"results of {names[1]} elsewhere", names[1])
        finally:
            load.stopping.set()
            await task
        seconds = time.monotonic() - began
    figures = await outcome(cluster, client.namespace, load)
    by_id = stories(await cluster.ledger(), client.namespace)
    moved = [
        c.activation_id
        for c in load.calls
        if c.action == names[1] and c.status == 200 and c.sent_ms >= out_at and c.activation_id
    ]
    ran_on = {s.invoker for aid in moved for s in by_id[aid].started}
    await verified(cluster)
    figures.update(
        {
            "seconds": round(seconds, 1),
            "results_per_second": rate(load),
            "ms_dockerd_took_to_exit": engine.stop_ms[1] - engine.stop_ms[0],
            "invoker1_state": state,
            "ms_engine_stop_to_out_of_service": out_at - stopped,
            "ms_to_first_result_after_stop": load.without_service_ms(stopped),
            "longest_ms_without_result_after_stop": load.longest_gap_ms(stopped),
            "invoker1_work_run_on": sorted(ran_on),
        }
    )
    cluster.save("engine_stopped", figures)
    check(figures)
    assert ran_on == {0}, figures
