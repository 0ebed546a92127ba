"""GET /metrics (projections/exporter.py) scraped by a real Prometheus server (Debian's
``prometheus``, started by scripts/prometheus.sh with its own config and data under
.state/test), counting OpenWhisk's user-event metrics from the ledger, also after a restart."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from streams.settings import Settings
from tests.support.client import Client, new_client
from tests.support.stack import METRICS, PORT_BASE, ROOT, TEST_ENV
from tests.support.waits import eventually

pytestmark = pytest.mark.integration

PROMETHEUS_PORT = PORT_BASE + 90
PROMETHEUS = f"http://127.0.0.1:{PROMETHEUS_PORT}"
PROMETHEUS_ENV = {
    **TEST_ENV,
    "LEDGERWHISK_PROMETHEUS_PORT": str(PROMETHEUS_PORT),
    "LEDGERWHISK_PROMETHEUS_SCRAPE_S": "1",
}
COUNTED = "def main(args):\n    return {'n': args.get('n')}\n"
FAILING = "def main(args):\n    return {'error': {'statusCode': 418, 'body': 'no'}}\n"
INVOKES = 5


def _script(name: str, command: str) -> None:
    env = {**os.environ, **PROMETHEUS_ENV}
    subprocess.run([str(ROOT / "scripts" / name), command], env=env, check=True, timeout=300)


@pytest.fixture(scope="module")
def prometheus(stack: Settings) -> Iterator[str]:
    """A Prometheus server scraping the test stack's exporter every second; stopped after."""
    shutil.rmtree(Path(TEST_ENV["LEDGERWHISK_STATE_DIR"]) / "prometheus", ignore_errors=True)
    _script("prometheus.sh", "start")
    try:
        yield PROMETHEUS
    finally:
        _script("prometheus.sh", "stop")


async def query(session: aiohttp.ClientSession, promql: str) -> dict[tuple[Any, ...], float]:
    """An instant query's result: each series' labels (sorted, without job and instance)."""
    async with session.get(f"{PROMETHEUS}/api/v1/query", params={"query": promql}) as resp:
        body = await resp.json()
    assert body["status"] == "success", body
    return {
        tuple(
            sorted((k, v) for k, v in r["metric"].items() if k not in ("job", "instance"))
        ): float(r["value"][1])
        for r in body["data"]["result"]
    }


async def scrape(session: aiohttp.ClientSession) -> str | None:
    async with session.get(METRICS) as resp:
        return await resp.text() if resp.status == 200 else None


async def test_prometheus_counts_the_activations_of_a_namespace(
    client: Client, prometheus: str
) -> None:
    ns = client.namespace
    assert (await client.put_action("counted", COUNTED, limits={"memory": 256}))[0] == 200
    assert (await client.put_action("failing", FAILING))[0] == 200
    for n in range(INVOKES):
        status, body = await client.invoke("counted", {"n": n})
        assert status == 200, body
    status, body = await client.invoke("failing")
    assert status == 502, body

    async with aiohttp.ClientSession() as session:
        activations = f'openwhisk_action_activations_total{{initiator="{ns}"}}'

        async def counted() -> dict[tuple[Any, ...], float] | None:
            got = await query(session, activations)
            return got if sum(got.values()) == INVOKES + 1 else None

        got = await eventually(counted, deadline_s=60, what="Prometheus counting the invokes")
        assert got == {
            (
                ("__name__", "openwhisk_action_activations_total"),
                ("action", "counted"),
                ("initiator", ns),
                ("kind", "python:3.11"),
                ("memory", "256"),
                ("namespace", ns),
            ): INVOKES,
            (
                ("__name__", "openwhisk_action_activations_total"),
                ("action", "failing"),
                ("initiator", ns),
                ("kind", "python:3.11"),
                ("memory", "256"),
                ("namespace", ns),
            ): 1,
        }
        statuses = await query(session, f'openwhisk_action_status{{initiator="{ns}"}}')
        assert {dict(k)["action"] + ":" + dict(k)["status"]: v for k, v in statuses.items()} == {
            "counted:success": INVOKES,
            "failing:application_error": 1,
        }
        # The statusCode the result sets (OpenWhisk's userDefinedStatusCode).
        codes = await query(session, f'openwhisk_action_status_code{{initiator="{ns}"}}')
        assert {dict(k)["action"] + ":" + dict(k)["status_code"]: v for k, v in codes.items()} == {
            "failing:418": 1
        }
        durations = await query(
            session, f'openwhisk_action_duration_seconds_count{{initiator="{ns}"}}'
        )
        assert sorted(durations.values()) == [1, INVOKES]
        cold = await query(session, f'openwhisk_action_coldStarts_total{{initiator="{ns}"}}')
        # One container per action: its first activation paid for /init.
        assert {dict(k)["action"]: v for k, v in cold.items()} == {"counted": 1, "failing": 1}
        memory = await query(
            session, f'openwhisk_action_memory{{action="counted",initiator="{ns}"}}'
        )
        assert list(memory.values()) == [256]

        text = await scrape(session)
        assert text is not None
        assert "# TYPE openwhisk_action_activations_total counter" in text
        assert "# TYPE openwhisk_action_waitTime_seconds histogram" in text
        assert "# TYPE openwhisk_action_status untyped" in text


async def test_a_restarted_exporter_counts_the_whole_ledger_again(
    client: Client, prometheus: str
) -> None:
    ns = client.namespace
    assert (await client.put_action("again", COUNTED))[0] == 200
    for n in range(3):
        assert (await client.invoke("again", {"n": n}))[0] == 200
    line = (
        f'openwhisk_action_activations_total{{action="again",initiator="{ns}",'
        f'kind="python:3.11",memory="256",namespace="{ns}"}} 3.0'
    )
    async with aiohttp.ClientSession() as session:

        async def shows_three() -> bool:
            text = await scrape(session)
            return text is not None and line in text

        await eventually(shows_three, deadline_s=60, what="the exporter counting 3")
        state = Path(TEST_ENV["LEDGERWHISK_STATE_DIR"])
        pid = int((state / "run" / "metrics.pid").read_text().split()[0])
        os.kill(pid, 15)  # our own test stack's exporter, by its pid file
        await eventually(lambda: not Path(f"/proc/{pid}").exists(), what="the exporter to stop")
        await asyncio.to_thread(
            subprocess.run,
            [str(ROOT / "scripts" / "stack.sh"), "up"],
            env={**os.environ, **TEST_ENV},
            check=True,
            timeout=300,
        )
        await eventually(shows_three, deadline_s=60, what="the restarted exporter counting 3")
        series = f'openwhisk_action_activations_total{{action="again",initiator="{ns}"}}'

        async def scraped_again() -> bool:
            return list((await query(session, series)).values()) == [3.0]

        await eventually(scraped_again, deadline_s=60, what="Prometheus scraping it again")
        # As Prometheus saw it, the counter never went backwards across the restart.
        assert list((await query(session, f"resets({series}[10m])")).values()) == [0.0]


SLOW = "import time\ndef main(args):\n    time.sleep(args.get('s', 0))\n    return {}\n"


async def test_prometheus_counts_a_namespaces_429s_by_limit(
    stack: Settings, prometheus: str
) -> None:
    async with aiohttp.ClientSession() as session:
        timed = await new_client(stack, session, {"invocationsPerMinute": 1})
        concurrent = await new_client(stack, session, {"concurrentInvocations": 1})
        await timed.put_action("echo", COUNTED)
        await concurrent.put_action("slow", SLOW)
        # One invocation a minute: of three, at least one is refused (two,
        # unless a minute begins between them).
        statuses = [(await timed.invoke("echo", blocking=False))[0] for _ in range(3)]
        assert set(statuses) <= {202, 429} and 429 in statuses
        status, _ = await concurrent.invoke("slow", {"s": 5}, blocking=False)
        assert status == 202
        status, body = await concurrent.invoke("slow", blocking=False)
        assert status == 429, body

        async def limits() -> dict[str, float] | None:
            got = {
                dict(k)["__name__"]: v
                for k, v in (
                    await query(
                        session,
                        f'{{__name__=~"openwhisk_action_limit_.*",'
                        f'namespace=~"{timed.namespace}|{concurrent.namespace}"}}',
                    )
                ).items()
            }
            return got if len(got) == 2 else None

        got = await eventually(limits, deadline_s=60, what="Prometheus counting the 429s")
        assert got == {
            "openwhisk_action_limit_timed_total": statuses.count(429),
            "openwhisk_action_limit_concurrent_total": 1,
        }


async def test_prometheus_shows_the_platforms_own_figures(client: Client, prometheus: str) -> None:
    """Containers by state while an activation runs, each process's produce latency, the
    controller's queue, and the lag of the consumer groups and of the projection."""
    assert (await client.put_action("busy", SLOW))[0] == 200
    status, body = await client.invoke("busy", {"s": 20}, blocking=False)
    assert status == 202, body

    async with aiohttp.ClientSession() as session:

        async def running() -> dict[str, float] | None:
            busy = await query(session, 'ledgerwhisk_invoker_containers{state="busy"}')
            flying = await query(session, "ledgerwhisk_invoker_in_flight")
            if sum(busy.values()) >= 1 and sum(flying.values()) >= 1:
                return {dict(k)["invoker"]: v for k, v in busy.items()}
            return None

        busy = await eventually(running, deadline_s=60, what="a busy container in Prometheus")
        assert set(busy) == {"invoker0"}  # the test stack's one invoker
        states = await query(session, "ledgerwhisk_invoker_containers")
        assert {dict(k)["state"] for k in states} == {
            "starting",
            "stem_cell",
            "warm",
            "busy",
            "paused",
        }

        async def produced() -> dict[str, float] | None:
            got = await query(session, "sum by (service) (ledgerwhisk_kafka_produce_seconds_count)")
            counts = {dict(k)["service"]: v for k, v in got.items()}
            return counts if len(counts) == 3 and all(counts.values()) else None

        counts = await eventually(produced, deadline_s=60, what="every writer's produce latency")
        assert set(counts) == {"api", "controller", "invoker"}
        # The +Inf bucket holds every counted write (one scrape's series, subtracted).
        inf = await query(
            session,
            'sum by (service) (ledgerwhisk_kafka_produce_seconds_bucket{le="+Inf"})'
            " - sum by (service) (ledgerwhisk_kafka_produce_seconds_count)",
        )
        assert {dict(k)["service"]: v for k, v in inf.items()} == dict.fromkeys(counts, 0.0)
        queued = await query(session, "ledgerwhisk_controller_queued")
        assert len(queued) == 1 and next(iter(queued.values())) >= 0

        async def caught_up() -> dict[str, float] | None:
            lags = await query(session, "ledgerwhisk_consumer_group_lag_records")
            seconds = await query(session, "ledgerwhisk_projection_lag_seconds")
            by_group = {dict(k)["group"]: v for k, v in lags.items()}
            if set(by_group) != {"controller", "projection"} or len(seconds) != 1:
                return None
            # The ledger of a test run holds thousands of records: a lag this small
            # means the committed offsets were read, not taken as absent.
            small = by_group["projection"] <= 20 and next(iter(seconds.values())) < 5
            return by_group if small else None

        await eventually(caught_up, deadline_s=60, what="the projection's lag near zero")
