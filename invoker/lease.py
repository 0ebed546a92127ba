"""How an invoker makes sure user code runs at most once: its lease, admission and claims.

The controller takes an activation back from an invoker it declares offline
(silent for ``offline_after``) or that restarted, and retries it elsewhere. So
an invoker must not run user code for an activation that may have been taken
back. Three rules, together with the claim rule of ``streams.claims``:

An invoker reads the ledger itself: the records that place an activation on
it (an ``accepted`` the API placed, a ``scheduled`` the controller wrote) are
its dispatches, each at an offset of its activation's partition.

1. *A new run ignores old placements.* When an invoker starts, the offsets of
   the ledger it will act on from (``ledger_from``, one per partition) are
   fixed after its first acknowledged heartbeat, sent in every heartbeat, and
   where it starts reading. Placements below them belonged to an earlier run:
   the controller takes them back.
2. *The fast path is a lease.* The invoker runs user code right after its
   ``started`` is acknowledged only if the activation's first attempt was
   placed on it, its heartbeats have been acknowledged without a gap of
   ``limit = offline_after - margin`` since before the placement was written
   (its offset is at or above the current epoch's floor of that partition) and
   the last acknowledged heartbeat is younger than ``limit``. The controller
   declares an invoker offline only after a silence of ``offline_after`` in the
   health topic (``streams.registry``), which the invoker would have seen as a
   gap, and retries an activation only after reading its placement back (so
   the retry comes after it in the partition). So under the lease no retry of
   this activation can be in the log before our ``started``, and the
   controller, reading its retry back, sees the claim and keeps the activation
   with us.
3. *Otherwise, confirm the claim.* A retry (attempt > 0), a placement read
   after a gap or near the lease's end: read the activation back from the
   ledger before writing ``started`` (nobody finished or claimed it) and after
   (that ``started`` is the claim), and run it only then.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

from streams.claims import Claim, fold
from streams.events import (
    ActivationAccepted,
    ActivationScheduled,
    ActivationStarted,
    LedgerEvent,
)
from streams.positions import Cursor

SEEN_MAX = 100_000

Admitted = Literal["run", "old_run", "duplicate", "overdue"]


@dataclass(frozen=True)
class Assignment:
    """An activation placed on this invoker, read from the record that placed it."""

    accepted: ActivationAccepted
    attempt: int
    partition: int
    offset: int

    @property
    def activation_id(self) -> str:
        return self.accepted.activation_id


def assignment_of(
    event: LedgerEvent, invoker: int, partition: int, offset: int
) -> Assignment | None:
    """The assignment a ledger record makes to ``invoker``, or None when it makes none."""
    if isinstance(event, ActivationAccepted) and event.invoker == invoker:
        return Assignment(event, 0, partition, offset)
    if (
        isinstance(event, ActivationScheduled)
        and event.invoker == invoker
        and event.accepted is not None
    ):
        return Assignment(event.accepted, event.attempt, partition, offset)
    return None


@dataclass
class Lease:
    """The invoker's view of its own liveness, from acknowledged heartbeats (monotonic ms)."""

    limit_ms: int
    epoch: int = 0
    last_acked_sent_ms: float | None = None
    # Per partition, placements at or above it may take the fast path.
    floor: Cursor | None = None
    boot_floor: Cursor | None = None  # this run's ``ledger_from``

    def acked(self, sent_ms: float, acked_ms: float) -> bool:
        """A heartbeat sent at ``sent_ms`` was acknowledged at ``acked_ms``.

        Returns True when this starts a new epoch (the first heartbeat, or one
        after a gap the controller may have taken for death): the caller then
        reads the end of the ledger's partitions and calls ``set_floor``.
        """
        gap = self.last_acked_sent_ms is None or acked_ms - self.last_acked_sent_ms > self.limit_ms
        self.last_acked_sent_ms = sent_ms
        if gap:
            self.epoch += 1
            self.floor = None
        return gap

    def set_floor(self, epoch: int, ends: Cursor) -> None:
        """The ledger's ends, read after the heartbeat that began ``epoch``."""
        if epoch != self.epoch:
            return  # another gap came in between; its own read will follow
        self.floor = dict(ends)
        if self.boot_floor is None:
            self.boot_floor = dict(ends)

    def holds(self, now_ms: float) -> bool:
        last = self.last_acked_sent_ms
        return last is not None and now_ms - last < self.limit_ms

    def fast(self, assignment: Assignment, now_ms: float) -> bool:
        """True when a ``started`` acknowledged now for this assignment needs no read-back."""
        floor = self.floor
        return (
            assignment.attempt == 0
            and floor is not None
            and assignment.offset >= floor.get(assignment.partition, 0)
            and self.holds(now_ms)
        )


@dataclass
class Admission:
    """Which dispatches an invoker takes at all (before any container is used)."""

    seen: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def verdict(self, assignment: Assignment, boot_floor: Cursor, now_ms: int) -> Admitted:
        aid = assignment.activation_id
        if assignment.offset < boot_floor.get(assignment.partition, 0):
            return "old_run"  # the controller takes these back
        key = f"{aid}/{assignment.attempt}"
        if key in self.seen:
            return "duplicate"
        if now_ms > assignment.accepted.deadline_ms:
            return "overdue"  # the controller declares it lost
        self.seen[key] = None
        if len(self.seen) > SEEN_MAX:
            self.seen.popitem(last=False)
        return "run"


def may_start(claim: Claim, attempt: int) -> bool:
    """Before writing ``started``: nobody finished or claimed it, and no retry superseded us."""
    if claim.completed or claim.holder is not None:
        return False
    return claim.attempt is None or claim.attempt <= attempt


def confirmed(events: list[LedgerEvent], started: ActivationStarted) -> bool:
    """After writing ``started``: it is the claim in the ledger read back."""
    prefix: list[LedgerEvent] = []
    for event in events:
        prefix.append(event)
        if isinstance(event, ActivationStarted) and (event.source, event.seq) == (
            started.source,
            started.seq,
        ):
            return fold(prefix).holds(started)
    return False  # not found in the read: do not take the chance
