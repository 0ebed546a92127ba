"""Invokers registered in Consul with a TTL check; the controller reads who is alive there.

Runs only against a real ``consul`` binary on ``PATH`` (a dev agent on loopback
ports of this test run). Consul's licence (BUSL 1.1) is not open source, so the
project neither builds nor downloads it: without one the test is skipped.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from streams.settings import Settings
from tests.support.cluster import Cluster, running
from tests.support.stack import PORT_BASE
from tests.support.waits import eventually

CONSUL = shutil.which("consul")
HTTP_PORT = PORT_BASE + 50

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        CONSUL is None,
        reason="no `consul` binary on PATH; Consul is not open source (BUSL 1.1), so the "
        "project neither builds nor downloads it. Put one on PATH to run this test.",
    ),
]


@pytest.fixture(scope="module")
def consul_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert CONSUL is not None
    data = tmp_path_factory.mktemp("consul")
    ports = {"-serf-lan-port": 51, "-serf-wan-port": 52, "-server-port": 53}
    agent = subprocess.Popen(
        [
            CONSUL,
            "agent",
            "-dev",
            "-bind=127.0.0.1",
            "-client=127.0.0.1",
            f"-http-port={HTTP_PORT}",
            "-dns-port=-1",
            "-grpc-port=-1",
            *(f"{flag}={PORT_BASE + n}" for flag, n in ports.items()),
            f"-data-dir={data}",
        ],
        stdout=(data / "consul.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{HTTP_PORT}"
    finally:
        agent.terminate()
        agent.wait(timeout=20)


@pytest.fixture(scope="module")
async def cluster(
    stack: Settings, consul_agent: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    env = {"LEDGERWHISK_CONSUL_URL": consul_agent}
    workdir = tmp_path_factory.mktemp("scheduling-consul")
    async with running(stack, workdir, "sc", 2, env=env) as c:
        yield c


async def passing(consul: str, service: str) -> list[str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{consul}/v1/health/service/{service}?passing=1") as resp,
    ):
        assert resp.status == 200
        return sorted(e["Service"]["Meta"]["invoker"] for e in await resp.json())


async def test_invokers_pass_their_ttl_check_and_a_killed_one_goes_offline(
    cluster: Cluster, consul_agent: str
) -> None:
    service = f"{cluster.prefix}-invoker"

    async def both() -> bool:
        return await passing(consul_agent, service) == ["0", "1"]

    await eventually(both, 30, "both invokers passing in Consul")
    cluster.kill("invoker1")

    async def one() -> bool:
        return await passing(consul_agent, service) == ["0"]

    await eventually(one, 30, "Consul to see invoker 1 fail its TTL check")
    await cluster.wait_log("controller", "invoker 1 is offline", timeout_s=30)
    await asyncio.sleep(0)
