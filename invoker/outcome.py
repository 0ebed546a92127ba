"""What an activation's run means: the status and result it ends with. No I/O here."""

from __future__ import annotations

from invoker.errors import ContainerError, ImageMissing, ImageUnusable
from invoker.proxy import ProxyAnswer
from streams import completion, constants, jsoncodec
from streams.completion import error_response
from streams.events import Limits, Response
from streams.messages import (
    CONTAINER_FAILED,
    IMAGE_MISSING,
    IMAGE_UNUSABLE,
    INIT_INVALID,
    NOT_JSON,
    RESULT_TRUNCATED,
    RUN_INVALID,
    RUNTIME_BEING_BUILT,
    RUNTIME_MISSING,
)


def of_run(answer: ProxyAnswer, limit_bytes: int = constants.RESULT_MAX_BYTES) -> Response:
    """Interpret the proxy's answer to ``/run``.

    200 with an object: success, or an application error when it has ``error``;
    200 with an array: success (OpenWhisk's array results); 200 with any other
    JSON value: a developer error quoting it (``invalidRunResponse``). Any
    other answer is a developer error; its ``error`` message is kept. An
    answer over ``limit_bytes`` is an application error quoting its first
    ``limit_bytes`` (ActivationResult.scala ``processRunResponseContent``):
    the action ran as written, and its container is kept.
    """
    if answer.oversize or answer.size > limit_bytes:
        message = RESULT_TRUNCATED.format(
            size=answer.size, limit=limit_bytes, head=answer.head.decode("utf-8", "replace")
        )
        result = {"error": message}
        return Response(
            status_code=constants.STATUS_APPLICATION_ERROR, result=result, size=answer.size
        )
    body = answer.body
    if answer.invalid is not None and answer.status == 200:
        return _answered(NOT_JSON.format(reason=answer.invalid), answer)
    if answer.status == 200:
        if isinstance(body, list):
            return Response(status_code=constants.STATUS_SUCCESS, result=body, size=answer.size)
        if not isinstance(body, dict):
            return _answered(RUN_INVALID.format(text=_quoted(answer)), answer)
        code = constants.STATUS_APPLICATION_ERROR if "error" in body else constants.STATUS_SUCCESS
        return Response(status_code=code, result=body, size=answer.size)
    if isinstance(body, dict) and "error" in body:
        return Response(status_code=constants.STATUS_DEVELOPER_ERROR, result=body, size=answer.size)
    return error_response(
        constants.STATUS_DEVELOPER_ERROR, RUN_INVALID.format(text=_quoted(answer))
    )


def keeps_container(result: Response) -> bool:
    """Whether the container may serve another activation after this one.

    As OpenWhisk does: after a developer error (an exception, a crash, a bad
    result, a time-out) the container's state is suspect and it is discarded;
    a success or an application error leaves it warm.
    """
    return result.status_code in (constants.STATUS_SUCCESS, constants.STATUS_APPLICATION_ERROR)


def of_init(answer: ProxyAnswer) -> Response | None:
    """None when ``/init`` succeeded, else the developer error it ends with."""
    if answer.status == 200:
        return None
    body = answer.body
    if isinstance(body, dict) and "error" in body:
        return Response(status_code=constants.STATUS_DEVELOPER_ERROR, result=body, size=answer.size)
    return error_response(
        constants.STATUS_DEVELOPER_ERROR, INIT_INVALID.format(text=_quoted(answer))
    )


def _answered(message: str, answer: ProxyAnswer) -> Response:
    """A developer error about what the proxy answered: sized by that answer, as OpenWhisk's."""
    return Response(
        status_code=constants.STATUS_DEVELOPER_ERROR, result={"error": message}, size=answer.size
    )


def _quoted(answer: ProxyAnswer) -> str:
    """``": <the answer's text>"``, or ``"."`` for an empty one (OpenWhisk's wording)."""
    body = answer.body
    if body == "" or (body is None and not answer.size):  # None of a size: JSON null
        return "."
    text = body if isinstance(body, str) else jsoncodec.dumps(body)
    return f": {text}"


def of_container_failure(
    exc: ContainerError, blackbox: bool, kind: str = "", being_built: bool = False
) -> tuple[Response, bool]:
    """The error a container that could not be started ends with, and whether it is a fault
    of the invoker's own (which counts towards its health).

    A blackbox action's image is the user's: an image that is missing, invalid,
    exits at once or never answers is that user's developer error (OpenWhisk
    answers a bad image with 502). A runtime image of ours failing so, or Docker
    itself failing, is the invoker's fault: a whisk error. A runtime image not
    built yet (``being_built``: ``runtimes/build.sh`` is still at work on
    ``kind`` in the background) is a whisk error saying so, and no fault: it
    will be there in a few minutes.
    """
    if blackbox and isinstance(exc, ImageMissing):
        return error_response(
            constants.STATUS_DEVELOPER_ERROR, IMAGE_MISSING.format(image=exc.image)
        ), False
    if blackbox and isinstance(exc, ImageUnusable):
        message = IMAGE_UNUSABLE.format(image=exc.image, why=exc.why)
        return error_response(constants.STATUS_DEVELOPER_ERROR, message), False
    if isinstance(exc, ImageMissing):
        if being_built:
            message = RUNTIME_BEING_BUILT.format(image=exc.image, kind=kind)
            return error_response(constants.STATUS_WHISK_ERROR, message), False
        message = RUNTIME_MISSING.format(image=exc.image)
        return error_response(constants.STATUS_WHISK_ERROR, message), True
    return error_response(constants.STATUS_WHISK_ERROR, CONTAINER_FAILED.format(error=exc)), True


def of_limits(limits: Limits) -> Response | None:
    """A whisk error for an activation whose limits the API would never have accepted
    (``completion.limits_refused``), before any container is asked for; None when they
    are in range. No fault of the invoker's: Docker refusing such a container is not one."""
    refused = completion.limits_refused(limits)
    return None if refused is None else error_response(constants.STATUS_WHISK_ERROR, refused)
