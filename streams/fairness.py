"""Which waiting activation goes next, so one namespace's backlog holds no other's behind it.

Both queues of the platform use it: the controller's (activations no invoker had
room for) and each invoker's pool queue (activations waiting for a container).
Pure: the caller keeps ``served``, the turn at which each namespace was last given
room. OpenWhisk has no such rule (its queues are first come, first served); with it
a namespace that floods the platform waits behind itself, and another namespace's
activation takes the next room that frees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

NEVER = -1


def next_in_line(namespaces: Sequence[str], served: Mapping[str, int]) -> int:
    """The index in ``namespaces`` (the queue's, in arrival order) to give room to next:
    the first activation of the namespace served least recently (one never served
    first). With one namespace waiting, the head of the queue. ``namespaces`` must not
    be empty."""
    best, best_turn = 0, served.get(namespaces[0], NEVER)
    for i, namespace in enumerate(namespaces):
        turn = served.get(namespace, NEVER)
        if turn < best_turn:
            best, best_turn = i, turn
    return best


@dataclass
class Turns:
    """When each namespace was last given room, for ``next_in_line`` (a queue's state)."""

    served: dict[str, int] = field(default_factory=dict)
    turn: int = 0

    def given(self, namespace: str) -> None:
        """``namespace`` was just given room."""
        self.turn += 1
        self.served[namespace] = self.turn

    def next_in_line(self, namespaces: Sequence[str]) -> int:
        return next_in_line(namespaces, self.served)
