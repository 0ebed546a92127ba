"""The invoker process: a reader of the ledger for what is placed on it, plus heartbeats.

It reads every partition of the ledger (no consumer group: it acts on its own
placements wherever they are) from where its run begins, and takes the records
that place an activation on it: their ``invoker`` header names it, so nothing
else is decoded. It holds the ``Invoker`` (pool and runs) and decides, with
``invoker.lease``, which placements it may run and whether a run needs its
claim confirmed in the ledger first. Its heartbeats carry its health, its run
(``incarnation``) and where in the ledger this run begins (``ledger_from``);
where Consul is configured it also passes a TTL check there with every
heartbeat. It runs in a Faust app for the producer, timers and lifecycle; the
ledger is read with a plain aiokafka consumer, since an invoker needs no group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from faust.exceptions import ProducerSendError

from invoker.activation import Invoker
from invoker.apidoor import ApiDoor
from invoker.containers import Docker
from invoker.lease import Admission, Assignment, Lease, assignment_of, confirmed, may_start
from store.couch import Couch
from streams import constants, deadletters, gctune, worker
from streams.app import make_app, write_until_taken
from streams.claims import fold
from streams.discovery import Consul, DiscoveryError
from streams.errors import LedgerUnavailable, kafka_unavailable
from streams.events import (
    HEADER_INVOKER,
    ActivationCompleted,
    ActivationStarted,
    InvokerHealth,
    Unreadable,
    encode,
    header,
    headers_of,
    read,
)
from streams.groupreader import fetches
from streams.history import read_activation
from streams.ids import now_ms
from streams.positions import Cursor
from streams.producestats import PRODUCE_CLOCK, send_stats
from streams.registry import system_state
from streams.replication import replication_of
from streams.retry import until_done
from streams.settings import Settings
from streams.tasks import TaskSet
from streams.topics import ensure_topics, ledger_topics, partition_count

log = logging.getLogger("ledgerwhisk.invoker")

HEARTBEAT_TIMEOUT_S = 5.0
# The last fault's message a heartbeat carries, at most.
LAST_FAULT_MAX = 300
# How long a fetch of the ledger waits when nothing is new (data returns at once).
FETCH_WAIT_MS = 100


def mono_ms() -> float:
    return time.monotonic() * 1000


async def ledger_ends(settings: Settings) -> Cursor:
    """The end offset of every ledger partition now."""
    topic = settings.topic(constants.TOPIC_EVENTS)
    count = await partition_count(settings, topic)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        **replication_of(settings).consumer_options(),
    )
    try:
        await consumer.start()
        tps = [TopicPartition(topic, p) for p in range(count)]
        ends = await consumer.end_offsets(tps)
        return {tp.partition: int(ends[tp]) for tp in tps}
    except KafkaError as exc:
        raise kafka_unavailable(settings.kafka_bootstrap, exc) from exc
    finally:
        await consumer.stop()


class InvokerAgent:
    """The I/O half of one invoker process: sending, heartbeats, admission, claims."""

    def __init__(self, app: faust.App, settings: Settings):
        self.app = app
        self.settings = settings
        self.ledger = settings.topic(constants.TOPIC_EVENTS)
        self.health_topic = settings.topic(constants.TOPIC_HEALTH)
        offline_after_ms = settings.invoker_offline_after_s * 1000
        self.lease = Lease(limit_ms=int(offline_after_ms - settings.invoker_lease_margin_s * 1000))
        self.admission = Admission()
        self.errors: deque[int] = deque(maxlen=100)
        self.last_fault = ""
        self.ready = asyncio.Event()
        self.consul = Consul(settings) if settings.consul_url else None
        self._registered = False
        self.tasks = TaskSet(log, "an invoker task")
        mounts = None
        if settings.invoker_test_mount:
            host, _, inside = settings.invoker_test_mount.partition(":")
            mounts = {host: inside}
        self.invoker = Invoker(
            settings,
            self.append,
            self.fault,
            Docker(
                owner=f"{settings.prefix}-invoker{settings.invoker_id}",
                socket_path=settings.docker_socket_path(),
                mounts=mounts,
                api_door=ApiDoor(settings.api_host, settings.api_port),
            ),
            Couch(settings),
        )

    # -- writing --------------------------------------------------------------
    async def send_once(self, topic: str, key: bytes, value: bytes) -> None:
        """Write one record once, no retry (heartbeats, stats: the next one follows)."""
        await PRODUCE_CLOCK.timed(
            self.app.producer.send_and_wait(topic, key, value, None, None, None)
        )

    async def append(self, event: ActivationStarted | ActivationCompleted) -> None:
        """Append one ledger event; retry until Kafka takes it (a run's outcome is never lost)."""
        await write_until_taken(
            self.app, self.ledger, event.activation_id.encode(), encode(event), headers_of(event)
        )

    def fault(self, message: str) -> None:
        """The invoker failed an activation by a fault of its own (Docker, its runtime images).

        Only these count towards ``unhealthy``: what a user's action causes (a
        bad image, a crash, a time-out) is that user's developer error. The
        heartbeats carry how many fell in the window and the last one's
        ``message``, so the controller's log can say why an invoker is unhealthy.
        """
        self.errors.append(now_ms())
        self.last_fault = message[:LAST_FAULT_MAX]

    # -- heartbeats -----------------------------------------------------------
    def health(self, state: str | None = None) -> InvokerHealth:
        base = self.invoker.health()
        if state is None:
            floor = self.lease.boot_floor
            state = "up" if floor is None else self._system_state()
        window_ms = int(self.settings.invoker_unhealthy_window_s * 1000)
        recent = sum(1 for at in self.errors if at > now_ms() - window_ms)
        return base.model_copy(
            update={
                "state": state,
                "incarnation": self.invoker.source,
                "ledger_from": self.lease.boot_floor or {},
                "recent_faults": recent,
                "last_fault": self.last_fault if recent else "",
            }
        )

    def _system_state(self) -> str:
        s = self.settings
        return system_state(
            list(self.errors),
            now_ms(),
            int(s.invoker_unhealthy_window_s * 1000),
            s.invoker_unhealthy_errors,
        )

    async def heartbeats(self) -> None:
        while True:
            try:
                await self.beat()
            except Exception:
                # A heartbeat that failed in an unforeseen way must not end them all.
                log.exception("heartbeat failed")
            await asyncio.sleep(self.settings.invoker_heartbeat_s)

    async def beat(self) -> None:
        """Send one heartbeat; on its acknowledgement, renew the lease."""
        health = self.health()
        sent = mono_ms()
        try:
            await asyncio.wait_for(
                self.send_once(
                    self.health_topic, str(self.settings.invoker_id).encode(), encode(health)
                ),
                HEARTBEAT_TIMEOUT_S,
            )
            await self._pass_consul(health)
        except (KafkaError, ProducerSendError, TimeoutError, DiscoveryError) as exc:
            log.warning("heartbeat not delivered: %r", exc)
            return
        if self.lease.acked(sent, mono_ms()) and self.lease.epoch > 1:
            log.warning("heartbeats had a gap: confirming claims in the ledger for older work")
        if self.lease.floor is None:
            epoch = self.lease.epoch
            try:
                ends = await ledger_ends(self.settings)
            except LedgerUnavailable as exc:
                log.warning("%s", exc)
                return
            first = self.lease.boot_floor is None
            self.lease.set_floor(epoch, ends)
            if first and self.lease.boot_floor is not None:
                self.ready.set()
                log.info(
                    "invoker %s ready (user memory %d MB, ledger from %s)",
                    self.settings.invoker_id,
                    self.settings.invoker_user_memory_mb,
                    ",".join(f"{p}:{o}" for p, o in sorted(ends.items())),
                )
                await self.beat()  # tell the controllers at once

    async def _pass_consul(self, health: InvokerHealth) -> None:
        if self.consul is None:
            return
        invoker = self.settings.invoker_id
        if not self._registered:
            meta = {"incarnation": health.incarnation, "pid": str(health.pid), "host": health.host}
            await self.consul.register(invoker, meta)
            self._registered = True
        try:
            await self.consul.pass_ttl(invoker, health.state)
        except DiscoveryError:
            self._registered = False  # the agent may have lost us: register again next time
            raise

    async def goodbye(self) -> None:
        """Tell the controllers at once that this run is over (best effort)."""
        with contextlib.suppress(KafkaError, ProducerSendError, TimeoutError):
            await asyncio.wait_for(
                self.send_once(
                    self.health_topic,
                    str(self.settings.invoker_id).encode(),
                    encode(self.health("offline")),
                ),
                HEARTBEAT_TIMEOUT_S,
            )
        if self.consul is not None:
            with contextlib.suppress(DiscoveryError):
                await self.consul.deregister(self.settings.invoker_id)
            await self.consul.close()

    # -- placements -----------------------------------------------------------
    async def follow(self) -> None:
        """Read the ledger from this run's start for ever; take what is placed on us."""
        await self.ready.wait()
        assert self.lease.boot_floor is not None
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            **replication_of(self.settings).consumer_options(),
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=FETCH_WAIT_MS,
            max_partition_fetch_bytes=constants.LEDGER_MESSAGE_MAX_BYTES,
        )
        await until_done(
            consumer.start, what="starting the ledger reader", retry_on=KafkaError, log=log
        )
        try:
            tps = [TopicPartition(self.ledger, p) for p in sorted(self.lease.boot_floor)]
            consumer.assign(tps)
            for tp in tps:
                consumer.seek(tp, self.lease.boot_floor[tp.partition])
            async for batches in fetches(consumer, log):
                for tp, records in batches.items():
                    for record in records:
                        try:
                            self.offer(record, tp.partition)
                        except Exception:
                            # A fault of ours on one record must not end the reader.
                            log.exception(
                                "placement at %d:%d not handled", tp.partition, record.offset
                            )
        finally:
            await consumer.stop()

    def offer(self, record: Any, partition: int) -> None:
        """One ledger record: taken when its ``invoker`` header names this invoker."""
        if header(record.headers, HEADER_INVOKER) != str(self.settings.invoker_id):
            return
        event = read(record.value, record.key, record.headers)
        if isinstance(event, Unreadable):
            # The controller, which owns the partition, ends its activation.
            deadletters.seen("invoker", event, f"{self.ledger}:{partition}:{record.offset}")
            return
        assignment = assignment_of(event, self.settings.invoker_id, partition, record.offset)
        if assignment is not None:
            self.take(assignment)

    def take(self, assignment: Assignment) -> None:
        """Decide about one activation placed on this invoker."""
        assert self.lease.boot_floor is not None
        aid = assignment.activation_id
        verdict = self.admission.verdict(assignment, self.lease.boot_floor, now_ms())
        if verdict != "run":
            log.info("%s (attempt %d): not taken: %s", aid, assignment.attempt, verdict)
            return
        if self.lease.fast(assignment, mono_ms()):
            self.invoker.submit(assignment, self._claim_check(assignment))
        else:
            self.tasks.spawn(self._check_then_submit(assignment))

    def _claim_check(self, assignment: Assignment) -> Any:
        async def check(started: ActivationStarted) -> bool:
            if self.lease.fast(assignment, mono_ms()):
                return True
            events = await self._read(assignment)
            ok = confirmed([e.event for e in events], started)
            log.info("%s: claim confirmed in the ledger: %s", started.activation_id, ok)
            return ok

        return check

    async def _check_then_submit(self, assignment: Assignment) -> None:
        events = await self._read(assignment)
        claim = fold(e.event for e in events)
        if not may_start(claim, assignment.attempt):
            log.info("%s: not taken: the ledger shows %s", assignment.activation_id, claim)
            return
        self.invoker.submit(assignment, self._claim_check(assignment))

    async def _read(self, assignment: Assignment) -> list[Any]:
        aid = assignment.activation_id
        return await until_done(
            lambda: read_activation(self.settings, aid),
            what=f"reading {aid} back",
            retry_on=(LedgerUnavailable, TimeoutError),
            log=log,
        )


def create_app(settings: Settings) -> faust.App:
    app = make_app(f"invoker{settings.invoker_id}", settings)
    agent = InvokerAgent(app, settings)

    @app.task
    async def boot() -> None:
        await agent.invoker.start()
        gctune.settle()
        agent.tasks.spawn(agent.heartbeats())
        agent.tasks.spawn(agent.follow())
        agent.tasks.spawn(
            send_stats(settings, "invoker", str(settings.invoker_id), agent.send_once)
        )

    @app.timer(interval=1.0)
    async def idle() -> None:
        if agent.ready.is_set():
            await agent.invoker.reap_idle()

    @app.on_before_shutdown.connect
    async def shutdown(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        await agent.goodbye()
        await agent.invoker.stop()

    return app


async def ensure_own_topics(settings: Settings) -> None:
    """The ledger's topics (an invoker may start before the API's setup made them)."""
    await ensure_topics(settings, ledger_topics(settings))


if __name__ == "__main__":
    # One invoker in the foreground (its id from LEDGERWHISK_INVOKER_ID).
    worker.run(create_app, before=ensure_own_topics)
