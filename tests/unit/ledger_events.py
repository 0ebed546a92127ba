"""Well-formed ledger events for unit tests: the four states of one activation."""

from __future__ import annotations

from typing import Any

from streams.events import (
    ActivationAccepted,
    ActivationCompleted,
    ActivationScheduled,
    ActivationStarted,
    LedgerEvent,
    Limits,
    Response,
)


def four(
    aid: str = "0" * 12 + "a" * 20,
    namespace: str = "guest",
    action: str = "hello",
    at_ms: int = 100,
    params: dict[str, Any] | None = None,
) -> list[LedgerEvent]:
    """accepted, scheduled, started, completed of one successful activation."""
    common: dict[str, Any] = {"activation_id": aid, "namespace": namespace}
    return [
        ActivationAccepted(
            **common,
            seq=1,
            at_ms=at_ms,
            source="api0",
            action=f"{namespace}/{action}",
            action_name=action,
            action_version="0.0.1",
            action_rev="1-x",
            kind="python:3.11",
            params=params if params is not None else {"a": 1},
            limits=Limits(timeout_ms=1000, memory_mb=256, logs_mb=10),
            subject=namespace,
            blocking=True,
            deadline_ms=at_ms + 20000,
            reply_to="api0",
        ),
        ActivationScheduled(
            **common, seq=2, at_ms=at_ms + 1, source="c", invoker=0, decision="home", wait_ms=1
        ),
        ActivationStarted(
            **common,
            seq=3,
            at_ms=at_ms + 2,
            source="i0",
            invoker=0,
            container="c1",
            start="warm",
            wait_ms=2,
        ),
        ActivationCompleted(
            **common,
            seq=4,
            at_ms=at_ms + 10,
            source="i0",
            response=Response(status_code=0, result={"ok": True}, size=11),
            logs=["l1"],
            start_ms=at_ms + 2,
            end_ms=at_ms + 10,
            duration_ms=8,
            annotations=[{"key": "path", "value": f"{namespace}/{action}"}],
            invoker=0,
        ),
    ]
