"""The one factory of ledger events and heartbeats for tests (unit and integration)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from streams.events import (
    COMPLETED,
    SCHEDULED,
    STARTED,
    ActivationAccepted,
    ActivationCompleted,
    ActivationScheduled,
    ActivationStarted,
    InvokerHealth,
    LedgerEvent,
    Limits,
    Response,
    seq_for,
)


def aid(n: int, at_ms: int = 1_000) -> str:
    """A well-formed activation id accepted at ``at_ms``."""
    return f"{at_ms:012x}{n:020x}"


def accepted(
    n: int = 0,
    at_ms: int = 1_000,
    namespace: str = "ns",
    action: str = "ns/a",
    memory_mb: int = 256,
    timeout_ms: int = 60_000,
    grace_ms: int = 10_000,
    *,
    activation_id: str | None = None,
    params: dict[str, Any] | None = None,
    logs_mb: int = 10,
    blocking: bool = False,
    source: str = "api0",
    kind: str = "python:3.11",
    deadline_ms: int | None = None,
    annotations: list[dict[str, Any]] | None = None,
    invoker: int | None = None,
) -> ActivationAccepted:
    return ActivationAccepted(
        activation_id=activation_id or aid(n, at_ms),
        seq=1,
        at_ms=at_ms,
        namespace=namespace,
        source=source,
        action=action,
        action_name=action.split("/")[-1],
        action_version="0.0.1",
        action_rev="1-x",
        kind=kind,
        params=params or {},
        limits=Limits(timeout_ms=timeout_ms, memory_mb=memory_mb, logs_mb=logs_mb),
        subject=namespace,
        blocking=blocking,
        deadline_ms=at_ms + timeout_ms + grace_ms if deadline_ms is None else deadline_ms,
        reply_to=source,
        annotations=annotations or [],
        invoker=invoker,
        decision=None if invoker is None else "home",
    )


def scheduled(
    a: ActivationAccepted,
    invoker: int,
    attempt: int = 0,
    *,
    source: str = "controller@test",
    at_ms: int | None = None,
    wait_ms: int = 0,
    decision: str | None = None,
) -> ActivationScheduled:
    return ActivationScheduled(
        activation_id=a.activation_id,
        seq=seq_for(SCHEDULED, attempt),
        at_ms=a.at_ms if at_ms is None else at_ms,
        namespace=a.namespace,
        source=source,
        invoker=invoker,
        decision=decision or ("reschedule" if attempt else "home"),  # type: ignore[arg-type]
        wait_ms=wait_ms,
        attempt=attempt,
    )


def started(
    a: ActivationAccepted,
    invoker: int,
    attempt: int = 0,
    source: str | None = None,
    *,
    at_ms: int | None = None,
    container: str = "c",
    wait_ms: int = 1,
    start: str = "warm",
) -> ActivationStarted:
    return ActivationStarted(
        activation_id=a.activation_id,
        seq=seq_for(STARTED, attempt),
        at_ms=a.at_ms + 1 if at_ms is None else at_ms,
        namespace=a.namespace,
        source=source or f"invoker{invoker}@1",
        invoker=invoker,
        container=container,
        start=start,  # type: ignore[arg-type]
        wait_ms=wait_ms,
    )


def completed(
    a: ActivationAccepted,
    attempt: int = 0,
    source: str = "x",
    *,
    result: dict[str, Any] | None = None,
    status_code: int = 0,
    size: int = 0,
    logs: Iterable[str] = (),
    start_ms: int | None = None,
    end_ms: int | None = None,
    annotations: list[dict[str, Any]] | None = None,
    invoker: int | None = None,
    with_head: bool = False,
) -> ActivationCompleted:
    start = a.at_ms + 1 if start_ms is None else start_ms
    end = a.at_ms + 2 if end_ms is None else end_ms
    return ActivationCompleted(
        activation_id=a.activation_id,
        seq=seq_for(COMPLETED, attempt),
        at_ms=end,
        namespace=a.namespace,
        source=source,
        response=Response(status_code=status_code, result=result or {}, size=size),
        logs=list(logs),
        start_ms=start,
        end_ms=end,
        duration_ms=end - start,
        annotations=annotations or [],
        invoker=invoker,
        head=a.head() if with_head else None,
    )


def four(
    activation_id: str = "0" * 12 + "a" * 20,
    namespace: str = "guest",
    action: str = "hello",
    at_ms: int = 100,
    params: dict[str, Any] | None = None,
) -> list[LedgerEvent]:
    """accepted, scheduled, started, completed of one successful activation."""
    a = accepted(
        at_ms=at_ms,
        namespace=namespace,
        action=f"{namespace}/{action}",
        timeout_ms=1000,
        grace_ms=19_000,
        activation_id=activation_id,
        params={"a": 1} if params is None else params,
        blocking=True,
    )
    return [
        a,
        scheduled(a, 0, source="c", at_ms=at_ms + 1, wait_ms=1),
        started(a, 0, source="i0", at_ms=at_ms + 2, container="c1", wait_ms=2),
        completed(
            a,
            source="i0",
            result={"ok": True},
            size=11,
            logs=["l1"],
            start_ms=at_ms + 2,
            end_ms=at_ms + 10,
            annotations=[{"key": "path", "value": f"{namespace}/{action}"}],
            invoker=0,
        ),
    ]


def health(
    invoker: int,
    at_ms: int = 1_000,
    memory_mb: int = 1024,
    state: str = "healthy",
    pid: int = 1,
    ledger_from: dict[int, int] | None = None,
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
        ledger_from={0: 0, 1: 0, 2: 0, 3: 0} if ledger_from is None else ledger_from,
    )
