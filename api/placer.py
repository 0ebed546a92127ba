"""Placing first attempts from the API: its share of each invoker, decided by ``streams.placement``.

An API instance that sees room on a healthy invoker names it in the
``accepted`` event itself; that record is then the first attempt's
``scheduled`` fact and its dispatch (the invoker reads the ledger), so the
activation skips a hop through the controller. Each instance fills at most its
share of every invoker (``1 / LEDGERWHISK_API_INSTANCES``, as OpenWhisk's
controllers share invokers), counting the activations it placed until their
completion reaches its ledger tail or their deadline passes.

When every invoker is full in that share, it places anyway, up to
``LEDGERWHISK_API_OVERCOMMIT`` times its share (OpenWhisk's load balancer
likewise forces an activation onto an invoker when all are full,
``ShardingContainerPoolBalancer``): the invoker's pool holds it until a
container frees, within the activation's deadline, with no hop through the
controller. Beyond that, or without a usable invoker, the activation is
accepted unplaced and the controller, which sees every placement of its
partitions, queues and places it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.placement import Placement, capacities, place
from streams.registry import InvokerRegistry


@dataclass
class Placer:
    """The invokers this API instance knows, and what it has placed on them."""

    registry: InvokerRegistry
    share: float
    overcommit: float = 1.0
    reserved_mb: dict[int, int] = field(default_factory=dict)
    placed: dict[str, tuple[int, int]] = field(default_factory=dict)

    def choose(self, namespace: str, action: str, memory_mb: int, now_ms: int) -> Placement | None:
        """An invoker with room in this instance's share, else one with room in its
        overcommitted share, else None (the controller places it)."""
        usable = [(h.invoker, h.user_memory_mb) for h in self.registry.usable(now_ms)]
        found = place(
            capacities(usable, self.reserved_mb, self.share), namespace, action, memory_mb
        )
        if found is not None or self.overcommit <= 1.0:
            return found
        forced = capacities(usable, self.reserved_mb, self.share * self.overcommit)
        return place(forced, namespace, action, memory_mb)

    def hold(self, activation_id: str, invoker: int, memory_mb: int) -> None:
        """Count an activation placed on ``invoker`` until ``release``."""
        self.placed[activation_id] = (invoker, memory_mb)
        self.reserved_mb[invoker] = self.reserved_mb.get(invoker, 0) + memory_mb

    def release(self, activation_id: str) -> None:
        """The activation completed (or will never be heard of again): its room is free."""
        found = self.placed.pop(activation_id, None)
        if found is None:
            return
        invoker, memory_mb = found
        self.reserved_mb[invoker] = max(0, self.reserved_mb.get(invoker, 0) - memory_mb)
