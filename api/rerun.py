"""Re-running an activation: invoke its action again with the parameters the ledger recorded.

``POST .../activations/{id}/replay?action_version=original|current`` reads the
original ``accepted`` event from the log and appends a new one with the same
(merged) parameters. The new activation carries ``cause = {kind: replay}`` and
a ``replayOf`` annotation naming the original.

Which code runs: ``original`` (the default) re-runs the exact revision the
ledger recorded (``action_rev``). Invokers load action code by id *and*
revision, and CouchDB (and PouchDB Server) keep the bodies of old revisions
until the database is compacted, so no snapshot is needed; when the revision
is gone (compaction), the request fails with 409 and says to replay with
``current``, which runs the action as it is now (its current code and limits;
the parameters are still the original ones).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.context import Context
from api.errors import (
    INVALID_TIMEOUT,
    ORIGINAL_VERSION_GONE,
    REPLAY_VERSION_ILLEGAL,
    APIError,
    bad_request,
    not_found,
)
from api.events import logged_activation
from api.invocations import (
    Invocations,
    Submitted,
    record_of,
)
from api.requests import flag, integer, json_response
from streams import completion, constants
from streams.events import ActivationAccepted, Cause, Limits
from streams.ids import new_activation_id, now_ms

VERSIONS = ("original", "current")
REPLAY_OF = "replayOf"


def replay_of(
    original: ActivationAccepted,
    *,
    activation_id: str,
    at_ms: int,
    source: str,
    subject: str,
    blocking: bool,
    grace_ms: int,
    current: dict[str, Any] | None = None,
) -> ActivationAccepted:
    """The ``accepted`` event of a re-run of ``original``.

    With ``current`` (the action document as it is now) the re-run uses that
    version's code and limits; without, the original revision's.
    """
    update: dict[str, Any] = {}
    if current is not None:
        exec_, limits = current["exec"], current["limits"]
        update = {
            "action_version": current["version"],
            "action_rev": current["_rev"],
            "kind": exec_["kind"],
            "image": exec_.get("image"),
            "main": exec_.get("main"),
            "limits": Limits(
                timeout_ms=limits["timeout"],
                memory_mb=limits["memory"],
                logs_mb=limits["logs"],
                concurrency=limits.get("concurrency", 1),
            ),
        }
    limits_now: Limits = update.get("limits", original.limits)
    annotations = [a for a in original.annotations if a.get("key") != REPLAY_OF]
    annotations.append({"key": REPLAY_OF, "value": original.activation_id})
    return original.model_copy(
        update={
            **update,
            "activation_id": activation_id,
            "seq": 1,
            "at_ms": at_ms,
            "source": source,
            "subject": subject,
            "blocking": blocking,
            "deadline_ms": at_ms + limits_now.timeout_ms + grace_ms,
            "reply_to": source,
            "cause": Cause(
                kind="replay", activation_id=original.activation_id, name=original.action
            ),
            "annotations": annotations,
        }
    )


async def submit(
    c: Context, accepted: ActivationAccepted, wait_ms: int, result_only: bool
) -> web.Response:
    """Append ``accepted``; answer 202, or wait for the completion as a blocking invoke does.

    It goes through the same tracking as every invocation (concurrency counted,
    waiter forgotten after the deadline).
    """
    submitted = Submitted(accepted, c.invocations.track(accepted, count=True))
    await c.invocations.append(accepted)
    completed = await Invocations.wait(submitted, wait_ms) if accepted.blocking else None
    if completed is None:
        return json_response({"activationId": accepted.activation_id}, status=202)
    shown = record_of(accepted, completed)
    return json_response(
        shown["response"]["result"] if result_only else shown, completion.http_status(completed)
    )


async def replay_activation(request: web.Request) -> web.Response:
    """``POST .../activations/{id}/replay``."""
    version = request.query.get("action_version", "original")
    if version not in VERSIONS:
        raise bad_request(REPLAY_VERSION_ILLEGAL)
    wait_ms = integer(request, "timeout", constants.BLOCKING_WAIT_MAX_MS, "timeout")
    if not 0 < wait_ms <= constants.BLOCKING_WAIT_MAX_MS:
        raise bad_request(INVALID_TIMEOUT.format(max=constants.BLOCKING_WAIT_MAX_MS))
    c, identity, logged = await logged_activation(request)
    original = next((e.event for e in logged if isinstance(e.event, ActivationAccepted)), None)
    if original is None:
        raise not_found()
    current: dict[str, Any] | None = None
    if version == "original":
        whisks = c.settings.database(constants.DB_WHISKS)
        if await c.couch.get_rev(whisks, original.action, original.action_rev) is None:
            raise APIError(409, ORIGINAL_VERSION_GONE.format(rev=original.action_rev))
    else:
        current = await c.entities.get(original.action)
        if current is None or current.get("entityType") != "action":
            raise not_found()
    c.invocations.check_invoke(identity)
    at = now_ms()
    accepted = replay_of(
        original,
        activation_id=new_activation_id(at),
        at_ms=at,
        source=c.settings.api_instance,
        subject=identity.subject,
        blocking=flag(request, "blocking") or flag(request, "result"),
        grace_ms=int(c.settings.completion_grace_s * 1000),
        current=current,
    )
    return await submit(c, accepted, wait_ms, flag(request, "result"))
