"""The invoker process: a Faust agent over this invoker's dispatch topic, plus heartbeats.

It holds the ``Invoker`` (pool and runs) and decides, with ``invoker.lease``,
which dispatches it may run and whether a run needs its claim confirmed in the
ledger first. Its heartbeats carry its health, its run (``incarnation``) and
where its dispatch topic begins for this run (``dispatch_from``); where Consul
is configured it also passes a TTL check there with every heartbeat.
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
from faust.types import StreamT

from invoker.activation import Invoker
from invoker.apidoor import ApiDoor
from invoker.containers import Docker
from invoker.lease import Admission, Lease, confirmed, may_start
from store.couch import Couch
from streams import completion, constants, deadletters, gctune, worker
from streams.app import make_app, write_until_taken
from streams.claims import fold
from streams.discovery import Consul, DiscoveryError
from streams.errors import LedgerUnavailable
from streams.events import (
    ActivationEvent,
    ActivationStarted,
    Dispatch,
    InvokerHealth,
    Unreadable,
    encode,
    headers_of,
    read_dispatch,
)
from streams.history import read_activation
from streams.ids import now_ms
from streams.registry import system_state
from streams.retry import until_done
from streams.settings import Settings
from streams.tasks import TaskSet
from streams.topics import ensure_topics, ledger_topics

log = logging.getLogger("ledgerwhisk.invoker")

HEARTBEAT_TIMEOUT_S = 5.0
# The last fault's message a heartbeat carries, at most.
LAST_FAULT_MAX = 300


def mono_ms() -> float:
    return time.monotonic() * 1000


async def dispatch_end(settings: Settings) -> int:
    """The end offset of this invoker's dispatch topic now."""
    topic = settings.dispatch_topic(settings.invoker_id)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None)
    try:
        await consumer.start()
        tp = TopicPartition(topic, 0)
        return int((await consumer.end_offsets([tp]))[tp])
    except KafkaError as exc:
        raise LedgerUnavailable(f"could not read the end of {topic}: {exc!r}") from exc
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
                socket_path=settings.docker_socket,
                mounts=mounts,
                api_door=ApiDoor(settings.api_host, settings.api_port),
            ),
            Couch(settings),
        )

    # -- writing --------------------------------------------------------------
    async def _send_once(self, topic: str, key: bytes, value: bytes) -> None:
        await self.app.producer.send_and_wait(topic, key, value, None, None, None)

    async def append(self, event: ActivationEvent) -> None:
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
                "dispatch_from": -1 if self.lease.boot_floor is None else self.lease.boot_floor,
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
                self._send_once(
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
                end = await dispatch_end(self.settings)
            except LedgerUnavailable as exc:
                log.warning("%s", exc)
                return
            first = self.lease.boot_floor is None
            self.lease.set_floor(epoch, end)
            if first and self.lease.boot_floor is not None:
                self.ready.set()
                log.info(
                    "invoker %s ready (user memory %d MB, dispatches from offset %d)",
                    self.settings.invoker_id,
                    self.settings.invoker_user_memory_mb,
                    end,
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
                self._send_once(
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

    # -- dispatches -----------------------------------------------------------
    def take(self, dispatch: Dispatch, offset: int) -> None:
        """Decide about one dispatch read at ``offset`` of this invoker's topic."""
        assert self.lease.boot_floor is not None
        aid = dispatch.accepted.activation_id
        verdict = self.admission.verdict(dispatch, offset, self.lease.boot_floor, now_ms())
        if verdict != "run":
            log.info("%s (attempt %d): not taken: %s", aid, dispatch.scheduled.attempt, verdict)
            return
        if not dispatch.redelivered and self.lease.fast(offset, mono_ms()):
            self.invoker.submit(dispatch, self._claim_check(dispatch, offset))
        else:
            self.tasks.spawn(self._check_then_submit(dispatch, offset))

    async def unreadable(
        self, record: Unreadable, offset: int, key: bytes | None, value: Any
    ) -> None:
        """A dispatch that does not decode: never run; its activation ends if it can be told."""
        topic = self.settings.dispatch_topic(self.settings.invoker_id)
        where = f"{topic}:0:{offset}"
        deadletters.seen("invoker", record, where)
        if record.identified:
            await self.append(completion.of_unreadable(record, now_ms(), self.invoker.source))
        letter = deadletters.letter(
            record,
            reader=f"invoker{self.settings.invoker_id}",
            topic=topic,
            partition=0,
            offset=offset,
            key=key,
            value=value if isinstance(value, bytes) else None,
            ended=record.identified,
            at_ms=now_ms(),
        )
        dead = self.settings.topic(constants.TOPIC_DEAD_LETTERS)
        await write_until_taken(self.app, dead, where.encode(), letter)

    def _claim_check(self, dispatch: Dispatch, offset: int) -> Any:
        async def check(started: ActivationStarted) -> bool:
            if not dispatch.redelivered and self.lease.fast(offset, mono_ms()):
                return True
            events = await self._read(dispatch)
            ok = confirmed([e.event for e in events], started)
            log.info("%s: claim confirmed in the ledger: %s", started.activation_id, ok)
            return ok

        return check

    async def _check_then_submit(self, dispatch: Dispatch, offset: int) -> None:
        events = await self._read(dispatch)
        claim = fold(e.event for e in events)
        if not may_start(claim, dispatch.scheduled.attempt):
            log.info("%s: not taken: the ledger shows %s", dispatch.accepted.activation_id, claim)
            return
        self.invoker.submit(dispatch, self._claim_check(dispatch, offset))

    async def _read(self, dispatch: Dispatch) -> list[Any]:
        aid = dispatch.accepted.activation_id
        return await until_done(
            lambda: read_activation(self.settings, aid),
            what=f"reading {aid} back",
            retry_on=(LedgerUnavailable, TimeoutError),
            log=log,
        )


def create_app(settings: Settings) -> faust.App:
    # The only member of its own group: its id is a stable instance name.
    app = make_app(f"invoker{settings.invoker_id}", settings, instance="static")
    dispatch_topic = app.topic(settings.dispatch_topic(settings.invoker_id), value_type=bytes)
    agent = InvokerAgent(app, settings)

    @app.task
    async def boot() -> None:
        await agent.invoker.start()
        gctune.settle()
        agent.tasks.spawn(agent.heartbeats())

    @app.agent(dispatch_topic)
    async def run(stream: StreamT[Any]) -> None:
        async for event in stream.events():
            await agent.ready.wait()
            message = event.message
            dispatch = read_dispatch(event.value, message.key, message.headers)
            try:
                if isinstance(dispatch, Unreadable):
                    await agent.unreadable(dispatch, message.offset, message.key, event.value)
                else:
                    agent.take(dispatch, message.offset)
            except Exception:
                # A fault of ours on one dispatch must not stop the agent.
                log.exception("invoker: dispatch at offset %d not handled", message.offset)

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
    """The ledger's topics and this invoker's dispatch topic (it may be new)."""
    await ensure_topics(settings, ledger_topics(settings, [settings.invoker_id]))


if __name__ == "__main__":
    # One invoker in the foreground (its id from LEDGERWHISK_INVOKER_ID).
    worker.run(create_app, before=ensure_own_topics)
