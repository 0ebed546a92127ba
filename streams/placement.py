"""Which invoker runs an activation: a pure function, OpenWhisk's sharding walk."""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from streams.constants import MEMORY_MAX_MB


@dataclass(frozen=True)
class InvokerCapacity:
    """What the scheduler knows of one usable invoker."""

    invoker: int
    free_mb: int


@dataclass(frozen=True)
class Placement:
    """The invoker chosen and how it was found."""

    invoker: int
    decision: Literal["home", "step"]


def action_hash(namespace: str, action: str) -> int:
    """A hash of namespace and action that every process computes alike."""
    return zlib.crc32(f"{namespace}/{action}".encode())


@lru_cache(maxsize=64)
def coprimes(n: int) -> tuple[int, ...]:
    """The step sizes usable for ``n`` invokers: 1..n co-prime with n."""
    return tuple(i for i in range(1, n + 1) if math.gcd(i, n) == 1)


def place(
    invokers: list[InvokerCapacity], namespace: str, action: str, memory_mb: int
) -> Placement | None:
    """Choose an invoker with room for ``memory_mb``, or None when all are full.

    The invokers are taken in id order. The action's hash picks a *home*
    invoker (hash mod n), so repeated invocations of one action land where its
    warm containers are. When home is full the walk steps through the others
    with a step size co-prime to n, chosen by the same hash, so every invoker is
    visited exactly once and different actions spread their overflow differently.

    Worked example: three healthy invokers 0, 1, 2 with 512, 0 and 256 MB free;
    an action whose hash is 7 asks for 256 MB. Home = 7 mod 3 = 1; the co-primes
    of 3 are (1, 2), so step = (1, 2)[7 mod 2] = 2. Visit order: 1, 0, 2.
    Invoker 1 is full, invoker 0 has 512 MB: Placement(invoker=0, decision="step").
    Had every invoker had less than 256 MB free, the result is None and the
    caller queues the activation.
    """
    if not invokers:
        return None
    ordered = sorted(invokers, key=lambda i: i.invoker)
    n = len(ordered)
    h = action_hash(namespace, action)
    home = h % n
    steps = coprimes(n)
    step = steps[h % len(steps)]
    for i in range(n):
        candidate = ordered[(home + i * step) % n]
        if candidate.free_mb >= memory_mb:
            return Placement(candidate.invoker, "home" if i == 0 else "step")
    return None


def share_of(owned_partitions: int, total_partitions: int) -> float:
    """The part of every invoker one controller instance may fill.

    Controller instances split the ledger's partitions (Faust's consumer group),
    and activation ids spread evenly over partitions, so an instance owning
    2 of 4 partitions sees half the load and gets half of each invoker.
    The shares add up to one whatever the number of instances, and they follow
    every rebalance without any talk between controllers.
    """
    if total_partitions <= 0 or owned_partitions <= 0:
        return 0.0
    return min(1.0, owned_partitions / total_partitions)


def capacities(
    invokers: Iterable[tuple[int, int]], reserved_mb: Mapping[int, int], share: float
) -> list[InvokerCapacity]:
    """Room on each usable invoker ``(id, user memory)`` for one controller instance.

    Its budget is ``share`` of the invoker's memory, less what it has reserved
    there. An invoker where it reserved nothing admits one activation of any
    allowed size even when the share is smaller, so that a controller owning a
    single partition of many still gets work through (the invoker's own pool
    waits for room if the shares overcommit it for a moment).
    """
    out = []
    for invoker, memory_mb in invokers:
        used = reserved_mb.get(invoker, 0)
        budget = int(memory_mb * share)
        free = (
            max(budget, min(memory_mb, MEMORY_MAX_MB)) if used == 0 and share > 0 else budget - used
        )
        out.append(InvokerCapacity(invoker, free))
    return out
