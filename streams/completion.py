"""How an activation ends: its response, its record's annotations, its ``completed`` event.

Every writer of ``activation.completed`` builds it here, so every record of
every kind of end carries the same fields: the controller's refusals and
losses, the invoker's outcomes, the API's sequences and trigger fires, and the
end of an activation whose own record in the ledger cannot be read.

A refusal carries a ``reason`` annotation (``Reason``); the API maps it to an
HTTP status (see ``api/invocations.py``).
"""

from __future__ import annotations

from typing import Any, Final, Literal

from streams import constants, jsoncodec
from streams.events import (
    COMPLETED,
    ActivationAccepted,
    ActivationCompleted,
    Response,
    Unreadable,
    seq_for,
)
from streams.messages import UNREADABLE_RECORD

Reason = Literal["no_invoker", "no_capacity", "throttled", "lost", "unreadable"]
NO_INVOKER: Final[Reason] = "no_invoker"
NO_CAPACITY: Final[Reason] = "no_capacity"
THROTTLED: Final[Reason] = "throttled"
LOST: Final[Reason] = "lost"
UNREADABLE: Final[Reason] = "unreadable"


def result_size(result: dict[str, Any]) -> int:
    """The one size rule for a result the platform builds: its compact JSON text in UTF-8 bytes.

    (A result an action returns is measured as the bytes its proxy sent.)
    """
    return len(jsoncodec.dumps(result).encode())


def error_response(status_code: int, message: str) -> Response:
    """The response ``{"error": message}`` with status ``status_code``."""
    result = {"error": message}
    return Response(status_code=status_code, result=result, size=result_size(result))


def base_annotations(accepted: ActivationAccepted, wait_ms: int) -> list[dict[str, Any]]:
    """The annotations every activation record carries (OpenWhisk's set)."""
    limits = accepted.limits
    return [
        # What the API adds for this activation (causedBy, binding) comes first, as in OpenWhisk.
        *accepted.annotations,
        {"key": "path", "value": accepted.action},
        {"key": "waitTime", "value": wait_ms},
        {"key": "kind", "value": accepted.kind},
        {"key": "timeout", "value": False},
        {
            "key": "limits",
            "value": {
                "concurrency": limits.concurrency,
                "logs": limits.logs_mb,
                "memory": limits.memory_mb,
                "timeout": limits.timeout_ms,
            },
        },
    ]


def whisk_error(
    accepted: ActivationAccepted,
    message: str,
    reason: Reason,
    now_ms: int,
    attempt: int,
    source: str,
) -> ActivationCompleted:
    """A ``completed`` event for an activation the platform could not run."""
    return ActivationCompleted(
        activation_id=accepted.activation_id,
        seq=seq_for(COMPLETED, attempt),
        at_ms=now_ms,
        namespace=accepted.namespace,
        source=source,
        response=error_response(constants.STATUS_WHISK_ERROR, message),
        logs=[],
        start_ms=now_ms,
        end_ms=now_ms,
        duration_ms=0,
        annotations=[
            *base_annotations(accepted, wait_ms=now_ms - accepted.at_ms),
            {"key": "reason", "value": reason},
        ],
    )


def of_unreadable(record: Unreadable, now_ms: int, source: str) -> ActivationCompleted:
    """The end of an activation one of whose ledger records does not decode.

    ``record`` must be ``identified`` (activation id and namespace known). Its
    seq is that of a first attempt's completion: the record may have been the
    ``accepted`` event itself, so nothing else about the activation is known.
    """
    assert record.activation_id is not None and record.namespace is not None
    message = UNREADABLE_RECORD.format(type=record.type or "unknown", error=record.error[:500])
    return ActivationCompleted(
        activation_id=record.activation_id,
        seq=seq_for(COMPLETED, 0),
        at_ms=now_ms,
        namespace=record.namespace,
        source=source,
        response=error_response(constants.STATUS_WHISK_ERROR, message),
        logs=[],
        start_ms=now_ms,
        end_ms=now_ms,
        duration_ms=0,
        annotations=[{"key": "reason", "value": UNREADABLE}],
    )
