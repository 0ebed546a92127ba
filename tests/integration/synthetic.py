"""Synthetic but well-formed ledger histories, for projection tests and the replay benchmark.

Each activation gets what the platform would append: accepted, scheduled,
started and completed, with plausible parameters, logs and results; most
succeed, some fail in the action, some are declared lost by the controller
(completed with a whisk error and no start). Activations overlap in time, so
their events interleave in the log as they do under load.

    python -m tests.integration.synthetic --prefix lwbench --activations 10000

appends them to ``<prefix>.activation-events`` (created if missing; settings
from ``LEDGERWHISK_*``). Never point it at a prefix a controller serves: the
controller would schedule the synthetic acceptances.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

from aiokafka import AIOKafkaProducer

from streams import constants
from streams.completion import base_annotations
from streams.events import (
    ActivationAccepted,
    ActivationCompleted,
    ActivationScheduled,
    ActivationStarted,
    LedgerEvent,
    Limits,
    Response,
    encode,
    headers_of,
    seq_for,
)
from streams.ids import new_activation_id
from streams.settings import Settings
from streams.topics import ensure_topics, ledger_topics

ACTIONS = ("hello", "resize", "pkg/report", "pkg/notify", "etl/transform")
WORDS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta")


def one_activation(
    rng: random.Random, namespace: str, at_ms: int, action: str | None = None
) -> list[LedgerEvent]:
    """The events of one activation, as the API, controller and invoker would write them."""
    aid = new_activation_id(at_ms)
    action = action or rng.choice(ACTIONS)
    limits = Limits(timeout_ms=60_000, memory_mb=256, logs_mb=10)
    accepted = ActivationAccepted(
        activation_id=aid,
        seq=1,
        at_ms=at_ms,
        namespace=namespace,
        source="api0",
        action=f"{namespace}/{action}",
        action_name=action,
        action_version="0.0.1",
        action_rev=f"1-{rng.getrandbits(64):016x}",
        kind=rng.choice(("python:3.11", "nodejs:18")),
        params={"name": rng.choice(WORDS), "n": rng.randint(0, 1000)},
        limits=limits,
        subject=namespace,
        blocking=rng.random() < 0.5,
        deadline_ms=at_ms + 70_000,
        reply_to="api0",
    )
    invoker = rng.randint(0, 3)
    wait = rng.randint(1, 8)
    scheduled = ActivationScheduled(
        activation_id=aid,
        seq=seq_for("activation.scheduled"),
        at_ms=at_ms + wait,
        namespace=namespace,
        source="controller@1",
        invoker=invoker,
        decision=rng.choice(("home", "home", "home", "step")),
        wait_ms=wait,
    )
    if rng.random() < 0.03:  # lost: the controller completes it, no start
        end = at_ms + 70_001
        lost = ActivationCompleted(
            activation_id=aid,
            seq=seq_for("activation.completed"),
            at_ms=end,
            namespace=namespace,
            source="controller@1",
            response=Response(status_code=3, result={"error": "The invoker was lost."}, size=34),
            start_ms=end,
            end_ms=end,
            duration_ms=0,
            annotations=base_annotations(accepted, wait_ms=end - at_ms),
        )
        return [accepted, scheduled, lost]
    start = at_ms + wait + rng.randint(1, 30)
    started = ActivationStarted(
        activation_id=aid,
        seq=seq_for("activation.started"),
        at_ms=start,
        namespace=namespace,
        source=f"invoker{invoker}@1",
        invoker=invoker,
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
    completed = ActivationCompleted(
        activation_id=aid,
        seq=seq_for("activation.completed"),
        at_ms=start + duration,
        namespace=namespace,
        source=f"invoker{invoker}@1",
        response=Response(status_code=status, result=result, size=len(str(result))),
        logs=logs,
        start_ms=start,
        end_ms=start + duration,
        duration_ms=duration,
        annotations=base_annotations(accepted, wait_ms=start - at_ms),
        invoker=invoker,
        container=started.container,
    )
    return [accepted, scheduled, started, completed]


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


async def _main(prefix: str, count: int) -> None:
    settings = Settings(prefix=prefix)
    await ensure_topics(settings, ledger_topics(settings))
    events = interleaved(history(count, [f"ns{i}" for i in range(20)]))
    seconds = await append_events(settings, events)
    print(
        f"appended {len(events):,} events of {count:,} activations to "
        f"{settings.topic(constants.TOPIC_EVENTS)} in {seconds:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefix", required=True, help="a scratch prefix no controller serves")
    parser.add_argument("--activations", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(_main(args.prefix, args.activations))


if __name__ == "__main__":
    main()
