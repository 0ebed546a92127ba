"""The controller process: a Faust agent over the ledger partitions this instance owns.

Several instances may run at once: Faust's consumer group splits the ledger's
partitions among them, and each instance schedules the activations of its own
partitions with its share of every invoker (``streams.placement.share_of``).
Every instance reads every heartbeat (``streams.heartbeats``). When an instance
is given a partition (at start or in a rebalance) it rebuilds that partition's
unfinished activations from the ledger (``streams.controller.restore``) before it handles
any of its events.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
from typing import Any

import faust
from aiokafka import TopicPartition

from streams import constants, deadletters, gctune, worker
from streams.app import make_app, write_until_taken
from streams.controller.restore import read_partition
from streams.controller.state import Append, ControllerState, by_activation
from streams.discovery import Consul, DiscoveryError
from streams.errors import LedgerUnavailable
from streams.events import (
    ActivationAccepted,
    ActivationCompleted,
    ActivationScheduled,
    ActivationStarted,
    InvokerHealth,
    LedgerEvent,
    Unreadable,
    encode,
    headers_of,
    read,
)
from streams.groupreader import Fetching, GroupReader, Records, each_partition, group_id
from streams.heartbeats import HealthTail
from streams.ids import now_ms
from streams.producestats import PRODUCE_CLOCK, send_stats
from streams.registry import ConsulRegistry, HeartbeatRegistry
from streams.retry import until_done
from streams.settings import Settings
from streams.tasks import TaskSet
from streams.topics import partition_count

log = logging.getLogger("ledgerwhisk.controller")

TICK_S = 0.5
CONSUL_POLL_S = 1.0
# Activations with writes in flight before the agent stops taking new ones.
WRITES_IN_FLIGHT_MAX = 512
# How long a stopping controller waits for its writes in flight.
DRAIN_S = 5.0
# The controller is on the path of queued activations and retries only (the
# API places the rest, and sees completions itself): Kafka may hold its fetches
# up to 20 ms for 64 kB, so that under load each takes many records at once.
FETCHING = Fetching(max_wait_ms=20, min_bytes=64 * 1024, max_records=500)


def why(health: InvokerHealth | None, state: str) -> str:
    """Why an invoker turned unhealthy, as its last heartbeat tells it ("" otherwise)."""
    if state != "unhealthy" or health is None or not health.recent_faults:
        return ""
    return (
        f": {health.recent_faults} whisk errors of its own within the unhealthy window, "
        f"the last: {health.last_fault}"
    )


class Controller:
    """Holds one instance's ``ControllerState`` and performs what it decides."""

    def __init__(self, app: faust.App, settings: Settings):
        self.app = app
        self.settings = settings
        self.ledger = settings.topic(constants.TOPIC_EVENTS)
        offline_after_ms = int(settings.invoker_offline_after_s * 1000)
        self.registry: HeartbeatRegistry = (
            ConsulRegistry(offline_after_ms)
            if settings.consul_url
            else HeartbeatRegistry(offline_after_ms)
        )
        self.state = ControllerState(
            registry=self.registry,
            source=f"controller@{socket.gethostname()}:{os.getpid()}",
            queue_max=settings.controller_queue_max,
            no_invoker_wait_ms=int(settings.controller_no_invoker_wait_s * 1000),
        )
        self.health = HealthTail(settings, self.registry, self._on_health)
        self.rebuilds: dict[int, asyncio.Task[None]] = {}
        self.tasks = TaskSet(log, "a controller task")
        self._chains: dict[str, asyncio.Task[None]] = {}
        self._heard: set[int] = set()
        self._states: dict[int, str] = {}

    # -- performing -----------------------------------------------------------
    async def perform(self, outputs: list[Append]) -> None:
        """Append ``outputs`` in order, each once Kafka has taken the one before."""
        for out in outputs:
            event = out.event
            await self._send(self.ledger, event.activation_id, encode(event), headers_of(event))

    async def send_once(self, topic: str, key: bytes, value: bytes) -> None:
        """Write one record once, no retry (for best-effort facts: the service's stats)."""
        await PRODUCE_CLOCK.timed(
            self.app.producer.send_and_wait(topic, key, value, None, None, None)
        )

    async def _send(
        self, topic: str, key: str, value: bytes, headers: list[tuple[str, bytes]]
    ) -> Any:
        return await write_until_taken(self.app, topic, key.encode(), value, headers)

    def spawn(self, outputs: list[Append]) -> None:
        """Perform ``outputs`` in the background, in order per activation.

        Decisions are taken at once, in log order; their writes need not hold
        up the next event. An activation's writes wait for its earlier ones
        (a first attempt before a retry); different activations' writes run
        side by side, so the producer batches them. Nothing here depends on
        the committed offset: a controller that dies with writes in flight
        leaves accepted activations without a placement, and whoever rebuilds
        the partition (``streams.controller.restore``) places them.
        """
        for aid, chain in by_activation(outputs).items():
            before = self._chains.get(aid)
            task = asyncio.ensure_future(self._perform_after(before, chain))
            self._chains[aid] = task
            task.add_done_callback(functools.partial(self._chain_done, aid))
            self.tasks.keep(task)

    async def _perform_after(
        self, before: asyncio.Task[None] | None, outputs: list[Append]
    ) -> None:
        if before is not None:
            await asyncio.wait([before])  # its failure is logged by keep(); ours goes on
        await self.perform(outputs)

    def _chain_done(self, activation_id: str, task: asyncio.Task[None]) -> None:
        if self._chains.get(activation_id) is task:
            del self._chains[activation_id]

    async def room(self) -> None:
        """Wait while too many activations have writes in flight (Kafka is slow or away)."""
        while len(self._chains) >= WRITES_IN_FLIGHT_MAX:
            await asyncio.wait(list(self._chains.values()), return_when=asyncio.FIRST_COMPLETED)

    async def drain(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for the writes in flight (at shutdown)."""
        if self._chains:
            await asyncio.wait(list(self._chains.values()), timeout=timeout_s)

    # -- inputs ---------------------------------------------------------------
    def _on_health(self, health: InvokerHealth, new_run: bool) -> None:
        if new_run or health.invoker not in self._heard:
            self._heard.add(health.invoker)
            log.info("invoker %d is up (pid %d on %s)", health.invoker, health.pid, health.host)
        self.spawn(self.state.on_health(health, now_ms()))

    async def handle(self, event: LedgerEvent | Unreadable, partition: int, offset: int) -> None:
        """One ledger event of an owned partition, in log order (its writes go on behind)."""
        now = now_ms()
        if isinstance(event, Unreadable):
            self.spawn(self.state.on_unreadable(event, now))
        elif isinstance(event, ActivationAccepted):
            await self.room()
            self.spawn(self.state.on_accepted(event, partition, offset, now))
        elif isinstance(event, ActivationScheduled):
            self.state.on_scheduled(event, offset)
        elif isinstance(event, ActivationStarted):
            self.state.on_started(event)
        elif isinstance(event, ActivationCompleted):
            self.spawn(self.state.on_completed(event.activation_id, now))

    async def handle_batch(self, tp: TopicPartition, records: Records) -> None:
        """Records of one owned partition, in log order, once that partition is rebuilt."""
        partition = tp.partition
        if not await self.ready(partition):
            return  # revoked meanwhile: its new owner handles them
        for record in records:
            try:
                fact = read(record.value, record.key, record.headers)
                if isinstance(fact, Unreadable):
                    await self.dead_letter(fact, partition, record.offset, record.key, record.value)
                await self.handle(fact, partition, record.offset)
            except Exception:
                # A fault of ours on one event must not stop the reader: it
                # would meet the same event again after a restart.
                log.exception("controller: event at %d:%d not handled", partition, record.offset)

    async def tick(self) -> None:
        now = now_ms()
        for record in self.registry.all():
            state = self.registry.state(record.invoker, now)
            if self._states.get(record.invoker, state) != state:
                log.warning("invoker %d is %s%s", record.invoker, state, why(record.health, state))
            self._states[record.invoker] = state
        self.spawn(self.state.tick(now))

    # -- ownership ------------------------------------------------------------
    async def assigned(self, owned: set[int]) -> None:
        total = await partition_count(self.settings, self.ledger)
        for partition in set(self.rebuilds) - owned:
            self.rebuilds.pop(partition).cancel()
        self.state.assign(owned, total)
        for partition in owned - set(self.rebuilds):
            self.rebuilds[partition] = asyncio.ensure_future(self._rebuild(partition))
            self.tasks.keep(self.rebuilds[partition])
        log.info("owning ledger partitions %s of %d", sorted(owned), total)

    async def ready(self, partition: int) -> bool:
        """Wait until ``partition`` is rebuilt; False when it is not ours."""
        task = self.rebuilds.get(partition)
        if task is None:
            return False
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                return False  # revoked while we waited
            raise
        return partition in self.state.owned

    async def _rebuild(self, partition: int) -> None:
        await self.health.caught_up.wait()  # know the invokers first
        rebuilt = await until_done(
            lambda: read_partition(
                self.settings, group_id(self.settings, "controller"), partition, now_ms()
            ),
            what=f"rebuilding partition {partition}",
            retry_on=LedgerUnavailable,
            log=log,
        )
        log.info("partition %d rebuilt: %d unfinished activations", partition, len(rebuilt.tracked))
        self.spawn(self.state.restore(rebuilt.tracked, rebuilt.done, now_ms(), rebuilt.unreadable))

    async def dead_letter(
        self, record: Unreadable, partition: int, offset: int, key: bytes | None, value: Any
    ) -> None:
        """Count an unreadable ledger record and keep it as a dead letter."""
        where = f"{self.ledger}:{partition}:{offset}"
        deadletters.seen("controller", record, where)
        letter = deadletters.letter(
            record,
            reader="controller",
            topic=self.ledger,
            partition=partition,
            offset=offset,
            key=key,
            value=value if isinstance(value, bytes) else None,
            ended=record.identified,
            at_ms=now_ms(),
        )
        topic = self.settings.topic(constants.TOPIC_DEAD_LETTERS)
        self.tasks.spawn(self._send(topic, where, letter, []))

    async def poll_consul(self, consul: Consul) -> None:
        assert isinstance(self.registry, ConsulRegistry)
        while True:
            try:
                self.registry.consul(await consul.passing())
            except DiscoveryError as exc:
                log.warning("%s; heartbeats alone decide meanwhile", exc)
                self.registry.consul(None)
            await asyncio.sleep(CONSUL_POLL_S)


def create_app(settings: Settings) -> faust.App:
    """The controller app: the ledger reader, the heartbeat reader and a ticker."""
    app = make_app("controller", settings)
    controller = Controller(app, settings)
    reader = GroupReader(
        settings,
        "controller",
        controller.ledger,
        each_partition(controller.handle_batch),
        fetching=FETCHING,
        instance=settings.controller_instance,
        on_assigned=controller.assigned,
        # The next owner rebuilds these partitions from the log: our decisions
        # must be in it first, or it would schedule them again.
        on_revoked=lambda _: controller.drain(DRAIN_S),
    )

    @app.task
    async def listen() -> None:
        controller.health.start()
        gctune.settle()
        if settings.consul_url:
            controller.tasks.spawn(controller.poll_consul(Consul(settings)))
        controller.tasks.spawn(reader.run())
        controller.tasks.spawn(
            send_stats(
                settings,
                "controller",
                settings.controller_instance or "0",
                controller.send_once,
                queued=lambda: len(controller.state.queue),
            )
        )

    @app.timer(interval=TICK_S)
    async def tick() -> None:
        await controller.tick()

    @app.on_before_shutdown.connect
    async def shutdown(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        await controller.drain(DRAIN_S)
        await controller.tasks.cancel()
        await controller.health.stop()

    return app


if __name__ == "__main__":
    worker.run(create_app)
