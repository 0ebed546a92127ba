"""The controller's decisions: place, queue, refuse, take back, declare lost. No I/O here.

One ``ControllerState`` per controller instance. The Faust agent feeds it the
ledger events of the partitions it owns (in log order, with their offsets),
the heartbeats of every invoker and a periodic tick; each input returns the
events to ``Append`` to the ledger, in order.

Most activations never need the controller to act: the API places a first
attempt itself when its share of an invoker has room (the ``accepted`` event
names the invoker, and is that attempt's dispatch: invokers read the ledger).
The controller tracks every activation of its partitions all the same, so
that each one ends:

- ``queued``: accepted with no invoker named (the API had no room, or saw no
  usable invoker), or taken back from a lost invoker; waiting for room. Placing
  it appends a ``scheduled`` event carrying the acceptance: that is the dispatch.
- ``dispatched``: attempt *a* is placed on an invoker. ``offset`` is where the
  record placing it sits in the activation's partition, once this controller
  has read it (the accepted event at once; its own ``scheduled`` when read back).
  The old invoker of a retried activation may have started attempt *a-1* just
  before it was taken back: the claim rule (``streams.claims``) decides, and
  reading its retry back this controller sees whether a ``started`` came first;
  if one did, the retry is void and the activation stays with its holder.

Taking back (``tick``): an activation whose invoker went offline, or whose
invoker restarted (its new run acts only on records from ``ledger_from`` on),
is declared lost with a whisk error if it had started, and queued for another
attempt if it had not. An activation past its deadline is declared lost.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from streams import completion, constants
from streams.claims import Claim, Holder, step
from streams.events import (
    SCHEDULED,
    ActivationAccepted,
    ActivationScheduled,
    ActivationStarted,
    InvokerHealth,
    LedgerEvent,
    Unreadable,
    seq_for,
)
from streams.fairness import Turns
from streams.ids import accepted_at_ms
from streams.messages import (
    LOST_ON_INVOKER,
    NO_CAPACITY,
    NO_INVOKERS,
    NOT_RUN_AGAIN,
    ORCHESTRATION_LOST,
)
from streams.placement import capacities, place, share_of
from streams.registry import InvokerRegistry

Phase = Literal["queued", "dispatched"]


@dataclass
class Tracked:
    """One activation this controller instance is responsible for."""

    accepted: ActivationAccepted
    partition: int
    phase: Phase = "queued"
    attempt: int = 0  # the attempt in progress, or the next one while queued
    invoker: int | None = None  # where the attempt is placed (or who holds it)
    offset: int | None = None  # of the record placing the attempt, once read
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


def by_activation(outputs: list[Append]) -> dict[str, list[Append]]:
    """``outputs`` grouped by the activation they write about, each group in its order."""
    groups: dict[str, list[Append]] = {}
    for out in outputs:
        groups.setdefault(out.event.activation_id, []).append(out)
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
    # When each namespace was last placed, here or by the API (the queue's fairness).
    turns: Turns = field(default_factory=Turns)

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
    ) -> list[Append]:
        """Adopt what the ledger says about a newly owned partition.

        ``restored`` holds its unfinished activations (with the offset of the
        record placing each one's attempt); ``done`` the ids completed that
        the stream may still deliver again; ``unreadable`` the records that did
        not decode, of activations not completed.
        """
        out: list[Append] = []
        self.done |= done
        for t in restored:
            aid = t.accepted.activation_id
            if aid in self.tracked or aid in self.done:
                continue
            refused = completion.limits_refused(t.accepted.limits)
            if refused is not None:  # as on_accepted: never tracked, never counted
                self.done.add(aid)
                out.append(self._fail(t.accepted, t.attempt, refused, completion.INVALID, now_ms))
                continue
            self._track(t)
            if t.phase == "queued":
                t.queued_ms = now_ms
                self.queue.append(aid)
                continue
            assert t.invoker is not None
            self.registry.expect(t.invoker, now_ms)
            self._reserve(t, t.invoker)
        # After the tracking: an activation whose accepted was read ends as that says.
        for record in unreadable:
            out.extend(self.on_unreadable(record, now_ms))
        out.extend(self._drain(now_ms))
        return out

    # -- ledger events (in log order, per partition) --------------------------
    def on_accepted(
        self, accepted: ActivationAccepted, partition: int, offset: int, now_ms: int
    ) -> list[Append]:
        aid = accepted.activation_id
        if aid in self.tracked or aid in self.done:
            return []  # read again after a restart or rebalance
        if accepted.kind in constants.ORCHESTRATED_KINDS:
            self.orchestrated[aid] = accepted
            return []
        refused = completion.limits_refused(accepted.limits)
        if refused is not None:
            # Never tracked: its memory would be counted on an invoker (a negative one
            # freeing room that is not there, and its release then holding room forever).
            self.done.add(aid)
            return [self._fail(accepted, 0, refused, completion.INVALID, now_ms)]
        t = Tracked(accepted, partition, queued_ms=now_ms, claim=step(Claim(), accepted))
        if accepted.invoker is not None:
            # Placed by the API: this record is attempt 0's dispatch.
            t.phase, t.invoker, t.offset = "dispatched", accepted.invoker, offset
            self._track(t)
            self._reserve(t, accepted.invoker)
            self.turns.given(accepted.namespace)
            return []
        placed = self._place(t, now_ms)
        if placed:
            self._track(t)
            return placed
        if len(self.queue) >= self.queue_max:
            return [self._fail(accepted, 0, NO_CAPACITY, completion.NO_CAPACITY, now_ms)]
        self._track(t)
        self.queue.append(aid)
        return []

    def on_scheduled(self, scheduled: ActivationScheduled, offset: int) -> None:
        """One of this controller's placements read back from the log."""
        t = self.tracked.get(scheduled.activation_id)
        if t is None:
            return
        t.claim = step(t.claim, scheduled)
        if t.phase != "dispatched" or scheduled.attempt != t.attempt:
            return
        holder = t.claim.holder
        if holder is not None and holder.attempt != t.attempt:
            # The old attempt started before this retry reached the log: it holds.
            self._adopt(t, holder)
            return
        t.offset = offset

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
            # Dispatched: the decision waits for this retry's ``scheduled``.

    def on_completed(self, activation_id: str, now_ms: int) -> list[Append]:
        if activation_id in self.tracked:
            self._untrack(activation_id)
        self.orchestrated.pop(activation_id, None)
        self.done.add(activation_id)
        return self._drain(now_ms)

    def on_unreadable(self, record: Unreadable, now_ms: int) -> list[Append]:
        """A record of an owned partition that does not decode.

        When its key and headers tell the activation and its namespace, that
        activation ends here with a whisk error (unless it has ended already):
        otherwise an unreadable ``accepted`` would never be scheduled, and an
        unreadable ``completed`` never be seen. Whatever else an unreadable
        ``scheduled`` or ``started`` leaves of it (a run in progress) can no
        longer be followed, so it ends too; user code never runs again.
        """
        aid = record.activation_id
        if aid is None or aid in self.done:
            return []
        # When its ``accepted`` was read, the activation ends as that says (its own
        # namespace, its head): a header names whatever its writer put there, and
        # the completion would go to that namespace's records (another tenant's,
        # for a corrupt or forged record).
        tracked = self.tracked.get(aid)
        known = tracked.accepted if tracked is not None else self.orchestrated.get(aid)
        if known is None and record.namespace is None:
            return []
        if tracked is not None:
            self._untrack(aid)
        self.orchestrated.pop(aid, None)
        self.done.add(aid)
        if known is None:
            ended = completion.of_unreadable(record, now_ms, self.source)
        else:
            attempt = tracked.attempt if tracked is not None else 0
            message = completion.unreadable_message(record)
            ended = completion.whisk_error(
                known, message, completion.UNREADABLE, now_ms, attempt, self.source
            )
        return [Append(ended), *self._drain(now_ms)]

    # -- invokers and time ----------------------------------------------------
    def on_health(self, health: InvokerHealth, now_ms: int) -> list[Append]:
        self.registry.observe(health, now_ms)
        return self._drain(now_ms)

    def tick(self, now_ms: int) -> list[Append]:
        """Take back work from lost or restarted invokers; expire what waited too long."""
        out: list[Append] = []
        for t in list(self.tracked.values()):
            if t.phase == "queued":
                continue
            assert t.invoker is not None
            overdue = now_ms > t.accepted.deadline_ms
            restarted = self._stale(t)
            gone = restarted or self.registry.state(t.invoker, now_ms) == "offline"
            if t.started and (gone or overdue):
                message = NOT_RUN_AGAIN if restarted else LOST_ON_INVOKER
                out.append(self._end(t, now_ms, message))
            elif not t.started and gone and t.offset is not None:
                # Only once the placing record was read back: until then it is not
                # known to be in the log before the retry would be.
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
        """True when the invoker restarted since this attempt was placed on it."""
        assert t.invoker is not None
        record = self.registry.get(t.invoker)
        health = record.health if record is not None else None
        if health is None or t.partition not in health.ledger_from:
            return False
        holder = t.claim.holder
        if t.started and holder is not None:
            return holder.source != health.incarnation
        return t.offset is not None and t.offset < health.ledger_from[t.partition]

    # -- helpers --------------------------------------------------------------
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

    def _place(self, t: Tracked, now_ms: int) -> list[Append]:
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
        t.phase, t.invoker, t.offset = "dispatched", placement.invoker, None
        self._reserve(t, placement.invoker)
        self.turns.given(accepted.namespace)
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
            accepted=accepted,
        )
        return [Append(scheduled)]

    def _drain(self, now_ms: int) -> list[Append]:
        """Place what waits while there is room: next, the first activation of the
        namespace placed least recently (``streams/fairness.py``), so a namespace's
        backlog does not hold another's activations behind it."""
        out: list[Append] = []
        while self.queue:
            namespaces = [self.tracked[aid].accepted.namespace for aid in self.queue]
            index = self.turns.next_in_line(namespaces)
            t = self.tracked[self.queue[index]]
            placed = self._place(t, now_ms)
            if not placed:
                break
            del self.queue[index]
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
