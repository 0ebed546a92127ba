"""Synthetic but well-formed ledger histories, for the projection tests.

Each activation gets what the platform would append, built by the platform's
own constructors: accepted, scheduled, started and completed, with plausible
parameters, logs and results; most succeed, some fail in the action, some are
declared lost by the controller (a whisk error and no start). Activations
overlap in time, so their events interleave in the log as they do under load.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from aiokafka import AIOKafkaProducer

from streams import completion, constants
from streams.events import LedgerEvent, Response, encode, headers_of
from streams.ids import new_activation_id
from streams.settings import Settings
from tests.support import events

ACTIONS = ("hello", "resize", "pkg/report", "pkg/notify", "etl/transform")
WORDS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta")


def one_activation(
    rng: random.Random, namespace: str, at_ms: int, action: str | None = None
) -> list[LedgerEvent]:
    """The events of one activation, as the API, controller and invoker would write them."""
    action = action or rng.choice(ACTIONS)
    accepted = events.accepted(
        at_ms=at_ms,
        namespace=namespace,
        action=f"{namespace}/{action}",
        activation_id=new_activation_id(at_ms),
        params={"name": rng.choice(WORDS), "n": rng.randint(0, 1000)},
        kind=rng.choice(("python:3.11", "nodejs:18")),
        blocking=rng.random() < 0.5,
    )
    invoker = rng.randint(0, 3)
    wait = rng.randint(1, 8)
    scheduled = events.scheduled(
        accepted,
        invoker,
        source="controller@1",
        at_ms=at_ms + wait,
        wait_ms=wait,
        decision=rng.choice(("home", "home", "home", "step")),
    )
    if rng.random() < 0.03:  # lost: the controller completes it, no start
        lost = completion.whisk_error(
            accepted, "The invoker was lost.", completion.LOST, at_ms + 70_001, 0, "controller@1"
        )
        return [accepted, scheduled, lost]
    start = at_ms + wait + rng.randint(1, 30)
    started = events.started(
        accepted,
        invoker,
        at_ms=start,
        container=f"wsk{invoker}_{rng.randint(1, 50)}",
        start=rng.choice(("warm", "warm", "warm", "prewarm", "cold")),
        wait_ms=start - at_ms,
    )
    duration = rng.randint(1, 200)
    status = rng.choices((0, 1, 2), weights=(90, 7, 3))[0]
    result: dict[str, Any] = (
        {"greeting": f"Hello {accepted.params['name']}", "n": accepted.params["n"]}
        if status == 0
        else {"error": "something went wrong"}
    )
    logs = [
        f"2024-05-01T12:00:00.{i:06d}Z stdout: step {i} of {accepted.params['name']}"
        for i in range(rng.randint(0, 5))
    ]
    done = completion.of_run(
        accepted,
        0,
        f"invoker{invoker}@1",
        invoker,
        Response(status_code=status, result=result, size=len(str(result))),
        start_ms=start,
        end_ms=start + duration,
        logs=logs,
        container=started.container,
    )
    return [accepted, scheduled, started, done]


def history(
    count: int, namespaces: list[str], seed: int = 7, start_ms: int | None = None
) -> list[list[LedgerEvent]]:
    """``count`` activations, about one every millisecond, each as its own event list."""
    rng = random.Random(seed)
    at = start_ms if start_ms is not None else int(time.time() * 1000) - count
    return [one_activation(rng, rng.choice(namespaces), at + i) for i in range(count)]


def interleaved(activations: list[list[LedgerEvent]]) -> list[LedgerEvent]:
    """All events in the order they happened (activations overlap)."""
    return sorted((e for evs in activations for e in evs), key=lambda e: e.at_ms)


async def append_events(settings: Settings, events: list[LedgerEvent]) -> float:
    """Append events to ``settings``' ledger topic; returns the seconds it took."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=5)
    await producer.start()
    began = time.monotonic()
    try:
        topic = settings.topic(constants.TOPIC_EVENTS)
        futures = [
            await producer.send(
                topic, encode(e), key=e.activation_id.encode(), headers=headers_of(e)
            )
            for e in events
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.monotonic() - began
