"""The container pool's choice for one activation: warm, stem cell, cold, evict, or wait.

A pure function over a snapshot of the pool, so tests drive every case without
Docker. The invoker's service object holds the containers and performs the
decision.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Slot:
    """What the pool knows of one container when deciding."""

    id: str
    kind: str
    memory_mb: int
    action: str | None  # "namespace/name@rev" once initialised; None for a stem cell
    in_use: int
    concurrency: int
    last_used_ms: int


@dataclass(frozen=True)
class Want:
    """What one activation needs."""

    action: str
    kind: str
    memory_mb: int


@dataclass(frozen=True)
class Warm:
    slot: str


@dataclass(frozen=True)
class StemCell:
    slot: str


@dataclass(frozen=True)
class Cold:
    evict: tuple[str, ...] = ()


@dataclass(frozen=True)
class Wait:
    pass


Decision = Warm | StemCell | Cold | Wait


def choose(slots: list[Slot], want: Want, budget_mb: int, reserved_mb: int = 0) -> Decision:
    """Decide where the activation runs.

    In order: a warm container of the same action (and version) with a free
    concurrency slot; a stem cell of the same kind and memory; a cold start if
    the memory budget allows (``reserved_mb`` counts containers being created);
    a cold start after evicting idle containers, least recently used first
    (warm ones before stem cells); otherwise wait for capacity.
    """
    warm = [s for s in slots if s.action == want.action and s.in_use < s.concurrency]
    if warm:
        # The busiest one first keeps the others idle long enough to be paused.
        best = max(warm, key=lambda s: (s.in_use, s.last_used_ms))
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
        return StemCell(stem[0].id)
    used = sum(s.memory_mb for s in slots) + reserved_mb
    free = budget_mb - used
    if want.memory_mb <= free:
        return Cold()
    idle = sorted(
        (s for s in slots if s.in_use == 0),
        key=lambda s: (s.action is None, s.last_used_ms),
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
    """Which idle warm containers to pause now and which to remove now."""
    pause, remove = [], []
    for s in slots:
        if s.in_use or s.action is None:
            continue
        idle = now_ms - s.last_used_ms
        if idle >= remove_after_ms:
            remove.append(s.id)
        elif idle >= pause_after_ms:
            pause.append(s.id)
    return pause, remove
