"""The controller's decisions: schedule, queue, release, declare lost. No I/O here."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from streams import constants
from streams.events import (
    COMPLETED,
    SCHEDULED,
    ActivationAccepted,
    ActivationCompleted,
    ActivationScheduled,
    ActivationStarted,
    InvokerHealth,
    Response,
)
from streams.lifecycle import seq_for
from streams.messages import LOST_ON_INVOKER, NO_CAPACITY, NO_INVOKERS, ORCHESTRATION_LOST
from streams.registry import HeartbeatRegistry, state_of
from streams.scheduler import InvokerCapacity, place


@dataclass
class InFlight:
    """An activation this controller scheduled and has not seen complete."""

    accepted: ActivationAccepted
    invoker: int
    attempt: int
    started: bool = False


@dataclass(frozen=True)
class Schedule:
    """Append ``scheduled`` to the ledger and hand the activation to its invoker."""

    accepted: ActivationAccepted
    scheduled: ActivationScheduled


@dataclass(frozen=True)
class Complete:
    """Append a ``completed`` event written by the controller (an error it declares)."""

    completed: ActivationCompleted


Output = Schedule | Complete


@dataclass
class ControllerState:
    """What one controller instance knows: invokers, reservations, queue, in-flight.

    Each ``on_*`` method applies one input and returns the events to append;
    the Faust agent performs them.
    """

    registry: HeartbeatRegistry
    source: str
    queue_max: int = 1000
    grace_ms: int = 10_000
    # With no usable invoker, an activation waits this long for one before it
    # fails as "no invokers" (a controller that just started has heard no
    # heartbeat yet; an invoker may be restarting).
    no_invoker_wait_ms: int = 3_000
    in_flight: dict[str, InFlight] = field(default_factory=dict)
    reserved_mb: dict[int, int] = field(default_factory=dict)
    queue: deque[ActivationAccepted] = field(default_factory=deque)
    # Attempt numbers of queued activations taken back from a lost invoker.
    requeued: dict[str, int] = field(default_factory=dict)
    # Sequences and trigger fires: the API runs them and writes their completion;
    # the controller only completes them with an error if their deadline passes.
    orchestrated: dict[str, ActivationAccepted] = field(default_factory=dict)

    # -- inputs ---------------------------------------------------------------
    def on_accepted(self, accepted: ActivationAccepted, now_ms: int) -> list[Output]:
        if accepted.kind in constants.ORCHESTRATED_KINDS:
            self.orchestrated[accepted.activation_id] = accepted
            return []
        if accepted.activation_id in self.in_flight or any(
            q.activation_id == accepted.activation_id for q in self.queue
        ):
            return []  # a redelivered event: already handled
        out = self._try_place(accepted, now_ms, attempt=0, decision=None)
        if out is not None:
            return [out]
        if len(self.queue) >= self.queue_max:
            return [self._fail(accepted, NO_CAPACITY, "no_capacity", now_ms, attempt=0)]
        self.queue.append(accepted)
        return []

    def on_started(self, started: ActivationStarted) -> None:
        flight = self.in_flight.get(started.activation_id)
        if flight is not None:
            flight.started = True

    def on_completed(self, completed: ActivationCompleted, now_ms: int) -> list[Output]:
        self.orchestrated.pop(completed.activation_id, None)
        flight = self.in_flight.pop(completed.activation_id, None)
        if flight is not None:
            self._release(flight)
        return self._drain(now_ms)

    def on_health(self, health: InvokerHealth, now_ms: int) -> list[Output]:
        self.registry.observe(health, now_ms)
        return self._drain(now_ms)

    def tick(self, now_ms: int) -> list[Output]:
        """Periodic duties: lost invokers, overdue activations, expired queue entries."""
        out: list[Output] = []
        offline_after = self.registry.offline_after_ms
        offline = {
            r.health.invoker
            for r in self.registry.all()
            if state_of(r, now_ms, offline_after) == "offline"
        }
        for activation_id, flight in list(self.in_flight.items()):
            overdue = now_ms > flight.accepted.deadline_ms
            if flight.invoker in offline or overdue:
                del self.in_flight[activation_id]
                self._release(flight)
                if flight.started or overdue:
                    # It may have run: never run it again, declare it lost.
                    out.append(
                        self._fail(flight.accepted, LOST_ON_INVOKER, "lost", now_ms, flight.attempt)
                    )
                else:
                    self.queue.appendleft(flight.accepted)
                    self.requeued[activation_id] = flight.attempt + 1
        for activation_id, accepted in list(self.orchestrated.items()):
            if now_ms > accepted.deadline_ms:
                del self.orchestrated[activation_id]
                out.append(self._fail(accepted, ORCHESTRATION_LOST, "lost", now_ms, 0))
        none_usable = not self.registry.usable(now_ms)
        for accepted in list(self.queue):
            if none_usable and now_ms - accepted.at_ms > self.no_invoker_wait_ms:
                # Waited for an invoker to (re)appear long enough: 503 for the caller.
                self.queue.remove(accepted)
                attempt = self.requeued.pop(accepted.activation_id, 0)
                out.append(self._fail(accepted, NO_INVOKERS, "no_invoker", now_ms, attempt))
            elif now_ms > accepted.deadline_ms:
                self.queue.remove(accepted)
                attempt = self.requeued.pop(accepted.activation_id, 0)
                out.append(self._fail(accepted, NO_CAPACITY, "no_capacity", now_ms, attempt))
        out.extend(self._drain(now_ms))
        return out

    # -- helpers --------------------------------------------------------------
    def capacities(self, now_ms: int) -> list[InvokerCapacity]:
        return [
            InvokerCapacity(
                r.health.invoker,
                r.health.user_memory_mb - self.reserved_mb.get(r.health.invoker, 0),
            )
            for r in self.registry.usable(now_ms)
        ]

    def _try_place(
        self, accepted: ActivationAccepted, now_ms: int, attempt: int, decision: str | None
    ) -> Schedule | None:
        placement = place(
            self.capacities(now_ms),
            accepted.namespace,
            accepted.action,
            accepted.limits.memory_mb,
        )
        if placement is None:
            return None
        self.reserved_mb[placement.invoker] = (
            self.reserved_mb.get(placement.invoker, 0) + accepted.limits.memory_mb
        )
        self.in_flight[accepted.activation_id] = InFlight(accepted, placement.invoker, attempt)
        scheduled = ActivationScheduled(
            activation_id=accepted.activation_id,
            seq=seq_for(SCHEDULED, attempt),
            at_ms=now_ms,
            namespace=accepted.namespace,
            source=self.source,
            invoker=placement.invoker,
            decision="reschedule" if attempt > 0 else placement.decision,
            wait_ms=max(0, now_ms - accepted.at_ms),
            attempt=attempt,
        )
        return Schedule(accepted, scheduled)

    def _drain(self, now_ms: int) -> list[Output]:
        out: list[Output] = []
        while self.queue:
            accepted = self.queue[0]
            attempt = self.requeued.get(accepted.activation_id, 0)
            placed = self._try_place(accepted, now_ms, attempt, None)
            if placed is None:
                break
            self.queue.popleft()
            self.requeued.pop(accepted.activation_id, None)
            out.append(placed)
        return out

    def _release(self, flight: InFlight) -> None:
        left = self.reserved_mb.get(flight.invoker, 0) - flight.accepted.limits.memory_mb
        self.reserved_mb[flight.invoker] = max(0, left)

    def _fail(
        self,
        accepted: ActivationAccepted,
        message: str,
        reason: str,
        now_ms: int,
        attempt: int,
    ) -> Complete:
        return Complete(whisk_error(accepted, message, reason, now_ms, attempt, self.source))


def whisk_error(
    accepted: ActivationAccepted,
    message: str,
    reason: str,
    now_ms: int,
    attempt: int,
    source: str,
) -> ActivationCompleted:
    """A ``completed`` event for an activation the platform could not run."""
    result = {"error": message}
    return ActivationCompleted(
        activation_id=accepted.activation_id,
        seq=seq_for(COMPLETED, attempt),
        at_ms=now_ms,
        namespace=accepted.namespace,
        source=source,
        response=Response(
            status_code=constants.STATUS_WHISK_ERROR,
            result=result,
            size=len(message) + 11,
        ),
        logs=[],
        start_ms=now_ms,
        end_ms=now_ms,
        duration_ms=0,
        annotations=[
            *base_annotations(accepted, wait_ms=now_ms - accepted.at_ms),
            {"key": "reason", "value": reason},
        ],
    )


def base_annotations(accepted: ActivationAccepted, wait_ms: int) -> list[dict[str, object]]:
    """The annotations every activation record carries (OpenWhisk's set)."""
    limits = accepted.limits
    # What the API adds for this activation (causedBy, binding) comes first, as in OpenWhisk.
    return [
        *accepted.annotations,
        {"key": "path", "value": accepted.action},
        {"key": "waitTime", "value": wait_ms},
        {"key": "kind", "value": accepted.kind},
        {"key": "timeout", "value": False},
        {
            "key": "limits",
            "value": {
                "concurrency": limits.concurrency,
                "logs": limits.logs_mb,
                "memory": limits.memory_mb,
                "timeout": limits.timeout_ms,
            },
        },
    ]
