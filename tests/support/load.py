"""A bounded, steady load of blocking invocations, and what a failover test asks of it.

A few callers invoke counting actions (``tests/support/cluster.py``) blocking,
back to back, until told to stop or a bound is reached; ``outcome`` then reads
the ledger and the actions' own run counts: lost, run twice, left without
``completed``, callers without an answer. ``verified`` runs ``lwsk admin
rebuild --verify``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from streams import constants
from streams.ids import now_ms
from tests.support.cluster import Cluster, ClusterClient, stories
from tests.support.ledger import lwsk, stack_env, writer_caught_up
from tests.support.waits import eventually

CALLERS = 3
SLEEP_S = 0.3
# The bound of one load; it stops earlier, once the test has seen what it waits for.
MAX_CALLS = 1_500
# Results to see before a failure, and after it (service is back).
SERVED = 15
# OpenWhisk's answers to a blocking invoke: a result (200), an application or
# developer error (502), a whisk error (500), accepted but not done in time
# (202), or the service unavailable (503).
ANSWERS = {200, 202, 500, 502, 503}


@dataclass
class Call:
    sent_ms: int
    answered_ms: int
    status: int  # 0: no answer (the connection failed)
    activation_id: str | None
    action: str


@dataclass
class Load:
    """``CALLERS`` callers invoking ``actions`` (caller i the i-th, round) blocking until
    told to stop (or ``MAX_CALLS``)."""

    client: ClusterClient
    actions: list[str]
    calls: list[Call] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    began_ms: int = 0
    ended_ms: int = 0
    sent: int = 0

    async def run(self) -> None:
        self.began_ms = now_ms()
        await asyncio.gather(*(self._caller(i) for i in range(CALLERS)))
        self.ended_ms = now_ms()

    async def _caller(self, i: int) -> None:
        action = self.actions[i % len(self.actions)]
        while not self.stopping.is_set() and self.sent < MAX_CALLS:
            self.sent += 1
            sent = now_ms()
            try:
                status, body = await self.client.invoke(action, {"sleep": SLEEP_S})
            except aiohttp.ClientError:
                status, body = 0, None
            aid = body.get("activationId") if isinstance(body, dict) else None
            self.calls.append(Call(sent, now_ms(), status, aid, action))

    def served_after(self, at_ms: int, action: str | None = None) -> int:
        """Results of invokes sent from ``at_ms`` on (of ``action``, when given)."""
        return sum(
            1
            for c in self.calls
            if c.status == 200 and c.sent_ms >= at_ms and action in (None, c.action)
        )

    def without_service_ms(self, kill_ms: int) -> int:
        """From the kill to the first result of an invoke sent after it."""
        after = [c.answered_ms for c in self.calls if c.status == 200 and c.sent_ms >= kill_ms]
        assert after, "no result after the kill"
        return min(after) - kill_ms

    def longest_gap_ms(self, kill_ms: int) -> int:
        """The longest time without any result, among the gaps that end after the kill."""
        done = sorted(c.answered_ms for c in self.calls if c.status == 200)
        gaps = [b - a for a, b in zip([kill_ms, *done], done, strict=False) if b > kill_ms]
        return max(gaps, default=0)


async def served(load: Load, after_ms: int, what: str, action: str | None = None) -> None:
    """Wait until ``SERVED`` invokes sent from ``after_ms`` on got a result."""
    await eventually(lambda: load.served_after(after_ms, action) >= SERVED, 240, what, 0.2)


async def outcome(cluster: Cluster, namespace: str, load: Load) -> dict[str, Any]:
    """Lost, twice, hanging and the callers' answers of one load; asserts none is wrong."""
    seen: dict[str, Any] = {}

    async def settled() -> bool:
        seen.clear()
        seen.update(stories(await cluster.ledger(), namespace))
        return all(s.completed for s in seen.values())

    # Deadline: the action's timeout, the controller's completion grace, and room.
    await eventually(settled, 180, "every accepted activation to complete", 0.5)
    runs = cluster.executions()
    everyone = stories(await cluster.ledger())
    answered_ids = {c.activation_id for c in load.calls if c.activation_id}
    # An id a caller was given that its namespace's ledger lacks, or a run of user
    # code the ledger (any namespace of the cluster) has no activation for.
    lost = sorted((answered_ids - set(seen)) | (set(runs) - set(everyone)))
    twice = sorted(aid for aid in seen if runs[aid] > 1)
    hanging = sorted(aid for aid, s in seen.items() if not s.completed)
    unanswered = load.sent - len(load.calls) + sum(1 for c in load.calls if c.status == 0)
    statuses = Counter(c.status for c in load.calls)
    # A result the action did not run exactly once for (it counts its own runs).
    wrong_results = [
        c
        for c in load.calls
        if c.status == 200 and not (c.activation_id and runs[c.activation_id] == 1)
    ]
    await writer_caught_up(cluster.settings)
    return {
        "calls": load.sent,
        "http_statuses": {str(k): v for k, v in sorted(statuses.items())},
        "accepted": len(seen),
        "lost": len(lost),
        "run_twice": len(twice),
        "without_completed": len(hanging),
        "callers_unanswered": unanswered,
        "duplicate_completed_events": sum(len(s.completed) - 1 for s in seen.values()),
        "not_openwhisk_answers": sum(n for s, n in statuses.items() if s not in ANSWERS),
        "results_not_run_once": len(wrong_results),
        # Why the activations that did not succeed ended so (their first completion's reason).
        "failed_by_reason": dict(
            Counter(
                str(s.reason())
                for s in seen.values()
                if s.completed and s.completed[0].response.status_code != 0
            )
        ),
        "_lost_ids": lost[:5],
        "_twice_ids": twice[:5],
        "_hanging_ids": hanging[:5],
    }


def check(figures: dict[str, Any]) -> None:
    wrong = {
        k: figures[k]
        for k in (
            "lost",
            "run_twice",
            "without_completed",
            "callers_unanswered",
            "not_openwhisk_answers",
            "results_not_run_once",
        )
        if figures[k]
    }
    assert not wrong, figures


async def verified(cluster: Cluster) -> None:
    """``lwsk admin rebuild --verify``: the ledger rebuilt into a scratch database equals
    the live projection, field by field."""
    scratch = f"{cluster.prefix}_rebuilt_{now_ms()}"
    env = stack_env(
        cluster.settings,
        LEDGERWHISK_KAFKA_REPLICATION_FACTOR=str(cluster.settings.kafka_replication_factor),
    )
    ran = await lwsk("admin", "rebuild", "--into", scratch, "--verify", env=env, timeout_s=600)
    live = cluster.settings.database(constants.DB_ACTIVATIONS)
    assert ran.status == 0 and f"{scratch} is identical to {live}" in ran.out, ran.out + ran.err


def rate(load: Load) -> float:
    ok = sum(1 for c in load.calls if c.status == 200)
    return round(ok / max(0.001, (load.ended_ms - load.began_ms) / 1000), 2)
