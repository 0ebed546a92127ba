"""A tail of the ledger while a benchmark runs: when each event of each activation was appended."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams import constants
from streams.settings import Settings
from streams.topics import partition_count

# The stages of one blocking invoke, each between two moments (epoch ms):
# the client's send and receive, and the Kafka timestamp of each event (set
# by its producer as it sent it). "placed" is the record that placed the
# activation on its invoker: the accepted event when the API placed it, the
# controller's scheduled event otherwise (then the controller hop is a stage).
STAGES = (
    ("api_accept", "sent", "activation.accepted"),
    ("controller_hop", "activation.accepted", "activation.scheduled"),
    ("invoker_hop", "placed", "activation.started"),
    ("run_and_logs", "activation.started", "activation.completed"),
    ("answer", "activation.completed", "received"),
)
OPTIONAL_STAGES = frozenset({"controller_hop"})


@dataclass
class Seen:
    """What the tail saw of one activation."""

    appended_ms: dict[str, int] = field(default_factory=dict)
    start_kind: str | None = None
    container: str | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    annotations: dict[str, Any] = field(default_factory=dict)


def stage_times(seen: Seen, sent_ms: float, received_ms: float) -> dict[str, float] | None:
    """The stage durations of one invoke, or None when an event is missing."""
    moments: dict[str, float] = {"sent": sent_ms, "received": received_ms, **seen.appended_ms}
    placed = moments.get("activation.scheduled", moments.get("activation.accepted"))
    if placed is not None:
        moments["placed"] = placed
    out: dict[str, float] = {}
    for name, a, b in STAGES:
        if a in moments and b in moments:
            out[name] = moments[b] - moments[a]
        elif name not in OPTIONAL_STAGES:
            return None
    return out


class LedgerWatch:
    """Follows ``activation-events`` from its end and remembers every activation's events."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.topic = settings.topic(constants.TOPIC_EVENTS)
        self.seen: dict[str, Seen] = defaultdict(Seen)
        self._consumer: AIOKafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=100,
        )
        await self._consumer.start()
        count = await partition_count(self.settings, self.topic)
        tps = [TopicPartition(self.topic, p) for p in range(count)]
        self._consumer.assign(tps)
        await self._consumer.seek_to_end(*tps)
        for tp in tps:
            await self._consumer.position(tp)
        self._partitions = tps
        self._task = asyncio.create_task(self._follow())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Fetch nothing while a measurement runs, then catch up from where it stopped.

        The events' times are their Kafka timestamps, the same whenever they are
        read; the tail only must not take CPU from the platform it measures
        (the floor's client runs no tail either).
        """
        assert self._consumer is not None
        self._consumer.pause(*self._partitions)
        try:
            yield
        finally:
            self._consumer.resume(*self._partitions)

    async def _follow(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    event = json.loads(record.value)
                    seen = self.seen[event["activation_id"]]
                    seen.appended_ms[event["type"]] = record.timestamp
                    if event["type"] == "activation.started":
                        seen.start_kind = event.get("start")
                        seen.container = event.get("container")
                    elif event["type"] == "activation.completed":
                        seen.annotations = {
                            a["key"]: a["value"] for a in event.get("annotations", [])
                        }
                    seen.changed.set()

    async def wait_for(self, activation_id: str, event_type: str, timeout_s: float = 30.0) -> Seen:
        """The activation once its ``event_type`` was seen (TimeoutError past the deadline)."""
        seen = self.seen[activation_id]
        async with asyncio.timeout(timeout_s):
            while event_type not in seen.appended_ms:
                seen.changed.clear()
                await seen.changed.wait()
        return seen
