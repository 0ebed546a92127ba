"""What an activation's run means: the status and result it ends with. No I/O here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from invoker.proxy import ProxyAnswer
from streams import constants
from streams.messages import NOT_A_DICT, RESULT_TOO_LARGE


@dataclass(frozen=True)
class Outcome:
    """Status code (0..3), result object and its size."""

    status_code: int
    result: dict[str, Any]
    size: int


def error(status_code: int, message: str) -> Outcome:
    result = {"error": message}
    return Outcome(status_code, result, len(json.dumps(result)))


def of_run(answer: ProxyAnswer, limit_bytes: int = constants.RESULT_MAX_BYTES) -> Outcome:
    """Interpret the proxy's answer to ``/run``.

    200 with an object: success, or an application error when it has ``error``.
    Any other answer is a developer error; its ``error`` message is kept.
    """
    if answer.oversize or answer.size > limit_bytes:
        return error(
            constants.STATUS_DEVELOPER_ERROR,
            RESULT_TOO_LARGE.format(size=answer.size, limit=limit_bytes),
        )
    body = answer.body
    if answer.status == 200:
        if not isinstance(body, dict):
            return error(constants.STATUS_DEVELOPER_ERROR, NOT_A_DICT)
        code = constants.STATUS_APPLICATION_ERROR if "error" in body else constants.STATUS_SUCCESS
        return Outcome(code, body, answer.size)
    if isinstance(body, dict) and "error" in body:
        return Outcome(constants.STATUS_DEVELOPER_ERROR, body, answer.size)
    return error(
        constants.STATUS_DEVELOPER_ERROR,
        f"The action did not produce a valid response (HTTP {answer.status}).",
    )


def keeps_container(result: Outcome) -> bool:
    """Whether the container may serve another activation after this one.

    As OpenWhisk does: after a developer error (an exception, a crash, a bad
    result, a time-out) the container's state is suspect and it is discarded;
    a success or an application error leaves it warm.
    """
    return result.status_code in (constants.STATUS_SUCCESS, constants.STATUS_APPLICATION_ERROR)


def of_init(answer: ProxyAnswer) -> Outcome | None:
    """None when ``/init`` succeeded, else the developer error it ends with."""
    if answer.status == 200:
        return None
    body = answer.body
    if isinstance(body, dict) and "error" in body:
        return Outcome(constants.STATUS_DEVELOPER_ERROR, body, answer.size)
    return error(
        constants.STATUS_DEVELOPER_ERROR,
        f"The action failed to initialize (HTTP {answer.status}).",
    )
