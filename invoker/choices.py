"""The container pool's decisions: where an activation runs, what idles, which stem cells to add.

Pure functions over a snapshot of the pool, so tests drive every case without
Docker. The ``ContainerPool`` holds the containers and performs the decisions
(see ``invoker/pool.py``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple


class Slot(NamedTuple):
    """What the pool knows of one container (or one being created) when deciding.

    A named tuple: the pool builds one per container for every decision.
    """

    id: str
    kind: str
    memory_mb: int
    action: str | None  # "namespace/name@rev" once claimed; None for a stem cell
    in_use: int
    concurrency: int
    last_used_ms: int
    paused: bool = False


@dataclass(frozen=True)
class Want:
    """What one activation needs."""

    action: str
    kind: str
    memory_mb: int
    namespace: str = ""  # the invoking namespace (the pool queue's fairness)


@dataclass(frozen=True)
class Warm:
    """Reuse this container of the same action (it may still be starting)."""

    slot: str


@dataclass(frozen=True)
class StemCell:
    """Claim this prewarmed container of the same kind and memory."""

    slot: str


@dataclass(frozen=True)
class Cold:
    """Start a new container, after removing the idle ones named in ``evict``."""

    evict: tuple[str, ...] = ()


@dataclass(frozen=True)
class Wait:
    """No room now: queue until a container is released or removed."""


@dataclass(frozen=True)
class Never:
    """The action needs more memory than this invoker has at all."""


Decision = Warm | StemCell | Cold | Wait | Never


@dataclass(frozen=True)
class Prewarm:
    """How many stem cells of one kind and memory the pool keeps ready."""

    kind: str
    memory_mb: int
    count: int


def choose(slots: list[Slot], want: Want, budget_mb: int, reserved_mb: int = 0) -> Decision:
    """Decide where the activation runs.

    In order: a warm container of the same action (and revision) with a free
    concurrency slot; a stem cell of the same kind and memory; a cold start if
    the memory budget allows (``reserved_mb`` counts stem cells being created);
    a cold start after evicting idle containers, least recently used first
    (warm ones before stem cells); otherwise wait for capacity.

    Worked example: budget 768 MB; slots ``a`` (warm, other action, idle, last
    used at t=1), ``b`` (warm, other action, idle, t=5) and a nodejs stem cell,
    256 MB each; a python activation of 256 MB arrives. No warm container of its
    action, no python stem cell, 0 MB free: evict ``a`` (the least recently
    used idle warm one) and start cold: ``Cold(evict=("a",))``. Had ``a`` and
    ``b`` both been busy, the stem cell would have been evicted instead; had
    everything been busy, ``Wait()``.
    """
    if want.memory_mb > budget_mb:
        return Never()
    warm = [s for s in slots if s.action == want.action and s.in_use < s.concurrency]
    if warm:
        # The busiest one first keeps the others idle long enough to be paused
        # (and removed), so a burst does not leave a trail of warm containers.
        best = max(warm, key=lambda s: (s.in_use, not s.paused, s.last_used_ms))
        return Warm(best.id)
    stem = [
        s
        for s in slots
        if s.action is None
        and s.in_use == 0
        and s.kind == want.kind
        and s.memory_mb == want.memory_mb
    ]
    if stem:
        return StemCell(min(stem, key=lambda s: s.id).id)
    free = budget_mb - sum(s.memory_mb for s in slots) - reserved_mb
    if want.memory_mb <= free:
        return Cold()
    idle = sorted(
        (s for s in slots if s.in_use == 0),
        key=lambda s: (s.action is None, s.last_used_ms, s.id),
    )
    evict: list[str] = []
    for slot in idle:
        if want.memory_mb <= free:
            break
        evict.append(slot.id)
        free += slot.memory_mb
    if want.memory_mb <= free:
        return Cold(tuple(evict))
    return Wait()


def idle_actions(
    slots: list[Slot], now_ms: int, pause_after_ms: int, remove_after_ms: int
) -> tuple[list[str], list[str]]:
    """Which idle warm containers to pause now and which to remove now.

    Stem cells are never paused nor removed here: they are the pool's reserve.
    A container already paused is only ever removed.
    """
    pause, remove = [], []
    for s in slots:
        if s.in_use or s.action is None:
            continue
        idle = now_ms - s.last_used_ms
        if idle >= remove_after_ms:
            remove.append(s.id)
        elif idle >= pause_after_ms and not s.paused:
            pause.append(s.id)
    return pause, remove


@dataclass(frozen=True)
class Refill:
    """Stem cells to start now, and the paused containers to remove to make room for them."""

    create: tuple[tuple[str, int], ...] = ()
    evict: tuple[str, ...] = ()


def refill(
    specs: list[Prewarm],
    slots: list[Slot],
    creating: list[tuple[str, int]],
    budget_mb: int,
    reserved_mb: int,
    queued: int,
) -> Refill:
    """The ``(kind, memory_mb)`` stem cells to start now to refill the pool.

    Each spec asks for ``count`` free stem cells; those ready and those being
    created count. Activations waiting for room come first (nothing is
    created while ``queued``). When the budget is full, paused containers
    (idle past the pause grace) are evicted for a stem cell, least recently
    used first: a paused container saves its action only an ``/init`` over a
    stem cell, while a missing stem cell costs every new action a cold start.
    Busy and recently used containers are never evicted for one.
    """
    if queued:
        return Refill()
    have = Counter((s.kind, s.memory_mb) for s in slots if s.action is None and s.in_use == 0)
    have.update(creating)
    free = budget_mb - sum(s.memory_mb for s in slots) - reserved_mb
    paused = sorted(
        (s for s in slots if s.paused and s.in_use == 0 and s.action is not None),
        key=lambda s: (s.last_used_ms, s.id),
    )
    create: list[tuple[str, int]] = []
    evict: list[str] = []
    for spec in specs:
        for _ in range(spec.count - have[(spec.kind, spec.memory_mb)]):
            victims: list[Slot] = []
            room = free
            while spec.memory_mb > room and paused:
                victims.append(paused.pop(0))
                room += victims[-1].memory_mb
            if spec.memory_mb > room:
                return Refill(tuple(create), tuple(evict))
            evict.extend(v.id for v in victims)
            create.append((spec.kind, spec.memory_mb))
            free = room - spec.memory_mb
    return Refill(tuple(create), tuple(evict))


def effective_concurrency(requested: int, supported: bool) -> int:
    """How many activations may share one container: 1 unless the runtime supports more."""
    return max(1, requested) if supported else 1
