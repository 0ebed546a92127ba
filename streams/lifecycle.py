"""Which state follows which, and the sequence numbers events carry."""

from __future__ import annotations

from streams.events import ACCEPTED, COMPLETED, SCHEDULED, STARTED, STATE_RANK

# An activation moves forward only; a reschedule starts a new attempt.
NEXT_STATES: dict[str | None, frozenset[str]] = {
    None: frozenset({ACCEPTED}),
    ACCEPTED: frozenset({SCHEDULED, COMPLETED}),
    SCHEDULED: frozenset({STARTED, SCHEDULED, COMPLETED}),
    STARTED: frozenset({COMPLETED}),
    COMPLETED: frozenset(),
}

SEQ_PER_ATTEMPT = 10


def seq_for(event_type: str, attempt: int = 0) -> int:
    """The ``seq`` of an event: ``10 * attempt + rank`` (accepted 1 ... completed 4).

    Every writer computes it alike, so the same fact written twice carries the
    same seq and de-duplicates, and a reschedule (attempt 1) sorts after
    everything of attempt 0.
    """
    if event_type == ACCEPTED:
        return 1
    return SEQ_PER_ATTEMPT * attempt + STATE_RANK[event_type]


def attempt_of(seq: int) -> int:
    """The attempt an event belongs to, from its seq."""
    return seq // SEQ_PER_ATTEMPT


def may_follow(current: str | None, nxt: str) -> bool:
    """True when ``nxt`` is a legal successor of ``current``."""
    return nxt in NEXT_STATES[current]
