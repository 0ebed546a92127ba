"""Three invokers, two controller instances, two API servers: where work goes, who answers.

Both API servers accept blocking invokes; each answers its own callers, whichever
controller instance (by ledger partition) scheduled the activation. Repeated
invocations of one action go to its home invoker while it has room, then step to
the others. ``lwsk admin invokers`` shows every invoker as it is.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import pytest

from streams.settings import Settings
from tests.support.cluster import (
    Cluster,
    ClusterClient,
    homed_on,
    put_counting,
    running,
    stories,
)
from tests.support.stack import ROOT
from tests.support.waits import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

LWSK = str(ROOT / ".venv" / "bin" / "lwsk")

INVOKERS = 3
MEMORY_MB = {0: 512, 1: 384, 2: 256}


@pytest.fixture(scope="module")
async def cluster(
    stack: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    workdir = tmp_path_factory.mktemp("scheduling-spread")
    # Every placement by the controllers here: how two instances split the ledger
    # and each invoker. (Elsewhere the API places first attempts itself.)
    api_env = {"LEDGERWHISK_API_PLACES": "false"}
    async with running(
        stack, workdir, "ss", INVOKERS, controllers=2, apis=2, memory_mb=MEMORY_MB, api_env=api_env
    ) as c:
        yield c


@pytest.fixture
async def user(cluster: Cluster) -> AsyncIterator[ClusterClient]:
    async with aiohttp.ClientSession() as session:
        client = await cluster.client(session)

        async def all_healthy() -> bool:
            rows = await client.admin_invokers()
            return sorted(r["id"] for r in rows if r["state"] == "healthy") == [0, 1, 2]

        await eventually(all_healthy, 30, "every invoker healthy")
        yield client


async def test_each_api_server_answers_the_blocking_invokes_it_accepted(
    cluster: Cluster, user: ClusterClient
) -> None:
    await put_counting(user, "count")
    other = user.on(cluster.apis["api1"])
    calls = [
        (api, api.invoke("count", {"sleep": 0.1}, blocking=True, result=True))
        for api in [user, other] * 10
    ]
    answers = await asyncio.gather(*(call for _, call in calls))
    assert all(status == 200 for status, _ in answers), answers
    ids = [body["id"] for _, body in answers]  # type: ignore[index]
    assert len(set(ids)) == len(ids)
    by_id = stories(await cluster.ledger(), user.namespace)
    # Accepted by both servers, scheduled by both controller instances.
    assert {by_id[i].accepted.source for i in ids} == {"api0", "api1"}
    assert len({by_id[i].scheduled[0].source for i in ids}) == 2


async def test_both_controller_instances_own_half_of_the_ledger(cluster: Cluster) -> None:
    owning = []
    for name in ("controller", "controller2"):
        lines = [line for line in cluster.lines(name) if "owning ledger partitions" in line]
        owning.append(lines[-1].split("partitions ", 1)[1].split(" of")[0])
    owned = [json.loads(o) for o in owning]
    assert sorted(owned[0] + owned[1]) == [0, 1, 2, 3]
    assert len(owned[0]) == len(owned[1]) == 2


async def test_an_action_goes_home_while_there_is_room_then_steps(
    cluster: Cluster, user: ClusterClient
) -> None:
    home = 0
    name = homed_on(user.namespace, home, INVOKERS)
    await put_counting(user, name)
    for _ in range(3):  # one after the other: always home
        status, _ = await user.invoke(name, {}, blocking=True)
        assert status == 200
    # Each controller instance may fill half of every invoker: 256 MB of invoker 0,
    # two activations of 128 MB. Twelve at once must overflow to the others.
    answers = await asyncio.gather(
        *(user.invoke(name, {"sleep": 1.5}, blocking=True, result=True) for _ in range(12))
    )
    assert all(status == 200 for status, _ in answers), answers
    by_id = stories(await cluster.ledger(), user.namespace)
    decisions = Counter(
        (s.scheduled[0].invoker, s.scheduled[0].decision)
        for s in by_id.values()
        if s.accepted.action.endswith(f"/{name}")
    )
    assert decisions[(home, "home")] >= 3
    assert sum(n for (inv, d), n in decisions.items() if d == "step" and inv != home) > 0
    assert all(d == "home" for (inv, d) in decisions if inv == home)


async def test_lwsk_admin_invokers_shows_each_invoker(
    cluster: Cluster, user: ClusterClient
) -> None:
    async def idle() -> list | None:  # heartbeats of the previous test may still be arriving
        rows = await user.admin_invokers()
        return rows if all(r["inFlight"] == 0 for r in rows) else None

    rows = await eventually(idle, 30, "every invoker idle")
    assert [r["id"] for r in rows] == [0, 1, 2]
    for r in rows:
        proc = cluster.procs[f"invoker{r['id']}"]
        assert r["state"] == "healthy" and r["pid"] == proc.popen.pid and r["host"]
        assert r["memoryMB"] == MEMORY_MB[r["id"]]
        assert r["usedMB"] + r["freeMB"] == r["memoryMB"]
        assert isinstance(r["queued"], int)
        assert set(r["containers"]) == {"starting", "stem_cell", "warm", "busy", "paused"}
    # lwsk admin reads the cluster's health topic itself (no key, no API).
    out = (await lwsk("admin", "invokers", env=cluster.base_env)).splitlines()
    assert out[0].split()[:4] == ["id", "state", "pid", "host"]
    assert [line.split()[1] for line in out[1:]] == ["healthy"] * 3
    assert "containers" in out[0] and "queued" in out[0]
    as_json = await lwsk("--json", "admin", "invokers", env=cluster.base_env)
    assert [r["pid"] for r in json.loads(as_json)] == [r["pid"] for r in rows]


async def lwsk(*args: str, env: dict[str, str] | None = None) -> str:
    """Run the CLI; its standard output."""
    proc = await asyncio.create_subprocess_exec(
        LWSK, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()
