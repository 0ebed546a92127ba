"""Invoker discovery: the health table fed by heartbeats, behind one small interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from streams.events import InvokerHealth

State = Literal["up", "healthy", "unhealthy", "offline"]


@dataclass
class InvokerRecord:
    """The latest heartbeat of one invoker and when it arrived (controller clock)."""

    health: InvokerHealth
    seen_ms: int


def state_of(record: InvokerRecord, now_ms: int, offline_after_ms: int) -> State:
    """An invoker is offline once it has been silent for ``offline_after_ms``."""
    if now_ms - record.seen_ms > offline_after_ms:
        return "offline"
    return record.health.state


class InvokerRegistry(Protocol):
    """Where the controller learns which invokers exist and which are usable."""

    def observe(self, health: InvokerHealth, now_ms: int) -> None: ...

    def usable(self, now_ms: int) -> list[InvokerRecord]: ...

    def all(self) -> list[InvokerRecord]: ...


@dataclass
class HeartbeatRegistry:
    """A registry built from ``invoker.health`` heartbeats on Kafka."""

    offline_after_ms: int
    records: dict[int, InvokerRecord] = field(default_factory=dict)

    def observe(self, health: InvokerHealth, now_ms: int) -> None:
        current = self.records.get(health.invoker)
        if current is None or health.at_ms >= current.health.at_ms:
            self.records[health.invoker] = InvokerRecord(health, now_ms)

    def usable(self, now_ms: int) -> list[InvokerRecord]:
        return [
            r
            for r in self.records.values()
            if state_of(r, now_ms, self.offline_after_ms) in ("up", "healthy")
        ]

    def all(self) -> list[InvokerRecord]:
        return sorted(self.records.values(), key=lambda r: r.health.invoker)
