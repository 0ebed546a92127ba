"""Platform measurements, each taken beside its floor in the same run."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from bench import floors, stats
from bench.client import Client, Invoked
from bench.floors import Containers
from bench.system import CpuMeter, RssPeak
from bench.target import BenchStack, Plan
from bench.watch import STAGES, LedgerWatch, stage_times
from invoker.containers import LABEL_KIND, LABEL_OWNER, Container
from projections import record
from store.couch import Couch
from streams import constants

Progress = Callable[[str], None]
# A freshly started stack answers its first few hundred invokes slower (the
# broker's JIT, first-use paths): the warm figure is the platform once running.
WARMUP_CALLS = 300
PROJECTION_WAIT_S = 120.0
# Replay is measured through the command users run.
REPLAY_MODULE = "projections.rebuild"


class PlatformError(Exception):
    """An invoke the benchmark relies on did not succeed."""


def _ok(invoked: Invoked, what: str) -> Invoked:
    if invoked.status != 200:
        raise PlatformError(f"{what}: HTTP {invoked.status} {invoked.body!r}")
    return invoked


# -- warm latency ------------------------------------------------------------


async def warm(
    client: Client,
    containers: Containers,
    watch: LedgerWatch,
    plan: Plan,
    run_id: str,
    cpu: CpuMeter,
    progress: Progress,
) -> dict[str, Any]:
    """Sequential blocking invokes of a warm no-op action, interleaved with direct ``/run`` calls.

    Platform and floor alternate in chunks, so both see the same machine.
    """
    action = f"warm-{run_id}"
    await client.put_action(action, memory_mb=plan.memory_mb)
    floor_container, _, _ = await containers.cold(plan.memory_mb)
    progress(f"warm: {WARMUP_CALLS} warm-up invokes (not counted)")
    for _ in range(WARMUP_CALLS):
        _ok(await client.invoke(action), "warm-up invoke")
        await containers.run(floor_container)
    platform: list[float] = []
    floor: list[float] = []
    invoked: list[Invoked] = []
    cpu.start()
    with watch.paused():  # it catches up in _stages below
        while len(platform) < plan.warm_calls:
            chunk: list[float] = []
            for _ in range(min(plan.warm_chunk, plan.warm_calls - len(platform))):
                answer = _ok(await client.invoke(action), "warm invoke")
                chunk.append(answer.elapsed_ms)
                invoked.append(answer)
            platform.extend(chunk)
            chunk_floor = [await containers.run(floor_container) for _ in range(plan.warm_chunk)]
            floor.extend(chunk_floor)
            progress(
                f"warm: {len(platform)}/{plan.warm_calls} invokes, p50 "
                f"{stats.summary(platform)['p50']} ms vs floor {stats.summary(floor)['p50']} ms "
                f"(this chunk {stats.summary(chunk)['p50']} vs {stats.summary(chunk_floor)['p50']})"
            )
    cost = cpu.per_activation(len(invoked))
    await containers.remove(floor_container)
    entry = stats.latency_entry(stats.summary(platform), stats.summary(floor))
    entry["platform"]["stages_ms"] = await _stages(watch, invoked)
    entry["platform"]["cpu_ms_per_activation"] = cost
    entry["samples"] = {"platform": platform, "floor": floor}
    return entry


async def _stages(watch: LedgerWatch, invoked: list[Invoked]) -> dict[str, Any]:
    """Where the invokes spent their time, stage by stage (see ``bench.watch.STAGES``)."""
    stages: dict[str, list[float]] = {name: [] for name, _, _ in STAGES}
    for answer in invoked:
        if answer.activation_id is None:
            continue
        with contextlib.suppress(TimeoutError):
            seen = await watch.wait_for(answer.activation_id, "activation.completed", 5.0)
            times = stage_times(seen, answer.sent_ms, answer.received_ms)
            if times is not None:
                for name, value in times.items():
                    stages[name].append(value)
    return {name: stats.summary(v) for name, v in stages.items()}


# -- cold starts -------------------------------------------------------------


def _python_containers(containers: Containers, owner_prefix: str) -> dict[str, int]:
    """Name -> init pid of the invokers' running python containers (read-only look)."""
    found = containers.docker.sdk.containers.list(
        filters={"label": f"{LABEL_KIND}=python:3.11", "status": "running"}
    )
    return {
        c.name: int(c.attrs["State"]["Pid"])
        for c in found
        if c.labels.get(LABEL_OWNER, "").startswith(owner_prefix)
    }


async def _stem_cell_ready(
    containers: Containers, owner_prefix: str, before: set[str], timeout_s: float = 20.0
) -> bool:
    """Wait until an invoker made a new python container and its proxy answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = await asyncio.to_thread(_python_containers, containers, owner_prefix)
        fresh = {n: p for n, p in now.items() if n not in before}
        for name, pid in fresh.items():
            if await containers.answers(name, pid):
                # The invoker polls the same proxy; give it time to take the cell in.
                await asyncio.sleep(0.3)
                return True
        await asyncio.sleep(0.1)
    return False


async def cold(
    client: Client,
    containers: Containers,
    watch: LedgerWatch,
    plan: Plan,
    run_id: str,
    run_floor_p50: float,
    progress: Progress,
    owner_prefix: str,
) -> dict[str, Any]:
    """First invokes of new actions: taking a stem cell, then with no stem cell of their size.

    Stem cells first: each leaves a warm container behind, and a cold start can
    evict idle ones while a new stem cell only fits in free memory.
    """
    no_stem: list[float] = []
    floor_cold: list[float] = []
    floor_init: list[float] = []
    kinds: dict[str, list[str]] = {"no_stem_cell": [], "stem_cell": []}
    platform_init: list[float] = []
    stem: list[float] = []
    cold_invokes: list[Invoked] = []
    stem_invokes: list[Invoked] = []
    for i in range(plan.cold_samples):
        before = set(await asyncio.to_thread(_python_containers, containers, owner_prefix))
        action = f"stem-{run_id}-{i}"
        await client.put_action(action, memory_mb=plan.memory_mb)
        answer = _ok(await client.invoke(action), "stem cell invoke")
        seen = await watch.wait_for(answer.activation_id or "", "activation.completed")
        kinds["stem_cell"].append(seen.start_kind or "?")
        if seen.start_kind == "prewarm":
            stem.append(answer.elapsed_ms)
            stem_invokes.append(answer)
            platform_init.append(float(seen.annotations.get("initTime", 0)))
        progress(
            f"stem cell {i + 1}/{plan.cold_samples}: platform {answer.elapsed_ms:.0f} ms "
            f"({seen.start_kind}, initTime {seen.annotations.get('initTime')} ms)"
        )
        if i + 1 < plan.cold_samples and not await _stem_cell_ready(
            containers, owner_prefix, before
        ):
            progress(
                "no new stem cell within 20 s (the invoker's memory is taken by warm "
                "containers); stopping the stem cell samples"
            )
            break
    for i in range(plan.cold_samples):
        # No stem cell has this memory size: the invoker must start a container.
        action = f"cold-{run_id}-{i}"
        await client.put_action(action, memory_mb=plan.cold_memory_mb)
        answer = _ok(await client.invoke(action), "cold invoke")
        no_stem.append(answer.elapsed_ms)
        cold_invokes.append(answer)
        seen = await watch.wait_for(answer.activation_id or "", "activation.completed")
        kinds["no_stem_cell"].append(seen.start_kind or "?")
        container, total_ms, init_ms = await containers.cold(plan.cold_memory_mb)
        floor_cold.append(total_ms)
        floor_init.append(init_ms)
        await containers.remove(container)
        progress(
            f"cold start {i + 1}/{plan.cold_samples}: platform {answer.elapsed_ms:.0f} ms "
            f"({seen.start_kind}), docker create+start+/init {total_ms:.0f} ms"
        )
    no_stem_s = stats.summary(no_stem)
    floor_cold_s = stats.summary(floor_cold)
    stem_s = stats.summary(stem)
    init_s = stats.summary(floor_init)
    # The floor of a first invoke that finds a stem cell: the action's own /init
    # and one warm /run, measured directly.
    stem_floor: dict[str, float] = {
        k: round(float(init_s[k]) + run_floor_p50, 2) for k in ("p50", "p90", "p99") if k in init_s
    }
    return {
        "platform": {
            "no_stem_cell": no_stem_s,
            "stem_cell": stem_s,
            "stem_cell_init_ms": stats.summary(platform_init),
            "start_kinds": kinds,
            "no_stem_cell_stages_ms": await _stages(watch, cold_invokes),
            "stem_cell_stages_ms": await _stages(watch, stem_invokes),
        },
        "floor": {
            "docker_create_start_init": floor_cold_s,
            "init": init_s,
            "init_plus_run": stem_floor,
        },
        "overhead": {
            "no_stem_cell": stats.overhead(no_stem_s, floor_cold_s),
            "stem_cell": stats.overhead(stem_s, stem_floor),
        },
        "samples": {"no_stem_cell": no_stem, "stem_cell": stem, "floor": floor_cold},
    }


# -- throughput --------------------------------------------------------------


async def _projected(couch: Couch, db: str, ids: list[str]) -> set[str]:
    done: set[str] = set()
    for i in range(0, len(ids), 500):
        docs = await couch.get_many(db, ids[i : i + 500])
        done.update(k for k, doc in docs.items() if record.is_completed(doc))
    return done


async def wait_projected(
    couch: Couch, db: str, ids: list[str], timeout_s: float, progress: Progress
) -> set[str]:
    """The ids whose completed record is in the projection, waiting up to ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    done: set[str] = set()
    while True:
        done |= await _projected(couch, db, [i for i in ids if i not in done])
        if len(done) >= len(ids) or time.monotonic() > deadline:
            return done
        progress(f"projection: {len(done)}/{len(ids)} records completed; waiting")
        await asyncio.sleep(1.0)


async def _closed_loop(
    client: Client, action: str, concurrency: int, seconds: float, blocking: bool
) -> tuple[list[Invoked], float]:
    answers: list[Invoked] = []
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        while time.monotonic() < deadline:
            answers.append(await client.invoke(action, blocking=blocking))

    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return answers, time.monotonic() - t0


async def throughput(
    client: Client,
    containers: Containers,
    couch: Couch,
    watch: LedgerWatch,
    plan: Plan,
    target: BenchStack,
    run_id: str,
    rss: RssPeak,
    cpu: CpuMeter,
    progress: Progress,
) -> dict[str, Any]:
    """Blocking no-op invokes from ``concurrency`` clients for ``throughput_s`` seconds."""
    action = f"tput-{run_id}"
    await client.put_action(action, memory_mb=plan.cold_memory_mb)
    progress(f"throughput: warming the pool for {plan.throughput_warmup_s:.0f} s")
    await _closed_loop(client, action, plan.concurrency, plan.throughput_warmup_s, True)
    progress(
        f"throughput: {plan.concurrency} clients for {plan.throughput_s:.0f} s (blocking invokes)"
    )
    rss.start()
    cpu.start()
    with watch.paused():
        answers, elapsed = await _closed_loop(
            client, action, plan.concurrency, plan.throughput_s, True
        )
    peak = await rss.stop()
    cost = cpu.per_activation(len(answers))
    accepted = [a.activation_id for a in answers if a.activation_id]
    completed = {a.activation_id for a in answers if a.status == 200 and a.activation_id}
    statuses: dict[str, int] = {}
    for a in answers:
        statuses[str(a.status)] = statuses.get(str(a.status), 0) + 1
    progress(f"throughput: {len(completed)} completed; checking the projection")
    db = target.settings.database(constants.DB_ACTIVATIONS)
    projected = await wait_projected(couch, db, accepted, PROJECTION_WAIT_S, progress)
    # The tail was paused during the run: this waits until it has caught up.
    stages = await _stages(watch, [a for a in answers if a.status == 200])
    used = {watch.seen[a].container for a in completed if watch.seen[a].container}
    platform = {
        "per_s": stats.per_second(len(completed), elapsed),
        "accepted": len(accepted),
        "completed": len(completed),
        "projected": len(projected),
        "lost": stats.lost(accepted, completed & projected),
        "statuses": statuses,
        "duration_s": round(elapsed, 2),
        "concurrency": plan.concurrency,
        "containers": len(used),
        "stages_ms": stages,
        "cpu_ms_per_activation": cost,
    }
    progress(
        f"throughput: {platform['per_s']}/s, lost {platform['lost']}; "
        f"floor with {len(used)} direct containers"
    )
    pool: list[Container] = []
    try:
        wanted = max(1, len(used))
        while len(pool) < wanted:
            made = await asyncio.gather(
                *(containers.cold(plan.cold_memory_mb) for _ in range(min(4, wanted - len(pool))))
            )
            pool.extend(c for c, _, _ in made)
        floor = await floors.run_throughput(
            containers, pool, plan.concurrency, plan.floor_throughput_s
        )
    finally:
        await asyncio.gather(*(containers.remove(c) for c in pool))
    entry = stats.rate_entry(platform, floor)
    entry["rss_peak_mb"] = peak
    entry["action"] = action
    return entry


# -- replay ------------------------------------------------------------------


async def db_doc_count(target: BenchStack, db: str) -> int:
    url = f"{target.settings.couchdb_url.rstrip('/')}/{db}"
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={"Accept": "application/json"}) as resp,
    ):
        body = await resp.json(content_type=None)
        return int(body.get("doc_count", 0))


async def ledger_event_count(target: BenchStack) -> int:
    """Events the ledger holds now (end minus beginning offsets, all partitions)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from streams.topics import partition_count

    topic = target.settings.topic(constants.TOPIC_EVENTS)
    consumer = AIOKafkaConsumer(bootstrap_servers=target.settings.kafka_bootstrap, group_id=None)
    await consumer.start()
    try:
        count = await partition_count(target.settings, topic)
        tps = [TopicPartition(topic, p) for p in range(count)]
        ends = await consumer.end_offsets(tps)
        begins = await consumer.beginning_offsets(tps)
        return sum(ends[tp] - begins[tp] for tp in tps)
    finally:
        await consumer.stop()


async def fill_ledger(
    client: Client,
    couch: Couch,
    plan: Plan,
    target: BenchStack,
    action: str,
    progress: Progress,
) -> int:
    """Run real no-op activations until the projection holds ``replay_activations`` records.

    Blocking invokes from ``concurrency`` clients: as many in flight as the
    throughput run had, so the controller's queue never overflows.
    """
    db = target.settings.database(constants.DB_ACTIVATIONS)
    have = await db_doc_count(target, db)
    missing = plan.replay_activations - have
    if missing <= 0:
        return have
    progress(f"replay: the ledger has {have} activations; running {missing} more")
    ids: list[str] = []
    queue = iter(range(missing))

    async def worker() -> None:
        for i in queue:
            answer = await client.invoke(action)
            if answer.activation_id:
                ids.append(answer.activation_id)
            if (i + 1) % 1000 == 0:
                progress(f"replay: {i + 1}/{missing} more activations run")

    await asyncio.gather(*(worker() for _ in range(plan.concurrency)))
    progress(f"replay: {len(ids)} accepted; waiting for the projection")
    await wait_projected(couch, db, ids, max(PROJECTION_WAIT_S, missing / 20), progress)
    return await db_doc_count(target, db)


def replay_available() -> bool:
    return importlib.util.find_spec(REPLAY_MODULE) is not None


def _lwsk() -> str:
    return str(Path(sys.executable).with_name("lwsk"))


def _stack_env(target: BenchStack) -> dict[str, str]:
    s = target.settings
    return {
        **os.environ,
        "LEDGERWHISK_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
        "LEDGERWHISK_COUCHDB_URL": s.couchdb_url,
        "LEDGERWHISK_PREFIX": s.prefix,
        "LEDGERWHISK_API_PORT": str(s.api_port),
    }


async def replay(
    couch: Couch, target: BenchStack, plan: Plan, run_id: str, progress: Progress
) -> dict[str, Any]:
    """``lwsk admin replay --into DB`` over the whole ledger, beside a raw bulk write of it."""
    live_db = target.settings.database(constants.DB_ACTIVATIONS)
    events = await ledger_event_count(target)
    docs = await _all_records(target, live_db)
    per_record = events / len(docs) if docs else 0.0
    progress(f"replay floor: raw _bulk_docs of {len(docs)} records")
    bulk = await floors.bulk_write_rate(
        couch, target.settings.database(f"bench_bulk_{run_id}"), docs
    )
    floor = {
        **bulk,
        "per_s": round(bulk["docs_per_s"] * per_record, 1),
        "events_per_record": round(per_record, 2),
    }
    if not replay_available():
        return {"platform": {"skipped": "replay not available"}, "floor": floor, "ratio": None}
    into = target.settings.database(f"bench_replay_{run_id}")
    progress(f"replay: lwsk admin replay --into {into} over {events} events")
    t0 = time.perf_counter()
    done = await asyncio.to_thread(
        subprocess.run,
        [_lwsk(), "admin", "replay", "--into", into],
        env=_stack_env(target),
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - t0
    try:
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            platform: dict[str, Any] = {"skipped": f"replay failed: {' | '.join(tail)}"}
            return {"platform": platform, "floor": floor, "ratio": None}
        rebuilt = await db_doc_count(target, into)
    finally:
        await couch.drop(into)
    rebuild_s, index_s = rebuild_times(done.stdout)
    platform = {
        # The rebuild: events read and folded, records written (what the floor writes).
        "per_s": round(events / rebuild_s, 1) if rebuild_s else 0.0,
        "events": events,
        "records": rebuilt,
        "seconds": rebuild_s,
        # Building the two activation views' indexes afterwards (CouchDB's work alone;
        # the floor builds none), and the whole command with its start-up.
        "index_s": index_s,
        "command_s": round(elapsed, 2),
        "per_s_with_index": round(events / elapsed, 1),
        "command": f"lwsk admin replay --into {into}",
    }
    return stats.rate_entry(platform, floor)


REBUILT_LINE = re.compile(r"rebuilt .* in ([0-9.]+) s")
INDEXED_LINE = re.compile(r"indexed the views of .* in ([0-9.]+) s")


def rebuild_times(output: str) -> tuple[float, float | None]:
    """``(rebuild seconds, index seconds)`` from what ``lwsk admin replay`` printed."""
    rebuilt = REBUILT_LINE.search(output)
    indexed = INDEXED_LINE.search(output)
    if rebuilt is None:
        raise ValueError(f"no 'rebuilt ... in N s' line in: {output[-300:]!r}")
    return float(rebuilt.group(1)), float(indexed.group(1)) if indexed else None


async def _all_records(target: BenchStack, db: str, page: int = 5000) -> list[dict[str, Any]]:
    """Every activation record of ``db`` (design documents left out)."""
    url = f"{target.settings.couchdb_url.rstrip('/')}/{db}/_all_docs"
    docs: list[dict[str, Any]] = []
    params = {"include_docs": "true", "limit": str(page + 1)}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
        while True:
            async with session.get(
                url, params=params, headers={"Accept": "application/json"}
            ) as resp:
                rows = (await resp.json(content_type=None))["rows"]
            docs.extend(r["doc"] for r in rows[:page] if not r["id"].startswith("_design/"))
            if len(rows) <= page:
                return docs
            params["startkey"] = json.dumps(rows[page]["id"])
