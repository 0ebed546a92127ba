"""How a controller instance rebuilds what it knows of a partition from the ledger.

A controller keeps its activations in memory. When it starts, or when a
rebalance gives it a partition another instance had, it reads that partition
back (from well before its committed offset to its end) and folds the events
into the activations still unfinished: queued, placed on an invoker (and where
the record placing each one sits), or started. Placements live in the ledger
itself (invokers read it), so nothing is sent again: a queued one is placed
anew, a placed one waits for its invoker or is taken back from a lost one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from streams import constants
from streams.claims import Claim, step
from streams.controller.state import Tracked
from streams.errors import LedgerUnavailable
from streams.events import (
    ActivationAccepted,
    ActivationScheduled,
    LedgerEvent,
    Unreadable,
    read,
)
from streams.replication import replication_of
from streams.settings import Settings

# How far before the committed offset the read begins: an activation accepted
# earlier than this has passed its deadline and was settled by the old owner.
SLACK_MS = 60_000


def lookback_ms(settings: Settings) -> int:
    """The longest an activation can stay unfinished, plus slack."""
    return constants.TIMEOUT_MAX_MS + int(settings.completion_grace_s * 1000) + SLACK_MS


@dataclass
class _Seen:
    accepted: ActivationAccepted | None = None
    accepted_offset: int = -1
    claim: Claim = field(default_factory=Claim)
    # attempt -> offset of the record placing it (an accepted the API placed, a scheduled)
    placed: dict[int, int] = field(default_factory=dict)
    unreadable: Unreadable | None = None


@dataclass
class Restored:
    """The unfinished activations of one partition, and the finished ids to ignore.

    ``unreadable`` holds one undecodable record of each activation that has
    one and no readable completion: the controller ends those.
    """

    tracked: list[Tracked]
    done: set[str]
    unreadable: list[Unreadable] = field(default_factory=list)


def fold_partition(
    events: Iterable[tuple[int, LedgerEvent | Unreadable]], partition: int, committed: int
) -> Restored:
    """Fold ``(offset, event)`` pairs of one partition, in log order, into its state.

    ``committed`` is the controller group's committed offset: the stream will
    deliver the events from there again, so the ids completed from there on
    are returned in ``done``.
    """
    seen: dict[str, _Seen] = {}
    for offset, event in events:
        if isinstance(event, Unreadable):
            if event.activation_id is not None:
                seen.setdefault(event.activation_id, _Seen()).unreadable = event
            continue
        s = seen.setdefault(event.activation_id, _Seen())
        if isinstance(event, ActivationAccepted):
            s.accepted, s.accepted_offset = event, offset
            if event.invoker is not None:
                s.placed.setdefault(0, offset)
        elif isinstance(event, ActivationScheduled):
            s.placed.setdefault(event.attempt, offset)
        s.claim = step(s.claim, event)
    tracked: list[Tracked] = []
    done: set[str] = set()
    unreadable: list[Unreadable] = []
    for aid, s in seen.items():
        if s.claim.completed:
            if s.accepted_offset >= committed or s.accepted is None:
                done.add(aid)
            continue
        if s.unreadable is not None:
            # Ended by ControllerState.restore: as its accepted says when that was
            # read (tracked below first), else as the record's key and headers tell.
            unreadable.append(s.unreadable)
        if s.accepted is None:
            continue  # began before the read; long past its deadline
        t = Tracked(s.accepted, partition, claim=s.claim)
        holder = s.claim.holder
        if holder is not None:
            t.phase, t.attempt, t.invoker = "dispatched", holder.attempt, holder.invoker
        elif s.claim.attempt is not None:
            t.phase, t.attempt, t.invoker = "dispatched", s.claim.attempt, s.claim.invoker
        t.offset = s.placed.get(t.attempt) if t.phase == "dispatched" else None
        tracked.append(t)
    tracked.sort(key=lambda t: seen[t.accepted.activation_id].accepted_offset)
    return Restored(tracked, done, unreadable)


def _consumer(settings: Settings, group_id: str | None = None) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        **replication_of(settings).consumer_options(),
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # only if a seek lands before the log start
        fetch_max_wait_ms=50,
    )


async def _scan(
    consumer: AIOKafkaConsumer, tp: TopicPartition, start: int, end: int
) -> list[tuple[int, Any]]:
    """Every ``(offset, record)`` of ``tp`` in ``[start, end)``."""
    out: list[tuple[int, Any]] = []
    if start >= end:
        return out
    consumer.seek(tp, start)
    while True:
        batch = await consumer.getmany(tp, timeout_ms=500)
        if not batch and await consumer.position(tp) >= end:
            return out  # the rest was deleted by retention while we read
        for record in batch.get(tp, []):
            if record.offset >= end:
                return out
            out.append((record.offset, record))
            if record.offset + 1 >= end:
                return out


async def _offset_at(consumer: AIOKafkaConsumer, tp: TopicPartition, at_ms: int, end: int) -> int:
    found = (await consumer.offsets_for_times({tp: max(0, at_ms)})).get(tp)
    return found.offset if found is not None else end


async def read_partition(
    settings: Settings, group_id: str, partition: int, now_ms: int
) -> Restored:
    """Read one ledger partition back and rebuild its unfinished activations."""
    topic = settings.topic(constants.TOPIC_EVENTS)
    tp = TopicPartition(topic, partition)
    consumer = _consumer(settings, group_id)
    try:
        await consumer.start()
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        committed = await consumer.committed(tp)
        anchor_ms = now_ms
        if committed is not None and committed < end:
            # Read from before the first event the old owner had not finished.
            consumer.seek(tp, committed)
            first = await consumer.getmany(tp, timeout_ms=2000, max_records=1)
            for record in first.get(tp, []):
                anchor_ms = min(anchor_ms, record.timestamp)
        start = await _offset_at(consumer, tp, anchor_ms - lookback_ms(settings), end)
        if committed is None:
            start, committed = 0, 0  # the stream will begin at the earliest offset too
        start = min(start, committed)
        records = await _scan(consumer, tp, start, end)
    except KafkaError as exc:
        raise LedgerUnavailable(f"could not read back partition {partition}: {exc!r}") from exc
    finally:
        await consumer.stop()
    return fold_partition(
        ((o, read(r.value, r.key, r.headers)) for o, r in records), partition, committed
    )
