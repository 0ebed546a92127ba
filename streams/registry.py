"""Invoker discovery: the health table fed by heartbeats (and Consul), behind one interface.

States, as the controller and ``lwsk admin invokers`` show them:

- ``up``: the invoker runs but is still starting (it does not yet know where its
  dispatch topic begins for this run); it gets no work.
- ``healthy``: it takes work.
- ``unhealthy``: it is alive but had recent *system* errors: at least
  ``unhealthy_errors`` activations ended in a whisk internal error of its own
  making (a container that would not start, an action it could not load) within
  the last ``unhealthy_window_s``. It gets no new work and recovers by itself
  once the window holds fewer errors.
- ``offline``: it said goodbye, or it was silent for ``offline_after``, measured
  up to the last moment this process *knew* it had read the health topic to its
  end (``heard_ms``). A registry that cannot reach Kafka blames nobody, and
  after such a gap every invoker gets a full window again.

Why "knew it had read to the end" matters: an invoker runs user code without
re-reading the ledger only while its last acknowledged heartbeat is younger than
``offline_after`` minus a margin (``invoker/lease.py``). If this registry
declares an invoker offline at ``heard_ms``, no heartbeat of it was appended
between its last one and ``heard_ms``, so the invoker has seen a gap of more than
``offline_after`` itself and re-reads the ledger before running anything it had.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from streams.events import InvokerHealth

State = Literal["up", "healthy", "unhealthy", "offline"]
USABLE: frozenset[str] = frozenset({"healthy"})
# A reader that reaches the end of the health topic less often than this was
# not really listening in between (Kafka away, the process stalled).
DEAF_GAP_MS = 2_000
# A heartbeat stamped further ahead of the reader's clock than this is not believed
# (a forged record, or a host whose clock is far off): its stamp must not outrank the
# invoker's real heartbeats, which would then be dropped as older ones.
HEARTBEAT_AHEAD_MAX_MS = 5_000


def believable(health: InvokerHealth, now_ms: int) -> bool:
    """Whether ``health`` is stamped no further ahead of ``now_ms`` (the reader's clock)
    than ``HEARTBEAT_AHEAD_MAX_MS``."""
    return health.at_ms <= now_ms + HEARTBEAT_AHEAD_MAX_MS


def system_state(
    error_times_ms: Sequence[int], now_ms: int, window_ms: int, threshold: int
) -> State:
    """``unhealthy`` when ``threshold`` system errors fall within the last ``window_ms``."""
    recent = sum(1 for t in error_times_ms if now_ms - t <= window_ms)
    return "unhealthy" if recent >= threshold else "healthy"


@dataclass
class InvokerRecord:
    """The latest heartbeat of one invoker and when it was heard (this process's clock).

    ``health`` is None for an invoker the controller knows holds work (found
    while rebuilding its state) but has not heard from yet.
    """

    invoker: int
    health: InvokerHealth | None
    seen_ms: int


def state_of(record: InvokerRecord, heard_ms: int, offline_after_ms: int) -> State:
    """Offline after ``offline_after_ms`` of silence up to ``heard_ms``, else its own word.

    An invoker expected but not heard yet is ``up`` (no work for it) until the
    same silence makes it offline.
    """
    if heard_ms - record.seen_ms > offline_after_ms:
        return "offline"
    return "up" if record.health is None else record.health.state


class InvokerRegistry(Protocol):
    """Where the controller learns which invokers exist and which are usable."""

    offline_after_ms: int

    def observe(self, health: InvokerHealth, now_ms: int) -> bool:
        """Take one heartbeat; True when it is a new run (incarnation) of its invoker."""
        ...

    def expect(self, invoker: int, now_ms: int) -> None:
        """Remember an invoker that holds work, so its silence can be noticed."""
        ...

    def hearing(self, now_ms: int, caught_up: bool) -> None:
        """Whether this process had read the health topic to its end as of ``now_ms``."""
        ...

    def state(self, invoker: int, now_ms: int) -> State: ...

    def get(self, invoker: int) -> InvokerRecord | None: ...

    def usable(self, now_ms: int) -> list[InvokerHealth]: ...

    def all(self) -> list[InvokerRecord]: ...


@dataclass
class HeartbeatRegistry:
    """A registry built from ``invoker.health`` heartbeats on Kafka."""

    offline_after_ms: int
    records: dict[int, InvokerRecord] = field(default_factory=dict)
    deaf: bool = False
    heard_ms: int = 0  # the last moment the health topic was known read to its end

    def observe(self, health: InvokerHealth, now_ms: int) -> bool:
        current = self.records.get(health.invoker)
        if current is not None and current.health is not None:
            if (
                health.incarnation != current.health.incarnation
                and health.at_ms < current.health.at_ms
            ):
                # A run older than the one last heard (a replaced process still
                # sending). One run's heartbeats are taken in log order: a stamp
                # out of order within a run never hides the ones after it.
                return False
        self.records[health.invoker] = InvokerRecord(health.invoker, health, now_ms)
        return (
            current is not None
            and current.health is not None
            and current.health.incarnation != health.incarnation
        )

    def expect(self, invoker: int, now_ms: int) -> None:
        if invoker not in self.records:
            self.records[invoker] = InvokerRecord(invoker, None, now_ms)

    def hearing(self, now_ms: int, caught_up: bool) -> None:
        if not caught_up:
            self.deaf = True
            return
        if self.deaf or (self.heard_ms and now_ms - self.heard_ms > DEAF_GAP_MS):
            # Silence while we could not listen is not the invokers' fault:
            # everyone gets a full window again.
            for record in self.records.values():
                record.seen_ms = max(record.seen_ms, now_ms)
            self.deaf = False
        self.heard_ms = max(self.heard_ms, now_ms)

    def state(self, invoker: int, now_ms: int) -> State:
        record = self.records.get(invoker)
        if record is None:
            return "offline"
        if record.health is not None and record.health.state == "offline":
            return "offline"  # it said goodbye
        return state_of(record, self.heard_ms, self.offline_after_ms)

    def get(self, invoker: int) -> InvokerRecord | None:
        return self.records.get(invoker)

    def usable(self, now_ms: int) -> list[InvokerHealth]:
        return [
            r.health
            for r in self.all()
            if r.health is not None and self.state(r.invoker, now_ms) in USABLE
        ]

    def all(self) -> list[InvokerRecord]:
        return sorted(self.records.values(), key=lambda r: r.invoker)


@dataclass
class ConsulRegistry(HeartbeatRegistry):
    """Heartbeats for the details (memory, run, dispatch offset), Consul for who is alive.

    An invoker whose Consul TTL check is not passing is offline whatever its
    heartbeats say. ``passing`` is None while Consul has not answered (or stopped
    answering): then the heartbeats alone decide, as without Consul.
    """

    passing: frozenset[int] | None = None

    def consul(self, passing: Iterable[int] | None) -> None:
        """The invokers whose check Consul reports as passing, or None if it did not answer."""
        self.passing = None if passing is None else frozenset(passing)

    def state(self, invoker: int, now_ms: int) -> State:
        base = super().state(invoker, now_ms)
        if self.passing is not None and invoker not in self.passing and base != "up":
            return "offline"
        return base
