"""The real projection writer on real CouchDB: messy deliveries, and a crash mid-stream.

The writer runs as its own process (``python -m projections.writer``) on a
scratch prefix of the test stack's Kafka and CouchDB, so that no controller
schedules the synthetic acceptances the tests append.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from api.setup import ensure_databases
from projections.compare import verify
from projections.rebuild import rebuild
from projections.record import apply_all, public_view
from store.couch import Couch
from streams import constants
from streams.events import LedgerEvent
from streams.groupreader import READING
from streams.history import LedgerReader
from streams.ids import now_ms
from streams.settings import Settings
from streams.topics import ensure_topics, ledger_topics
from tests.support.ledger import lwsk, stack_env, writer_caught_up
from tests.support.synthetic import append_events, history, interleaved

pytestmark = pytest.mark.integration


class Writer:
    """A projection writer process on a scratch prefix; started and stopped by the test."""

    def __init__(self, settings: Settings, workdir: Path):
        self.settings = settings
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = self.workdir / f"writer{self.starts}.log"
        env = {
            **os.environ,
            "LEDGERWHISK_KAFKA_BOOTSTRAP": self.settings.kafka_bootstrap,
            "LEDGERWHISK_COUCHDB_URL": self.settings.couchdb_url,
            "LEDGERWHISK_PREFIX": self.settings.prefix,
            "APP_DATADIR": str(self.workdir / "faust"),
            # A killed member must leave the group quickly for its successor.
            "LEDGERWHISK_GROUP_SESSION_TIMEOUT_S": "6",
            "PYTHONUNBUFFERED": "1",
        }
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "projections.writer"],
                cwd=str(self.workdir),
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.log = log

    async def ready(self, timeout_s: float = 90.0) -> None:
        end = time.monotonic() + timeout_s
        while True:
            assert self.proc is not None
            if READING in self.log.read_text(errors="replace"):
                return
            if self.proc.poll() is not None or time.monotonic() > end:
                raise AssertionError(f"writer never ready:\n{self.log.read_text()[-3000:]}")
            await asyncio.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no goodbye, no final commit (a crash)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def scratch(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A scratch prefix: its own ledger topic and databases on the test stack's services."""
    settings = stack.model_copy(update={"prefix": f"{stack.prefix}p{os.urandom(3).hex()}"})

    async def prepare() -> None:
        await ensure_topics(settings, ledger_topics(settings))
        couch = Couch(settings)
        try:
            await ensure_databases(couch, settings)
        finally:
            await couch.close()

    async def clean() -> None:
        couch = Couch(settings)
        try:
            for name in (constants.DB_SUBJECTS, constants.DB_WHISKS, constants.DB_ACTIVATIONS):
                await couch.drop(settings.database(name))
        finally:
            await couch.close()
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([settings.topic(constants.TOPIC_EVENTS)])
        finally:
            await admin.close()

    asyncio.run(prepare())
    try:
        yield settings
    finally:
        asyncio.run(clean())


@contextmanager
def running(writer: Writer) -> Iterator[Writer]:
    try:
        yield writer
    finally:
        writer.stop()


@pytest.fixture
async def writer(scratch: Settings, tmp_path: Path) -> AsyncIterator[Writer]:
    w = Writer(scratch, tmp_path)
    with running(w):
        w.start()
        await w.ready()
        yield w


async def stored(settings: Settings, ids: list[str]) -> dict[str, dict[str, Any]]:
    couch = Couch(settings)
    try:
        docs = await couch.get_many(settings.database(constants.DB_ACTIVATIONS), ids)
    finally:
        await couch.close()
    return {k: {f: v for f, v in d.items() if f not in ("_id", "_rev")} for k, d in docs.items()}


def messy(events: list[LedgerEvent], how: str, rng: random.Random) -> list[LedgerEvent]:
    """One activation's events delivered the way ``how`` says."""
    if how == "duplicated":
        return [e for e in events for _ in range(2)]
    if how == "reversed":
        return list(reversed(events))
    if how == "shuffled twice":
        return rng.sample(events, len(events)) + rng.sample(events, len(events))
    if how == "completed without started":
        return [e for e in events if e.type != "activation.started"]
    if how == "completed first, started missing":
        return [events[-1], *[e for e in events[:-1] if e.type != "activation.started"]]
    raise ValueError(how)


FULL = ("duplicated", "reversed", "shuffled twice")
PARTIAL = ("completed without started", "completed first, started missing")


async def test_duplicated_reordered_and_missing_events_give_the_clean_record(
    scratch: Settings, writer: Writer
) -> None:
    rng = random.Random(5)
    acts = [a for a in history(60, ["messy"], seed=11) if len(a) == 4]
    plan = [(a, (*FULL, *PARTIAL)[i % 5]) for i, a in enumerate(acts)]
    # Each activation's deliveries in its own messy order; activations interleave.
    deliveries = [messy(a, how, rng) for a, how in plan]
    stream: list[LedgerEvent] = []
    while any(deliveries):
        pick = rng.choice([d for d in deliveries if d])
        stream.append(pick.pop(0))
    # Two appends, so that some of an activation's events land in a later batch.
    half = len(stream) // 2
    await append_events(scratch, stream[:half])
    await append_events(scratch, stream[half:])
    await writer_caught_up(scratch)

    records = await stored(scratch, [a[0].activation_id for a, _ in plan])
    for events, how in plan:
        clean = apply_all(None, events)
        assert clean is not None
        got = records.get(events[0].activation_id)
        assert got is not None, how
        # The writer reads completions only: what it stores shows what the
        # whole history folds into, whatever the other events' order or fate.
        assert public_view(got) == public_view(clean), how
        assert got["ledger"]["state"] == "activation.completed"


@pytest.mark.timeout(300)
async def test_a_writer_killed_mid_stream_catches_up_without_loss_or_doubling(
    scratch: Settings, writer: Writer
) -> None:
    before = await count_records(scratch)
    acts = history(1500, ["crash"], seed=21)
    first, second = acts[:1000], acts[1000:]
    await append_events(scratch, interleaved(first))
    # Kill the writer as soon as it has stored something: mid-stream.
    deadline = time.monotonic() + 60
    while True:
        seen = await count_records(scratch)
        if seen > before:
            break
        assert time.monotonic() < deadline, "the writer stored nothing"
        await asyncio.sleep(0.05)
    writer.kill()
    at_kill = await count_records(scratch) - before
    # More history arrives while no writer runs, and the first part again (a producer retry).
    await append_events(scratch, interleaved(second) + interleaved(first[:100]))
    writer.start()
    await writer.ready()
    await writer_caught_up(scratch)

    ids = [a[0].activation_id for a in acts]
    records = await stored(scratch, ids)
    assert len(records) == len(acts)
    assert await count_records(scratch) - before == len(acts)
    wrong = [
        a[0].activation_id
        for a in acts
        if public_view(records[a[0].activation_id]) != public_view(apply_all(None, a) or {})
    ]
    assert wrong == []
    print(
        f"\nMEASURE writer killed after storing {at_kill} of {len(acts)} records "
        f"(first seen {seen - before}); after the restart all {len(acts)} are exact"
    )


async def count_records(settings: Settings) -> int:
    couch = Couch(settings)
    try:
        info = await couch.db(settings.database(constants.DB_ACTIVATIONS)).info()
    finally:
        await couch.close()
    # Design documents count too: subtract them.
    return int(info["doc_count"]) - 1


async def test_a_rebuild_of_the_messy_log_equals_what_the_writer_projected(
    scratch: Settings, writer: Writer
) -> None:
    # Whatever the tests above appended (duplicates, disorder, gaps), plus some more.
    rng = random.Random(3)
    more = [messy(a, FULL[i % 3], rng) for i, a in enumerate(history(200, ["rebuild"], seed=9))]
    await append_events(scratch, [e for evs in more for e in evs])
    await writer_caught_up(scratch)
    into = f"{scratch.prefix}_rebuilt"
    couch = Couch(scratch)
    try:
        # Small writes: a completion read twice (the duplicated deliveries) is
        # often written in a later chunk than its first copy, and takes the merge path.
        done = await rebuild(scratch, couch, into, chunk=7)
        verified = await verify(couch, scratch.database(constants.DB_ACTIVATIONS), into)
    finally:
        await couch.drop(into)
        await couch.close()
    assert done.records == verified.compared > 200
    assert verified.differences == []


async def test_after_retention_verify_compares_what_the_log_still_holds(
    scratch: Settings, writer: Writer
) -> None:
    old = history(50, ["old"], seed=31, start_ms=now_ms() - 3_600_000)
    partial = history(1, ["old"], seed=32, start_ms=now_ms() - 3_600_000)[0]
    await append_events(scratch, interleaved(old) + partial[:1])
    # Retention: everything appended so far goes (the acceptance of `partial` too).
    async with LedgerReader(scratch) as reader:
        _, end = await reader.bounds()
    admin = AIOKafkaAdminClient(bootstrap_servers=scratch.kafka_bootstrap)
    await admin.start()
    try:
        topic = scratch.topic(constants.TOPIC_EVENTS)
        await admin.delete_records(
            {TopicPartition(topic, p): RecordsToDelete(o) for p, o in end.items()}
        )
    finally:
        await admin.close()
    new = history(40, ["new"], seed=33)
    await append_events(scratch, partial[1:] + interleaved(new))
    await writer_caught_up(scratch)

    into = f"{scratch.prefix}_kept"
    env = stack_env(scratch)
    # "admin replay" is the first name of "admin rebuild": it still works.
    ran = await lwsk("admin", "replay", "--into", into, "--verify", env=env)
    couch = Couch(scratch)
    try:
        rebuilt = await couch.get_many(into, [a[0].activation_id for a in [*new, partial]])
    finally:
        await couch.drop(into)
        await couch.close()
    assert ran.status == 0, ran.out + ran.err
    assert "whose history retention cut short" in ran.out and " 0 whose history" not in ran.out
    assert "is identical to" in ran.out
    # What the log still holds is rebuilt; the half-expired activation only in part.
    assert len(rebuilt) == len(new) + 1
    assert "activation.accepted" not in rebuilt[partial[0].activation_id]["ledger"]["parts"]
