"""Platform processes a test starts, kills and restarts itself, beside the session stack.

A ``Cluster`` runs controllers, projection writers, invokers and API servers
through the same module entry points ``scripts/stack.sh`` uses, with a prefix of
its own (topics, databases, container labels), on the session's Kafka and
CouchDB. Processes get real signals. The test action counts its own executions
in a host directory bind-mounted into every action container (the invoker's
test-only ``LEDGERWHISK_INVOKER_TEST_MOUNT``): it creates one file per
execution, named after its activation id, before it does anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import docker
from aiokafka import AIOKafkaConsumer, TopicPartition

from api.entities import doc_id
from api.setup import new_key, put_subject
from invoker.containers import LABEL_OWNER
from store.couch import Couch
from store.views import ACTIVATIONS_DDOC
from streams import constants
from streams.claims import Claim, fold
from streams.events import (
    ActivationAccepted,
    ActivationCompleted,
    ActivationScheduled,
    ActivationStarted,
    LedgerEvent,
    decode_event,
)
from streams.groupreader import READING
from streams.ids import now_ms
from streams.placement import action_hash
from streams.settings import Settings
from streams.topics import partition_count
from tests.support.client import Client, basic
from tests.support.stack import PORT_BASE, PREFIX, ROOT
from tests.support.waits import eventually

PY = str(ROOT / ".venv" / "bin" / "python")
COUNT_DIR_INSIDE = "/mnt/lwcount"
# Cluster API servers listen from here on (the session stack's API is base+33).
API_PORT_FIRST = PORT_BASE + 40
MEASUREMENTS = ROOT / ".state" / "test" / "measurements"
STORE_TIMEOUT_S = 30.0
LEDGER_TIMEOUT_S = 60.0

# Counts its own executions: one file per run, first thing, then works.
COUNTING_ACTION = f'''
import os, time, uuid

def main(args):
    aid = os.environ.get("__OW_ACTIVATION_ID", "unknown")
    with open("{COUNT_DIR_INSIDE}/%s.%s" % (aid, uuid.uuid4().hex), "w") as f:
        f.write(os.environ.get("HOSTNAME", ""))
    time.sleep(float(args.get("sleep", 0)))
    return {{"id": aid}}
'''

READY_LINES = {
    "invoker.agent": "ready (user memory",
    "streams.controller.agent": "rebuilt:",
    "projections.writer": READING,
    "api.main": "listening on http://",
}


@dataclass
class Proc:
    name: str
    module: str
    popen: subprocess.Popen[bytes]
    log: Path
    started_at_ms: int


def log_time_ms(line: str) -> int | None:
    """The time of a Faust log line ``[2026-01-01 12:00:00,123] ...`` (local time)."""
    m = re.match(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3})\]", line)
    if not m:
        return None
    return int(datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").timestamp() * 1000) + int(
        m.group(2)
    )


class ClusterClient(Client):
    """The conftest client, pointed at one of the cluster's API servers."""

    def __init__(self, session: aiohttp.ClientSession, auth: str, namespace: str, api: str):
        super().__init__(session, auth, namespace)
        self.api = api

    def url(self, path: str) -> str:
        return f"{self.api}/api/v1/namespaces/_/{path.lstrip('/')}"

    def on(self, api: str) -> ClusterClient:
        """The same namespace through another API server."""
        return ClusterClient(self.session, self.key, self.namespace, api)

    async def admin_invokers(self) -> list[dict[str, Any]]:
        async with self.session.get(
            f"{self.api}/api/v1/admin/invokers", headers={"Authorization": self.auth}
        ) as resp:
            assert resp.status == 200, await resp.text()
            return list(await resp.json())


@dataclass
class Cluster:
    """One test's own platform processes."""

    stack: Settings
    workdir: Path
    name: str
    env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, Proc] = field(default_factory=dict)
    apis: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.prefix = f"{PREFIX}{self.name}"
        self.settings = Settings(
            kafka_bootstrap=self.stack.kafka_bootstrap,
            kafka_replication_factor=self.stack.kafka_replication_factor,
            couchdb_url=self.stack.couchdb_url,
            prefix=self.prefix,
        )
        self.count_dir = self.workdir / "count"
        self.count_dir.mkdir(parents=True, exist_ok=True)
        self.count_dir.chmod(0o777)
        (self.workdir / "logs").mkdir(exist_ok=True)
        self.base_env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "LEDGERWHISK_KAFKA_BOOTSTRAP": self.stack.kafka_bootstrap,
            "LEDGERWHISK_KAFKA_REPLICATION_FACTOR": str(self.stack.kafka_replication_factor),
            "LEDGERWHISK_COUCHDB_URL": self.stack.couchdb_url,
            "LEDGERWHISK_PREFIX": self.prefix,
            "LEDGERWHISK_STEM_CELLS": "false",
            "LEDGERWHISK_INVOKER_USER_MEMORY_MB": "512",
            "LEDGERWHISK_INVOKER_TEST_MOUNT": f"{self.count_dir}:{COUNT_DIR_INSIDE}",
            **self.env,
        }

    # -- processes ------------------------------------------------------------
    def setup(self, invokers: int) -> None:
        subprocess.run(
            [PY, "-m", "api.setup", "--invokers", str(invokers)],
            env=self.base_env,
            cwd=self.workdir,
            check=True,
            capture_output=True,
        )

    def start(self, name: str, module: str, **env: str) -> Proc:
        assert name not in self.procs or self.procs[name].popen.poll() is not None, name
        log = self.workdir / "logs" / f"{name}.log"
        with log.open("ab") as out:
            out.write(f"==== start {name} at {now_ms()}\n".encode())
            popen = subprocess.Popen(
                [PY, "-m", module],
                env={**self.base_env, **env},
                cwd=self.workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        proc = Proc(name, module, popen, log, now_ms())
        self.procs[name] = proc
        return proc

    def start_invoker(self, i: int, **env: str) -> Proc:
        return self.start(f"invoker{i}", "invoker.agent", LEDGERWHISK_INVOKER_ID=str(i), **env)

    def start_controller(self, name: str = "controller", **env: str) -> Proc:
        return self.start(
            name, "streams.controller.agent", LEDGERWHISK_CONTROLLER_INSTANCE=name, **env
        )

    def start_projection(self, name: str = "projection") -> Proc:
        return self.start(name, "projections.writer")

    def start_api(self, name: str = "api0", **env: str) -> str:
        port = API_PORT_FIRST + len(self.apis) if name not in self.apis else None
        url = self.apis.get(name) or f"http://127.0.0.1:{port}"
        self.apis[name] = url
        self.start(
            name,
            "api.main",
            LEDGERWHISK_API_PORT=url.rsplit(":", 1)[1],
            LEDGERWHISK_API_INSTANCE=name,
            LEDGERWHISK_PUBLIC_API_URL=url,
            **env,
        )
        return url

    async def ready(self, *names: str, timeout_s: float = 90.0) -> None:
        """Wait until each named process (of its latest start) logged its ready line."""
        await asyncio.gather(
            *(
                self.wait_log(n, READY_LINES[self.procs[n].module], timeout_s=timeout_s)
                for n in names
            )
        )

    def lines(self, name: str) -> list[str]:
        """The log lines of the latest start of ``name``."""
        text = self.procs[name].log.read_text(errors="replace")
        return text.rsplit(f"==== start {name} at ", 1)[-1].splitlines()

    async def wait_log(self, name: str, text: str, timeout_s: float = 60.0) -> str:
        proc = self.procs[name]
        end = time.monotonic() + timeout_s
        while True:
            for line in self.lines(name):
                if text in line:
                    return line
            if proc.popen.poll() is not None:
                tail = "\n".join(self.lines(name)[-30:])
                raise AssertionError(f"{name} exited ({proc.popen.returncode}):\n{tail}")
            if time.monotonic() > end:
                tail = "\n".join(self.lines(name)[-30:])
                raise AssertionError(f"{name} never logged {text!r}:\n{tail}")
            await asyncio.sleep(0.1)

    def signal(self, name: str, sig: signal.Signals) -> int:
        """Send ``sig`` to a process; returns when it was sent (ms)."""
        proc = self.procs[name]
        at = now_ms()
        os.kill(proc.popen.pid, sig)
        return at

    def kill(self, name: str) -> int:
        """``kill -9``; returns the moment of the kill (ms) once the process is gone."""
        at = self.signal(name, signal.SIGKILL)
        self.procs[name].popen.wait(timeout=10)
        return at

    def stop(self, name: str, timeout_s: float = 20.0) -> None:
        proc = self.procs[name]
        if proc.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.popen.pid, signal.SIGCONT)
            os.kill(proc.popen.pid, signal.SIGTERM)
        try:
            proc.popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.popen.kill()
            proc.popen.wait(timeout=10)

    def close(self) -> None:
        for name in list(self.procs):
            self.stop(name)
        client = docker.from_env()
        try:
            # sparse: no inspect per container, so one an invoker removes while we
            # list cannot fail the listing.
            found = client.containers.list(all=True, sparse=True, filters={"label": LABEL_OWNER})
            for c in found:
                labels = c.attrs.get("Labels") or {}
                if labels.get(LABEL_OWNER, "").startswith(f"{self.prefix}-invoker"):
                    with contextlib.suppress(docker.errors.APIError):
                        c.remove(force=True)
        finally:
            client.close()

    def containers(self, invoker: int) -> set[str]:
        """Names of the containers labelled as this cluster's invoker ``invoker``'s."""
        client = docker.from_env()
        try:
            found = client.containers.list(
                all=True, filters={"label": f"{LABEL_OWNER}={self.prefix}-invoker{invoker}"}
            )
            return {c.name for c in found}
        finally:
            client.close()

    # -- users and load -------------------------------------------------------
    async def client(
        self,
        session: aiohttp.ClientSession,
        api: str = "api0",
        limits: dict[str, int] | None = None,
    ) -> ClusterClient:
        """A fresh namespace's client (with its own ``limits`` when given); an administrator,
        so it may read ``/admin/invokers``."""
        name = "t" + os.urandom(4).hex()
        auth = new_key()
        couch = Couch(self.settings)
        try:
            await put_subject(couch, self.settings, name, auth, limits, admin=True)
        finally:
            await couch.close()
        return ClusterClient(session, auth, name, self.apis[api])

    def executions(self) -> Counter[str]:
        """How many times user code ran, per activation id (from the counter files)."""
        return Counter(p.name.split(".", 1)[0] for p in self.count_dir.iterdir())

    async def ledger(self) -> list[LedgerEvent]:
        return await read_ledger(self.settings)

    async def records(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The projected activation records of ``ids``, by id."""
        couch = Couch(self.settings)
        try:
            async with asyncio.timeout(STORE_TIMEOUT_S):
                return await couch.get_many(self.settings.database(constants.DB_ACTIVATIONS), ids)
        finally:
            await couch.close()

    async def projected(self, ids: list[str], timeout_s: float = 60) -> dict[str, dict[str, Any]]:
        """The records of ``ids`` once every one shows its completion.

        The projection writer follows the ledger: a story complete on Kafka may
        not be in CouchDB yet, so wait for it rather than read too early.
        """

        async def done() -> dict[str, dict[str, Any]] | None:
            found = await self.records(ids)
            return found if all("response" in found.get(i, {}) for i in ids) else None

        return await eventually(done, timeout_s, f"{len(ids)} completed records to be projected")

    async def completed_records(self, namespace: str) -> list[str]:
        """The ids of ``namespace``'s completed records, one row per stored document."""
        couch = Couch(self.settings)
        try:
            async with asyncio.timeout(STORE_TIMEOUT_S):
                rows = await couch.view(
                    self.settings.database(constants.DB_ACTIVATIONS),
                    ACTIVATIONS_DDOC,
                    "byNamespace",
                    startkey=[namespace],
                    endkey=[namespace, {}],
                    reduce=False,
                )
        finally:
            await couch.close()
        return [r["id"] for r in rows]

    def save(self, name: str, figures: dict[str, Any]) -> None:
        MEASUREMENTS.mkdir(parents=True, exist_ok=True)
        (MEASUREMENTS / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
        print(f"\nmeasured ({name}): {json.dumps(figures)}", file=sys.stderr)


async def read_ledger(settings: Settings) -> list[LedgerEvent]:
    """Every event of a ledger, partition by partition, in log order."""
    async with asyncio.timeout(LEDGER_TIMEOUT_S):
        return await _read_ledger(settings)


async def _read_ledger(settings: Settings) -> list[LedgerEvent]:
    topic = settings.topic(constants.TOPIC_EVENTS)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        count = await partition_count(settings, topic)
        assert count, f"no topic {topic}"
        tps = [TopicPartition(topic, p) for p in range(count)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            # An explicit seek: seek_to_beginning() may lose a race with the reset
            # to the latest offset that assign() began.
            consumer.seek(tp, 0)
        out: list[LedgerEvent] = []
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                out.extend(decode_event(r.value) for r in records if r.offset < ends[tp])
            for tp in list(remaining):
                # The position, not the last record: it also steps over control records.
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return out
    finally:
        await consumer.stop()


@dataclass(frozen=True)
class Placed:
    """Where an attempt of an activation was placed, by whom: the API (its ``accepted``
    named the invoker) or the controller (a ``scheduled``)."""

    invoker: int
    attempt: int
    decision: str
    at_ms: int
    source: str


@dataclass
class Story:
    """One activation's events, in log order."""

    events: list[LedgerEvent] = field(default_factory=list)

    @property
    def accepted(self) -> ActivationAccepted:
        found = [e for e in self.events if isinstance(e, ActivationAccepted)]
        assert found, self.events
        return found[0]

    @property
    def scheduled(self) -> list[Placed]:
        """Every placement of an attempt, in log order."""
        out = []
        for e in self.events:
            if isinstance(e, ActivationAccepted) and e.invoker is not None:
                out.append(Placed(e.invoker, 0, e.decision or "home", e.at_ms, e.source))
            elif isinstance(e, ActivationScheduled):
                out.append(Placed(e.invoker, e.attempt, e.decision, e.at_ms, e.source))
        return out

    @property
    def started(self) -> list[ActivationStarted]:
        return [e for e in self.events if isinstance(e, ActivationStarted)]

    @property
    def completed(self) -> list[ActivationCompleted]:
        return [e for e in self.events if isinstance(e, ActivationCompleted)]

    @property
    def claim(self) -> Claim:
        return fold(self.events)

    def reason(self) -> str | None:
        first = self.completed[0]
        return next((a["value"] for a in first.annotations if a["key"] == "reason"), None)


def stories(events: list[LedgerEvent], namespace: str | None = None) -> dict[str, Story]:
    out: dict[str, Story] = defaultdict(Story)
    for e in events:
        if namespace is None or e.namespace == namespace:
            out[e.activation_id].events.append(e)
    return dict(out)


async def invoke(
    client: ClusterClient, action: str, params: dict[str, Any], blocking: bool = False
) -> tuple[int, Any]:
    return await client.invoke(action, params, blocking=blocking)


def auth_header(client: ClusterClient) -> dict[str, str]:
    return {"Authorization": basic(client.key)}


def homed_on(namespace: str, invoker: int, invokers: int, stem: str = "count") -> str:
    """An action name whose home invoker is ``invoker`` among ``invokers`` usable ones."""
    for n in range(1000):
        name = f"{stem}{n}"
        if action_hash(namespace, doc_id(namespace, name)) % invokers == invoker:
            return name
    raise AssertionError("no such name")


async def put_counting(client: ClusterClient, name: str, timeout_ms: int = 30_000) -> None:
    status, body = await client.put_action(
        name, COUNTING_ACTION, limits={"memory": 128, "timeout": timeout_ms}
    )
    assert status == 200, body


async def fire(client: ClusterClient, name: str, count: int, sleep_s: float = 0) -> list[str]:
    """``count`` non-blocking invocations; their activation ids."""
    ids = []
    for _ in range(count):
        status, body = await client.invoke(name, {"sleep": sleep_s}, blocking=False)
        assert status == 202 and isinstance(body, dict), (status, body)
        ids.append(body["activationId"])
    return ids


@contextlib.asynccontextmanager
async def running(
    stack: Settings,
    workdir: Path,
    name: str,
    invokers: int,
    *,
    controllers: int = 1,
    apis: int = 1,
    env: dict[str, str] | None = None,
    api_env: dict[str, str] | None = None,
    invoker_env: dict[str, str] | None = None,
    memory_mb: dict[int, int] | None = None,
    each_invoker_env: dict[int, dict[str, str]] | None = None,
) -> AsyncIterator[Cluster]:
    """A whole cluster, ready: invokers, controllers, a projection writer, API servers."""
    c = Cluster(stack, workdir, name, env=env or {})
    try:
        c.setup(invokers=invokers)
        for i in range(invokers):
            extra = dict(invoker_env or {})
            if memory_mb:
                extra["LEDGERWHISK_INVOKER_USER_MEMORY_MB"] = str(memory_mb[i])
            extra.update((each_invoker_env or {}).get(i, {}))
            c.start_invoker(i, **extra)
        controller_names = ["controller"] + [f"controller{k + 1}" for k in range(1, controllers)]
        for controller in controller_names:
            c.start_controller(controller)
        c.start_projection()
        api_names = [f"api{k}" for k in range(apis)]
        for api in api_names:
            c.start_api(api, LEDGERWHISK_API_INSTANCES=str(apis), **(api_env or {}))
        await c.ready(
            *(f"invoker{i}" for i in range(invokers)),
            *controller_names,
            "projection",
            *api_names,
        )
        yield c
    finally:
        c.close()
