"""How an invoker makes sure user code runs at most once: its lease, admission and claims.

The controller takes an activation back from an invoker it declares offline
(silent for ``offline_after``) or that restarted, and retries it elsewhere. So
an invoker must not run user code for an activation that may have been taken
back. Three rules, together with the claim rule of ``streams.claims``:

1. *A new run ignores old dispatches.* When an invoker starts, the first offset
   of its dispatch topic it will act on (``dispatch_from``) is fixed after its
   first acknowledged heartbeat and sent in every heartbeat. Dispatches below
   it belonged to an earlier run: the controller takes them back.
2. *The fast path is a lease.* The invoker runs user code right after its
   ``started`` is acknowledged only if its heartbeats have been acknowledged
   without a gap of ``limit = offline_after - margin`` since before the
   dispatch was written (its offset is at or above the current epoch's floor)
   and the last acknowledged heartbeat is younger than ``limit``. The controller
   declares an invoker offline only after a silence of ``offline_after`` in the
   health topic (``streams.registry``), which the invoker would have seen as a
   gap; it retries an activation only once its dispatch was acknowledged by
   Kafka (so no dispatch of an older attempt can land after the retry); and it
   dispatches a retry only after reading it back from the log with no start
   before it. So under the lease no retry of this activation can be in the log
   before our ``started``, and the controller, reading its retry back, sees the
   claim and keeps the activation with us.
3. *Otherwise, confirm the claim.* After a gap, for a dispatch re-sent by a
   controller that rebuilt its state, or near the lease's end: read the
   activation back from the ledger after writing ``started`` and run it only if
   that ``started`` is the claim.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

from streams.claims import Claim, fold
from streams.events import ActivationStarted, Dispatch, LedgerEvent

SEEN_MAX = 100_000

Admitted = Literal["run", "old_run", "duplicate", "overdue"]


@dataclass
class Lease:
    """The invoker's view of its own liveness, from acknowledged heartbeats (monotonic ms)."""

    limit_ms: int
    epoch: int = 0
    last_acked_sent_ms: float | None = None
    floor: int | None = None  # dispatch offsets at or above it may take the fast path
    boot_floor: int | None = None  # this run's ``dispatch_from``

    def acked(self, sent_ms: float, acked_ms: float) -> bool:
        """A heartbeat sent at ``sent_ms`` was acknowledged at ``acked_ms``.

        Returns True when this starts a new epoch (the first heartbeat, or one
        after a gap the controller may have taken for death): the caller then
        reads the end of the dispatch topic and calls ``set_floor``.
        """
        gap = self.last_acked_sent_ms is None or acked_ms - self.last_acked_sent_ms > self.limit_ms
        self.last_acked_sent_ms = sent_ms
        if gap:
            self.epoch += 1
            self.floor = None
        return gap

    def set_floor(self, epoch: int, offset: int) -> None:
        """The dispatch topic's end, read after the heartbeat that began ``epoch``."""
        if epoch != self.epoch:
            return  # another gap came in between; its own read will follow
        self.floor = offset
        if self.boot_floor is None:
            self.boot_floor = offset

    def holds(self, now_ms: float) -> bool:
        last = self.last_acked_sent_ms
        return last is not None and now_ms - last < self.limit_ms

    def fast(self, offset: int, now_ms: float) -> bool:
        """True when a ``started`` acknowledged now for this dispatch needs no read-back."""
        return self.floor is not None and offset >= self.floor and self.holds(now_ms)


@dataclass
class Admission:
    """Which dispatches an invoker takes at all (before any container is used)."""

    seen: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def verdict(self, dispatch: Dispatch, offset: int, boot_floor: int, now_ms: int) -> Admitted:
        aid = dispatch.accepted.activation_id
        if offset < boot_floor:
            return "old_run"  # the controller takes these back
        if aid in self.seen:
            return "duplicate"
        if now_ms > dispatch.accepted.deadline_ms:
            return "overdue"  # the controller declares it lost
        self.seen[aid] = None
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
