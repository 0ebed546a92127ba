"""Small factories of ledger events and heartbeats for the unit tests."""

from __future__ import annotations

from streams.events import (
    COMPLETED,
    SCHEDULED,
    STARTED,
    ActivationAccepted,
    ActivationCompleted,
    ActivationScheduled,
    ActivationStarted,
    InvokerHealth,
    Limits,
    Response,
    seq_for,
)


def aid(n: int, at_ms: int = 1_000) -> str:
    """A well-formed activation id accepted at ``at_ms``."""
    return f"{at_ms:012x}{n:020x}"


def accepted(
    n: int,
    at_ms: int = 1_000,
    namespace: str = "ns",
    action: str = "ns/a",
    memory_mb: int = 256,
    timeout_ms: int = 60_000,
    grace_ms: int = 10_000,
) -> ActivationAccepted:
    return ActivationAccepted(
        activation_id=aid(n, at_ms),
        seq=1,
        at_ms=at_ms,
        namespace=namespace,
        source="api0",
        action=action,
        action_name=action.split("/", 1)[1],
        action_version="0.0.1",
        action_rev="1-x",
        kind="python:3.11",
        params={},
        limits=Limits(timeout_ms=timeout_ms, memory_mb=memory_mb, logs_mb=10),
        subject=namespace,
        blocking=False,
        deadline_ms=at_ms + timeout_ms + grace_ms,
        reply_to="api0",
    )


def scheduled(a: ActivationAccepted, invoker: int, attempt: int = 0) -> ActivationScheduled:
    return ActivationScheduled(
        activation_id=a.activation_id,
        seq=seq_for(SCHEDULED, attempt),
        at_ms=a.at_ms,
        namespace=a.namespace,
        source="controller@test",
        invoker=invoker,
        decision="reschedule" if attempt else "home",
        wait_ms=0,
        attempt=attempt,
    )


def started(
    a: ActivationAccepted, invoker: int, attempt: int = 0, source: str | None = None
) -> ActivationStarted:
    return ActivationStarted(
        activation_id=a.activation_id,
        seq=seq_for(STARTED, attempt),
        at_ms=a.at_ms + 1,
        namespace=a.namespace,
        source=source or f"invoker{invoker}@1",
        invoker=invoker,
        container="c",
        start="warm",
        wait_ms=1,
    )


def completed(a: ActivationAccepted, attempt: int = 0, source: str = "x") -> ActivationCompleted:
    return ActivationCompleted(
        activation_id=a.activation_id,
        seq=seq_for(COMPLETED, attempt),
        at_ms=a.at_ms + 2,
        namespace=a.namespace,
        source=source,
        response=Response(status_code=0, result={}),
        start_ms=a.at_ms + 1,
        end_ms=a.at_ms + 2,
        duration_ms=1,
    )


def health(
    invoker: int,
    at_ms: int = 1_000,
    memory_mb: int = 1024,
    state: str = "healthy",
    pid: int = 1,
    dispatch_from: int = 0,
) -> InvokerHealth:
    return InvokerHealth(
        invoker=invoker,
        state=state,  # type: ignore[arg-type]
        user_memory_mb=memory_mb,
        free_memory_mb=memory_mb,
        in_flight=0,
        pid=pid,
        host="h",
        at_ms=at_ms,
        incarnation=f"invoker{invoker}@{pid}",
        dispatch_from=dispatch_from,
    )
