"""The physical floors: what each figure would cost with no platform in between.

- a warm container's ``/run``, reached exactly as the invoker reaches it (its
  own network namespace, through ``invoker.netns``; never a bridge address);
- a Docker create + start of the same image until ``/init`` answers;
- an aiokafka produce -> consume round trip on the same broker;
- a raw CouchDB ``_bulk_docs`` write of the same records.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import docker
import requests
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

import runtimes
from bench.client import KIND, NOOP_PYTHON
from invoker.containers import Container, ContainerLimits, Docker
from invoker.netns import NetnsConnector
from invoker.proxy import ProxyAnswer, ProxyUnreachable, RuntimeClient
from store.couch import Couch
from streams.constants import PROTOCOL_PORT
from streams.ids import new_activation_id, now_ms
from streams.settings import Settings
from streams.topics import TopicSpec, ensure_topics

PROXY_READY_S = 30.0
RUN_TIMEOUT_S = 60.0
BULK_BATCH = 500
ROUNDTRIP_TOPIC = "bench-roundtrip"
Progress = Callable[[str], None]


def image_of(kind: str = KIND) -> str:
    spec = runtimes.resolve(kind)
    if spec is None or spec.image is None:
        raise LookupError(f"no image for kind {kind}")
    return spec.image


def init_payload(code: str = NOOP_PYTHON) -> dict[str, Any]:
    """The ``/init`` body the invoker sends for a plain python action."""
    return {"value": {"name": "bench", "main": "main", "code": code, "binary": False, "env": {}}}


def run_payload(settings: Settings, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``/run`` body shaped like the invoker's (same fields, same sizes)."""
    activation_id = new_activation_id(now_ms())
    return {
        "value": params or {},
        "activation_id": activation_id,
        "namespace": "bench",
        "action_name": "/bench/noop",
        "action_version": "0.0.1",
        "deadline": str(now_ms() + 60_000),
        "api_host": settings.public_api_url,
        "api_key": "",
        "transaction_id": activation_id,
    }


class Containers:
    """The benchmark's own action containers, created and removed like the invoker's."""

    def __init__(self, settings: Settings, owner: str):
        self.settings = settings
        self.docker = Docker(owner=owner, socket_path=settings.docker_socket)
        self.live: list[Container] = []
        # For looking at other containers' proxies (the invokers' stem cells).
        self._pids: dict[str, int] = {}
        self._probe: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        await self.docker.start()
        await self.docker.remove_leftovers()
        self._probe = aiohttp.ClientSession(connector=NetnsConnector(PROTOCOL_PORT, self._pids))

    async def close(self) -> None:
        await asyncio.gather(*(self.docker.remove(c) for c in self.live), return_exceptions=True)
        self.live.clear()
        if self._probe is not None:
            await self._probe.close()
        await self.docker.close()

    async def answers(self, name: str, pid: int) -> bool:
        """Whether the proxy of container ``name`` (init pid ``pid``) answers HTTP yet."""
        assert self._probe is not None
        self._pids[name] = pid
        try:
            await RuntimeClient(self._probe, f"http://{name}:{PROTOCOL_PORT}").wait_ready(0.2)
            return True
        except ProxyUnreachable:
            return False
        finally:
            self._pids.pop(name, None)

    async def cold(self, memory_mb: int, code: str = NOOP_PYTHON) -> tuple[Container, float, float]:
        """A new initialised container: (container, ms until /init answered, /init alone ms)."""
        t0 = time.perf_counter()
        container = await self.docker.create(
            self.docker.new_name(),
            image_of(),
            KIND,
            ContainerLimits(
                memory_mb, self.settings.container_pids_limit, self.settings.container_nofile_limit
            ),
        )
        self.live.append(container)
        await container.client.wait_ready(PROXY_READY_S)
        t1 = time.perf_counter()
        answer = await container.client.post("/init", init_payload(code), RUN_TIMEOUT_S)
        t2 = time.perf_counter()
        _expect_ok(answer, "/init")
        return container, (t2 - t0) * 1000, (t2 - t1) * 1000

    async def run(self, container: Container) -> float:
        """One ``/run`` on a warm container; its duration in ms."""
        payload = run_payload(self.settings)
        t0 = time.perf_counter()
        answer = await container.client.post("/run", payload, RUN_TIMEOUT_S)
        elapsed = (time.perf_counter() - t0) * 1000
        _expect_ok(answer, "/run")
        return elapsed

    async def remove(self, container: Container) -> None:
        """Remove a floor container; Docker too slow or gone leaves it behind with a warning
        (the figures are taken by then: a slow clean-up must not cost the whole run)."""
        if container in self.live:
            self.live.remove(container)
        try:
            await self.docker.remove(container)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            print(
                f"[bench] Docker did not remove the floor's container {container.name} "
                f"({exc!r}); remove it with: docker rm -f {container.name}",
                file=sys.stderr,
                flush=True,
            )


def _expect_ok(answer: ProxyAnswer, what: str) -> None:
    if answer.status != 200:
        raise RuntimeError(f"{what} answered {answer.status}: {answer.body!r}")


async def run_throughput(
    containers: Containers, pool: list[Container], concurrency: int, seconds: float
) -> dict[str, Any]:
    """Direct ``/run`` calls by ``concurrency`` workers sharing ``pool`` (a call per container)."""
    free: asyncio.Queue[Container] = asyncio.Queue()
    for c in pool:
        free.put_nowait(c)
    done = 0
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            container = await free.get()
            try:
                await containers.run(container)
                done += 1
            finally:
                free.put_nowait(container)

    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.monotonic() - t0
    return {
        "per_s": round(done / elapsed, 1),
        "completed": done,
        "duration_s": round(elapsed, 2),
        "containers": len(pool),
        "concurrency": concurrency,
    }


async def kafka_roundtrips(settings: Settings, count: int, progress: Progress) -> list[float]:
    """``count`` sequential produce -> consume round trips (ms) on a topic of the benchmark's own.

    Producer as the platform's (``linger_ms=0``, ``acks=1``); the consumer has a
    fetch outstanding when each record is produced, as a tailing agent does.
    """
    topic = settings.topic(ROUNDTRIP_TOPIC)
    await ensure_topics(settings, [TopicSpec(topic, 1, 3_600_000)])
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=0, acks=1)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
    )
    samples: list[float] = []
    try:
        await producer.start()
        await consumer.start()
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_end(tp)
        await consumer.position(tp)
        value = b"x" * 400  # about the size of an activation event
        for i in range(count):
            receive = asyncio.ensure_future(consumer.getone(tp))
            await asyncio.sleep(0)  # let the consumer wait on its fetch first
            t0 = time.perf_counter()
            await producer.send(topic, value, key=str(i).encode())
            await receive
            samples.append((time.perf_counter() - t0) * 1000)
            if (i + 1) % 250 == 0:
                progress(f"kafka round trips {i + 1}/{count}")
    finally:
        await producer.stop()
        await consumer.stop()
        await _delete_topic(settings, topic)
    return samples


async def _delete_topic(settings: Settings, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        await admin.start()
        with contextlib.suppress(Exception):
            await admin.delete_topics([topic])
    finally:
        await admin.close()


async def bulk_write_rate(
    couch: Couch, db: str, records: list[dict[str, Any]], batch: int = BULK_BATCH
) -> dict[str, Any]:
    """Raw ``_bulk_docs`` of ``records`` into a fresh database, ``batch`` at a time."""
    await couch.drop(db)
    await couch.ensure(db)
    docs = [{k: v for k, v in r.items() if k != "_rev"} for r in records]
    try:
        t0 = time.perf_counter()
        for i in range(0, len(docs), batch):
            await couch.bulk_write(db, docs[i : i + batch])
        elapsed = time.perf_counter() - t0
    finally:
        await couch.drop(db)
    return {
        "docs": len(docs),
        "seconds": round(elapsed, 2),
        "docs_per_s": round(len(docs) / elapsed, 1) if elapsed else 0.0,
        "batch": batch,
    }
