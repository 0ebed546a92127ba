"""The controller's decisions: schedule, queue, refuse, take back, declare lost. No I/O here.

One ``ControllerState`` per controller instance. The Faust agent feeds it the
ledger events of the partitions it owns (in log order), the heartbeats of every
invoker and a periodic tick; each input returns the outputs to perform, in
order: ``Append`` an event to the ledger, ``Send`` a dispatch to an invoker.

The life of one activation here (``Tracked.phase``):

- ``queued``: accepted, waiting for room (or taken back from a lost invoker).
- ``dispatched``: attempt *a* is in the ledger and in the invoker's dispatch
  topic. First attempts are dispatched at once: nobody else can hold them.
- ``readback``: a retry (attempt *a* > 0) is in the ledger but not dispatched
  yet. The old invoker may have started attempt *a-1* just before it was taken
  back; only when this controller reads its own ``scheduled`` back from the log
  does it know (see ``streams.claims``) whether a ``started`` came first. If
  one did, the retry is void and the activation stays with its holder.

Taking back (``tick``): an activation whose invoker went offline, or whose
invoker restarted (its new run ignores dispatches below ``dispatch_from``), is
declared lost with a whisk error if it had started, and queued for another
attempt if it had not. An activation past its deadline is declared lost.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from streams import completion, constants
from streams.claims import Claim, Holder, step
from streams.controller.scheduler import capacities, place, share_of
from streams.events import (
    SCHEDULED,
    ActivationAccepted,
    ActivationCompleted,
    ActivationScheduled,
    ActivationStarted,
    Dispatch,
    InvokerHealth,
    LedgerEvent,
    Unreadable,
    seq_for,
)
from streams.ids import accepted_at_ms
from streams.messages import (
    LOST_ON_INVOKER,
    NO_CAPACITY,
    NO_INVOKERS,
    NOT_RUN_AGAIN,
    ORCHESTRATION_LOST,
)
from streams.registry import InvokerRegistry

Phase = Literal["queued", "readback", "dispatched"]


@dataclass
class Tracked:
    """One activation this controller instance is responsible for."""

    accepted: ActivationAccepted
    partition: int
    phase: Phase = "queued"
    attempt: int = 0  # the attempt in progress, or the next one while queued
    invoker: int | None = None  # where the attempt is addressed (or who holds it)
    offset: int | None = None  # of its dispatch, once known
    scheduled: ActivationScheduled | None = None  # of the attempt in progress
    claim: Claim = field(default_factory=Claim)
    reserved_on: int | None = None
    queued_ms: int = 0

    @property
    def started(self) -> bool:
        holder = self.claim.holder
        return holder is not None and holder.attempt == self.attempt


@dataclass(frozen=True)
class Append:
    """Append one event to the ledger."""

    event: LedgerEvent


@dataclass(frozen=True)
class Send:
    """Write a dispatch to its invoker's topic (after its ``scheduled`` is in the ledger)."""

    dispatch: Dispatch


Output = Append | Send


def activation_of(out: Output) -> str:
    return (
        out.event.activation_id if isinstance(out, Append) else out.dispatch.scheduled.activation_id
    )


def by_activation(outputs: list[Output]) -> dict[str, list[Output]]:
    """``outputs`` grouped by the activation they write about, each group in its order."""
    groups: dict[str, list[Output]] = {}
    for out in outputs:
        groups.setdefault(activation_of(out), []).append(out)
    return groups


@dataclass
class ControllerState:
    """What one controller instance knows: invokers, its partitions, their activations."""

    registry: InvokerRegistry
    source: str
    queue_max: int = 1000
    # With no usable invoker, a queued activation waits this long for one.
    no_invoker_wait_ms: int = 3_000
    # Completed ids are remembered this long, to ignore an ``accepted`` read again.
    remember_ms: int = 600_000
    tracked: dict[str, Tracked] = field(default_factory=dict)
    queue: deque[str] = field(default_factory=deque)
    reserved_mb: dict[int, int] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    owned: set[int] = field(default_factory=set)
    partitions: int = 1
    # Sequences and trigger fires: the API runs them and writes their completion;
    # the controller only completes them with an error if their deadline passes.
    orchestrated: dict[str, ActivationAccepted] = field(default_factory=dict)

    # -- ownership ------------------------------------------------------------
    @property
    def share(self) -> float:
        return share_of(len(self.owned), self.partitions)

    def assign(self, owned: set[int], partitions: int) -> None:
        """Faust gave this instance ``owned`` of the ledger's ``partitions``."""
        self.partitions = partitions
        for partition in self.owned - owned:
            self._forget_partition(partition)
        self.owned = set(owned)

    def _forget_partition(self, partition: int) -> None:
        # Its new owner rebuilds these from the ledger; we only drop them.
        for activation_id, t in list(self.tracked.items()):
            if t.partition == partition:
                self._untrack(activation_id)

    def restore(
        self,
        restored: list[Tracked],
        done: set[str],
        now_ms: int,
        unreadable: Sequence[Unreadable] = (),
    ) -> list[Output]:
        """Adopt what the ledger says about a newly owned partition.

        ``restored`` holds its unfinished activations (their dispatch offset
        set when the dispatch was found in the invoker's topic); ``done`` the
        ids completed that the stream may still deliver again; ``unreadable``
        the records that did not decode, of activations not completed.
        """
        out: list[Output] = []
        self.done |= done
        for record in unreadable:
            out.extend(self.on_unreadable(record, now_ms))
        for t in restored:
            aid = t.accepted.activation_id
            if aid in self.tracked or aid in self.done:
                continue
            self._track(t)
            if t.invoker is not None:
                self.registry.expect(t.invoker, now_ms)
            if t.phase == "queued":
                t.queued_ms = now_ms
                self.queue.append(aid)
                continue
            assert t.invoker is not None
            self._reserve(t, t.invoker)
            if t.phase == "readback" or (not t.started and t.offset is None):
                # Scheduled in the ledger, but no dispatch reached the invoker:
                # send it now, marked so the invoker confirms its claim first.
                t.phase = "dispatched"
                out.append(Send(self._dispatch(t, redelivered=True)))
        out.extend(self._drain(now_ms))
        return out

    # -- ledger events (in log order, per partition) --------------------------
    def on_accepted(
        self, accepted: ActivationAccepted, partition: int, now_ms: int
    ) -> list[Output]:
        aid = accepted.activation_id
        if aid in self.tracked or aid in self.done:
            return []  # read again after a restart or rebalance
        if accepted.kind in constants.ORCHESTRATED_KINDS:
            self.orchestrated[aid] = accepted
            return []
        t = Tracked(accepted, partition, queued_ms=now_ms)
        placed = self._place(t, now_ms)
        if placed:
            self._track(t)
            return placed
        if self._queued() >= self.queue_max:
            return [self._fail(accepted, 0, NO_CAPACITY, completion.NO_CAPACITY, now_ms)]
        self._track(t)
        self.queue.append(aid)
        return []

    def on_scheduled(self, scheduled: ActivationScheduled, now_ms: int) -> list[Output]:
        t = self.tracked.get(scheduled.activation_id)
        if t is None:
            return []
        t.claim = step(t.claim, scheduled)
        if t.phase != "readback" or scheduled.attempt != t.attempt:
            return []
        holder = t.claim.holder
        if holder is not None:
            # The old attempt started before our retry reached the log: it holds.
            self._adopt(t, holder)
            return []
        t.phase = "dispatched"
        return [Send(self._dispatch(t))]

    def on_started(self, started: ActivationStarted) -> None:
        t = self.tracked.get(started.activation_id)
        if t is None:
            return
        before = t.claim.holder
        t.claim = step(t.claim, started)
        holder = t.claim.holder
        if holder is not None and before is None and holder.attempt != t.attempt:
            if t.phase == "queued":
                self.queue.remove(started.activation_id)
                self._adopt(t, holder)
            # In ``readback`` the decision waits for our own ``scheduled``.

    def on_completed(self, completed: ActivationCompleted, now_ms: int) -> list[Output]:
        aid = completed.activation_id
        if aid in self.tracked:
            self._untrack(aid)
        self.orchestrated.pop(aid, None)
        self.done.add(aid)
        return self._drain(now_ms)

    def on_unreadable(self, record: Unreadable, now_ms: int) -> list[Output]:
        """A record of an owned partition that does not decode.

        When its key and headers tell the activation and its namespace, that
        activation ends here with a whisk error (unless it has ended already):
        otherwise an unreadable ``accepted`` would never be scheduled, and an
        unreadable ``completed`` never be seen. Whatever else an unreadable
        ``scheduled`` or ``started`` leaves of it (a run in progress) can no
        longer be followed, so it ends too; user code never runs again.
        """
        aid = record.activation_id
        if aid is None or record.namespace is None or aid in self.done:
            return []
        if aid in self.tracked:
            self._untrack(aid)
        self.orchestrated.pop(aid, None)
        self.done.add(aid)
        return [Append(completion.of_unreadable(record, now_ms, self.source)), *self._drain(now_ms)]

    def on_dispatched(self, activation_id: str, attempt: int, offset: int) -> None:
        """Where a dispatch landed in its invoker's topic."""
        t = self.tracked.get(activation_id)
        if t is not None and t.attempt == attempt and t.phase == "dispatched":
            t.offset = offset

    # -- invokers and time ----------------------------------------------------
    def on_health(self, health: InvokerHealth, now_ms: int) -> list[Output]:
        self.registry.observe(health, now_ms)
        return self._drain(now_ms)

    def tick(self, now_ms: int) -> list[Output]:
        """Take back work from lost or restarted invokers; expire what waited too long."""
        out: list[Output] = []
        for t in list(self.tracked.values()):
            if t.phase == "queued":
                continue
            overdue = now_ms > t.accepted.deadline_ms
            if t.phase == "readback":
                if overdue:
                    out.append(self._end(t, now_ms))
                continue
            assert t.invoker is not None
            restarted = self._stale(t)
            gone = restarted or self.registry.state(t.invoker, now_ms) == "offline"
            if t.started and (gone or overdue):
                message = NOT_RUN_AGAIN if restarted else LOST_ON_INVOKER
                out.append(self._end(t, now_ms, message))
            elif not t.started and gone and t.offset is not None:
                # Only once its dispatch is known written: a dispatch still being
                # sent could otherwise land after the retry (see invoker/lease.py).
                self._requeue(t, now_ms)
            elif not t.started and overdue:
                out.append(self._end(t, now_ms))
        for aid, accepted in list(self.orchestrated.items()):
            if now_ms > accepted.deadline_ms:
                del self.orchestrated[aid]
                self.done.add(aid)
                out.append(self._fail(accepted, 0, ORCHESTRATION_LOST, completion.LOST, now_ms))
        none_usable = not self.registry.usable(now_ms)
        for aid in list(self.queue):
            t = self.tracked[aid]
            if none_usable and now_ms - t.queued_ms > self.no_invoker_wait_ms:
                out.append(self._end(t, now_ms, NO_INVOKERS, completion.NO_INVOKER))
            elif now_ms > t.accepted.deadline_ms:
                out.append(self._end(t, now_ms, NO_CAPACITY, completion.NO_CAPACITY))
        self._forget_old(now_ms)
        out.extend(self._drain(now_ms))
        return out

    def _stale(self, t: Tracked) -> bool:
        """True when the invoker restarted since this attempt was handed to it."""
        assert t.invoker is not None
        record = self.registry.get(t.invoker)
        health = record.health if record is not None else None
        if health is None or health.dispatch_from < 0:
            return False
        holder = t.claim.holder
        if t.started and holder is not None:
            return holder.source != health.incarnation
        return t.offset is not None and t.offset < health.dispatch_from

    # -- helpers --------------------------------------------------------------
    def _queued(self) -> int:
        return len(self.queue)

    def _track(self, t: Tracked) -> None:
        self.tracked[t.accepted.activation_id] = t

    def _untrack(self, activation_id: str) -> Tracked:
        t = self.tracked.pop(activation_id)
        self._release(t)
        if t.phase == "queued":
            self.queue.remove(activation_id)
        return t

    def _reserve(self, t: Tracked, invoker: int) -> None:
        self._release(t)
        self.reserved_mb[invoker] = self.reserved_mb.get(invoker, 0) + t.accepted.limits.memory_mb
        t.reserved_on = invoker

    def _release(self, t: Tracked) -> None:
        if t.reserved_on is None:
            return
        left = self.reserved_mb.get(t.reserved_on, 0) - t.accepted.limits.memory_mb
        self.reserved_mb[t.reserved_on] = max(0, left)
        t.reserved_on = None

    def _adopt(self, t: Tracked, holder: Holder) -> None:
        """The activation belongs to ``holder``'s attempt after all."""
        t.phase, t.attempt, t.invoker, t.offset = "dispatched", holder.attempt, holder.invoker, None
        self._reserve(t, holder.invoker)

    def _requeue(self, t: Tracked, now_ms: int) -> None:
        self._release(t)
        t.phase, t.attempt, t.invoker, t.offset = "queued", t.attempt + 1, None, None
        t.queued_ms = now_ms
        self.queue.appendleft(t.accepted.activation_id)

    def _place(self, t: Tracked, now_ms: int) -> list[Output]:
        usable = [(h.invoker, h.user_memory_mb) for h in self.registry.usable(now_ms)]
        accepted = t.accepted
        placement = place(
            capacities(usable, self.reserved_mb, self.share),
            accepted.namespace,
            accepted.action,
            accepted.limits.memory_mb,
        )
        if placement is None:
            return []
        t.invoker = placement.invoker
        self._reserve(t, placement.invoker)
        scheduled = ActivationScheduled(
            activation_id=accepted.activation_id,
            seq=seq_for(SCHEDULED, t.attempt),
            at_ms=now_ms,
            namespace=accepted.namespace,
            source=self.source,
            invoker=placement.invoker,
            decision="reschedule" if t.attempt > 0 else placement.decision,
            wait_ms=max(0, now_ms - accepted.at_ms),
            attempt=t.attempt,
        )
        t.scheduled = scheduled
        if t.attempt == 0:
            t.phase = "dispatched"
            return [Append(scheduled), Send(Dispatch(accepted=accepted, scheduled=scheduled))]
        t.phase = "readback"
        return [Append(scheduled)]

    def _dispatch(self, t: Tracked, redelivered: bool = False) -> Dispatch:
        assert t.scheduled is not None and t.scheduled.attempt == t.attempt
        return Dispatch(accepted=t.accepted, scheduled=t.scheduled, redelivered=redelivered)

    def _drain(self, now_ms: int) -> list[Output]:
        out: list[Output] = []
        while self.queue:
            t = self.tracked[self.queue[0]]
            placed = self._place(t, now_ms)
            if not placed:
                break
            self.queue.popleft()
            out.extend(placed)
        return out

    def _end(
        self,
        t: Tracked,
        now_ms: int,
        message: str = LOST_ON_INVOKER,
        reason: completion.Reason = completion.LOST,
    ) -> Append:
        """Stop tracking ``t`` and end it with a whisk error (lost, or refused)."""
        aid = t.accepted.activation_id
        self._untrack(aid)
        self.done.add(aid)
        return self._fail(t.accepted, t.attempt, message, reason, now_ms)

    def _fail(
        self,
        accepted: ActivationAccepted,
        attempt: int,
        message: str,
        reason: completion.Reason,
        now_ms: int,
    ) -> Append:
        return Append(
            completion.whisk_error(accepted, message, reason, now_ms, attempt, self.source)
        )

    def _forget_old(self, now_ms: int) -> None:
        if len(self.done) < 10_000:
            return
        self.done = {
            aid for aid in self.done if now_ms - (accepted_at_ms(aid) or 0) < self.remember_ms
        }
