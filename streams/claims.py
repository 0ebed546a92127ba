"""Who holds an activation: the claim rule every reader of the ledger applies alike.

An activation may be scheduled more than once (its invoker was declared lost and
the controller tried again elsewhere), and an invoker that was only *thought*
lost may still try to start it. User code must run at most once, so the ledger
decides, in log order (one activation's events share a partition, so every
reader sees them in the same order):

- ``scheduled`` (attempt *a*) moves the activation to attempt *a*, unless a
  claim was already made: a schedule after a claim is void. An ``accepted``
  the API placed on an invoker is attempt 0's schedule.
- ``started`` (attempt *a*) is the claim when no claim came before it and *a*
  is the attempt most recently scheduled; any other ``started`` is void and its
  writer must not run user code.

The controller applies the rule to the events it consumes; an invoker that
cannot be sure its ``started`` was first reads its activation back from the
ledger and applies the same rule before it runs anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from streams.events import (
    ActivationAccepted,
    ActivationCompleted,
    ActivationScheduled,
    ActivationStarted,
    LedgerEvent,
    attempt_of,
)


@dataclass(frozen=True)
class Holder:
    """The ``started`` event that won the claim."""

    attempt: int
    invoker: int
    source: str
    seq: int


@dataclass(frozen=True)
class Claim:
    """One activation's claim state after some prefix of its events."""

    attempt: int | None = None  # the attempt most recently (validly) scheduled
    invoker: int | None = None  # where that attempt was addressed
    holder: Holder | None = None
    completed: bool = False

    def holds(self, started: ActivationStarted) -> bool:
        """True when ``started`` is the winning claim."""
        h = self.holder
        return h is not None and (h.source, h.seq) == (started.source, started.seq)


def step(claim: Claim, event: LedgerEvent) -> Claim:
    """The claim state after one more event, in log order."""
    if isinstance(event, ActivationAccepted):
        if event.invoker is None or claim.attempt is not None or claim.holder is not None:
            return claim
        return replace(claim, attempt=0, invoker=event.invoker)
    if isinstance(event, ActivationScheduled):
        if claim.holder is not None:
            return claim  # too late: someone already started it
        if claim.attempt is not None and event.attempt <= claim.attempt:
            return claim  # a duplicate or an older schedule
        return replace(claim, attempt=event.attempt, invoker=event.invoker)
    if isinstance(event, ActivationStarted):
        if claim.holder is not None:
            return claim
        attempt = attempt_of(event.seq)
        # With no schedule seen (a read that began mid-history) the first start wins.
        if claim.attempt is not None and attempt != claim.attempt:
            return claim
        holder = Holder(attempt, event.invoker, event.source, event.seq)
        return replace(claim, holder=holder, attempt=attempt, invoker=event.invoker)
    if isinstance(event, ActivationCompleted):
        return replace(claim, completed=True)
    return claim


def fold(events: Iterable[LedgerEvent], claim: Claim | None = None) -> Claim:
    """The claim state after ``events`` (in log order)."""
    current = claim or Claim()
    for event in events:
        current = step(current, event)
    return current
