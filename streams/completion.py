"""How an activation ends: its response, its record's annotations, its ``completed`` event.

Every writer of ``activation.completed`` builds it here (``_completed`` is the
one constructor), so every kind of end carries the same fields and the same
rules: the invoker's outcomes (``of_run``), the platform's refusals and losses
(``whisk_error``), the API's sequences (``of_sequence``) and trigger fires
(``of_trigger``), and the end of an activation whose own record in the ledger
cannot be read (``of_unreadable``).

Also here: the responses the platform builds (``error_response``,
``ok_response``), the refusal reasons (``Reason``), and the table from an
activation's end to the HTTP status a blocking caller gets (``http_status``)
and back (``activation_status``), as OpenWhisk's controller maps them
(core/controller/.../Actions.scala, ``ActivationResponse``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, Literal

from streams import constants
from streams.events import (
    COMPLETED,
    ActivationAccepted,
    ActivationCompleted,
    Head,
    Limits,
    Response,
    Unreadable,
    seq_for,
)
from streams.messages import LIMITS_REFUSED, UNREADABLE_RECORD

JsonDict = dict[str, Any]

# Why the platform ended an activation itself (the ``reason`` annotation).
Reason = Literal["no_invoker", "no_capacity", "lost", "unreadable", "invalid"]
NO_INVOKER: Final[Reason] = "no_invoker"
NO_CAPACITY: Final[Reason] = "no_capacity"
LOST: Final[Reason] = "lost"
UNREADABLE: Final[Reason] = "unreadable"
# A record that reads but holds what the API never writes (limits out of range).
INVALID: Final[Reason] = "invalid"

# What the API accepts for an action's limits (api/validation.py check_limits), as
# ``(field, low, high)``: no activation the API wrote is outside them.
LIMIT_RANGES: Final = (
    ("memory_mb", constants.MEMORY_MIN_MB, constants.MEMORY_MAX_MB),
    ("timeout_ms", constants.TIMEOUT_MIN_MS, constants.TIMEOUT_MAX_MS),
    ("logs_mb", constants.LOGS_MIN_MB, constants.LOGS_MAX_MB),
    ("concurrency", constants.CONCURRENCY_MIN, constants.CONCURRENCY_MAX),
)


def limits_refused(limits: Limits) -> str | None:
    """Why an atomic action's activation with ``limits`` cannot be run (a limit outside
    what the API accepts: a record it did not write), or None. Neither the controller
    nor an invoker may count such a limit (a negative memory freed room it never held)."""
    for name, low, high in LIMIT_RANGES:
        value = getattr(limits, name)
        if not low <= value <= high:
            return LIMITS_REFUSED.format(limit=name, value=value, low=low, high=high)
    return None


# A blocking invoke's HTTP status by the activation's status code...
HTTP_STATUS: Final = {
    constants.STATUS_SUCCESS: 200,
    constants.STATUS_APPLICATION_ERROR: 502,
    constants.STATUS_DEVELOPER_ERROR: 502,
    constants.STATUS_WHISK_ERROR: 500,
}
# ...except for refusals: no invoker, or none with room in time (unavailable,
# not broken). A namespace over its limits never gets this far: the API
# answers 429 before anything is appended (api/accept.py).
REFUSAL_HTTP_STATUS: Final[dict[str, int]] = {NO_INVOKER: 503, NO_CAPACITY: 503}


def http_status(completed: ActivationCompleted) -> int:
    """The HTTP status a blocking caller gets for ``completed`` (200, 502, 500, 503, 429)."""
    code = completed.response.status_code
    if code == constants.STATUS_WHISK_ERROR:
        return REFUSAL_HTTP_STATUS.get(str(reason_of(completed)), 500)
    return HTTP_STATUS.get(code, 500)


def activation_status(http: int) -> int:
    """The activation status for an HTTP failure (a rule's action refused by the API)."""
    return constants.STATUS_WHISK_ERROR if http >= 500 else constants.STATUS_APPLICATION_ERROR


def reason_of(completed: ActivationCompleted) -> str | None:
    """The ``reason`` annotation of a completion the platform wrote, if any."""
    return next((a["value"] for a in completed.annotations if a.get("key") == "reason"), None)


def error_response(status_code: int, message: str) -> Response:
    """The response ``{"error": message}`` with status ``status_code``, built by the platform
    (no ``size``: OpenWhisk's ``ActivationResponse.whiskError`` and kin)."""
    return Response(status_code=status_code, result={"error": message})


def ok_response(result: JsonDict) -> Response:
    """A success whose result the platform built (a trigger's payload; no ``size``)."""
    return Response(status_code=constants.STATUS_SUCCESS, result=result)


def limits_annotation(accepted: ActivationAccepted, memory_mb: int | None = None) -> JsonDict:
    limits = accepted.limits
    return {
        "key": "limits",
        "value": {
            "concurrency": limits.concurrency,
            "logs": limits.logs_mb,
            "memory": memory_mb or limits.memory_mb,
            "timeout": limits.timeout_ms,
        },
    }


def base_annotations(
    accepted: ActivationAccepted, wait_ms: int, timed_out: bool = False
) -> list[JsonDict]:
    """The annotations every activation record carries (OpenWhisk's set, in its order)."""
    return [
        # What the API adds for this activation (causedBy, binding) comes first, as in OpenWhisk.
        *accepted.annotations,
        {"key": "path", "value": accepted.action},
        {"key": "waitTime", "value": max(0, wait_ms)},
        {"key": "kind", "value": accepted.kind},
        {"key": "timeout", "value": timed_out},
        limits_annotation(accepted),
    ]


def _completed(
    activation_id: str,
    namespace: str,
    attempt: int,
    source: str,
    response: Response,
    *,
    start_ms: int,
    end_ms: int,
    duration_ms: int,
    logs: Iterable[str],
    annotations: list[JsonDict],
    invoker: int | None = None,
    container: str | None = None,
    at_ms: int | None = None,
    head: Head | None = None,
) -> ActivationCompleted:
    """The one constructor of ``completed`` events (``at_ms``, when it is written: ``end_ms``)."""
    return ActivationCompleted(
        activation_id=activation_id,
        seq=seq_for(COMPLETED, attempt),
        at_ms=end_ms if at_ms is None else at_ms,
        namespace=namespace,
        source=source,
        response=response,
        logs=list(logs),
        start_ms=start_ms,
        end_ms=end_ms,
        duration_ms=duration_ms,
        annotations=annotations,
        invoker=invoker,
        container=container,
        head=head,
    )


def of_run(
    accepted: ActivationAccepted,
    attempt: int,
    source: str,
    invoker: int,
    response: Response,
    *,
    start_ms: int,
    end_ms: int,
    logs: list[str],
    init_ms: int | None = None,
    timed_out: bool = False,
    container: str | None = None,
) -> ActivationCompleted:
    """The end of an activation an invoker ran (or failed to run for it).

    ``initTime`` is annotated when this activation paid for ``/init``.
    """
    annotations = base_annotations(accepted, start_ms - accepted.at_ms, timed_out)
    if init_ms is not None:
        annotations.append({"key": "initTime", "value": init_ms})
    return _completed(
        accepted.activation_id,
        accepted.namespace,
        attempt,
        source,
        response,
        start_ms=start_ms,
        end_ms=end_ms,
        duration_ms=max(0, end_ms - start_ms),
        logs=logs,
        annotations=annotations,
        invoker=invoker,
        container=container,
        head=accepted.head(),
    )


def whisk_error(
    accepted: ActivationAccepted,
    message: str,
    reason: Reason,
    now_ms: int,
    attempt: int,
    source: str,
) -> ActivationCompleted:
    """The end of an activation the platform could not run: a whisk error with a ``reason``."""
    return _completed(
        accepted.activation_id,
        accepted.namespace,
        attempt,
        source,
        error_response(constants.STATUS_WHISK_ERROR, message),
        start_ms=now_ms,
        end_ms=now_ms,
        duration_ms=0,
        logs=[],
        annotations=[
            *base_annotations(accepted, now_ms - accepted.at_ms),
            {"key": "reason", "value": reason},
        ],
        head=accepted.head(),
    )


def of_sequence(
    accepted: ActivationAccepted,
    response: Response,
    *,
    component_ids: Iterable[str],
    duration_ms: int,
    max_memory_mb: int | None,
    topmost: bool,
    end_ms: int,
    source: str,
) -> ActivationCompleted:
    """A sequence's own end: the last component's response, the components' ids as logs.

    OpenWhisk's sequence record (core/controller/.../SequenceActions.scala): its
    duration is the sum of the components', its memory the largest of theirs.
    """
    annotations: list[JsonDict] = [
        {"key": "topmost", "value": topmost},
        {"key": "path", "value": accepted.action},
        {"key": "kind", "value": constants.KIND_SEQUENCE},
    ]
    annotations += [a for a in accepted.annotations if a.get("key") in ("causedBy", "binding")]
    annotations += [
        {"key": "waitTime", "value": 0},
        limits_annotation(accepted, max_memory_mb),
    ]
    return _completed(
        accepted.activation_id,
        accepted.namespace,
        0,
        source,
        response,
        start_ms=accepted.at_ms,
        end_ms=end_ms,
        duration_ms=duration_ms,
        logs=component_ids,
        annotations=annotations,
        head=accepted.head(),
    )


def of_trigger(
    accepted: ActivationAccepted, payload: JsonDict, rule_lines: list[str], now_ms: int, source: str
) -> ActivationCompleted:
    """A trigger fire's end: its payload as the result, one log line per rule it started."""
    return _completed(
        accepted.activation_id,
        accepted.namespace,
        0,
        source,
        ok_response(payload),
        start_ms=accepted.at_ms,
        end_ms=accepted.at_ms,
        duration_ms=0,
        logs=rule_lines,
        annotations=[],
        at_ms=now_ms,
        head=accepted.head(),
    )


def unreadable_message(record: Unreadable) -> str:
    """The whisk error's text for an activation one of whose records does not decode."""
    return UNREADABLE_RECORD.format(type=record.type or "unknown", error=record.error[:500])


def of_unreadable(record: Unreadable, now_ms: int, source: str) -> ActivationCompleted:
    """The end of an activation one of whose ledger records does not decode.

    ``record`` must be ``identified`` (activation id and namespace known). Its
    seq is that of a first attempt's completion: the record may have been the
    ``accepted`` event itself, so nothing else about the activation is known.
    """
    assert record.activation_id is not None and record.namespace is not None
    message = unreadable_message(record)
    return _completed(
        record.activation_id,
        record.namespace,
        0,
        source,
        error_response(constants.STATUS_WHISK_ERROR, message),
        start_ms=now_ms,
        end_ms=now_ms,
        duration_ms=0,
        logs=[],
        annotations=[{"key": "reason", "value": UNREADABLE}],
    )
