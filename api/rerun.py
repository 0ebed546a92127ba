"""Re-running an activation: invoke its action again with the parameters the ledger recorded.

``POST .../activations/{id}/rerun?action_version=original|current`` (also
``/replay``, its first name; the record's ``replayOf`` annotation and the
cause kind ``replay`` keep that name, being data clients read) reads the
original ``accepted`` event from the log and appends a new one with the same
(merged) parameters. The new activation carries ``cause = {kind: replay}`` and
a ``replayOf`` annotation naming the original.

Which code runs: ``original`` (the default) re-runs the exact revision the
ledger recorded (``action_rev``). Invokers load action code by id *and*
revision, and CouchDB (and PouchDB Server) keep the bodies of old revisions
until the database is compacted, so no snapshot is needed; when the revision
is gone (compaction), the request fails with 409 and says to re-run with
``current``, which runs the action as it is now (its current code and limits;
the parameters are still the original ones).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.accept import Runnable, accepted_event, record_of
from api.auth import Identity
from api.errors import APIError, bad_request, not_found
from api.ledgerview import logged_activation
from api.requests import blocking_wait_ms, flag, json_response
from streams import completion, constants
from streams.events import ActivationAccepted, Cause
from streams.messages import ORIGINAL_VERSION_GONE, REPLAY_VERSION_ILLEGAL

JsonDict = dict[str, Any]
VERSIONS = ("original", "current")
REPLAY_OF = "replayOf"


def rerun_of(
    original: ActivationAccepted,
    identity: Identity,
    *,
    source: str,
    grace_ms: int,
    blocking: bool,
    current: JsonDict | None = None,
) -> ActivationAccepted:
    """The ``accepted`` event of a re-run of ``original`` by ``identity``.

    With ``current`` (the action document as it is now) the re-run uses that
    version's code and limits; without, the original revision's. The
    parameters are the original's, merged as they were.
    """
    runnable = (
        Runnable.of_accepted(original)
        if current is None
        else Runnable.of(current, original.action, original.action_name)
    )
    annotations = [a for a in original.annotations if a.get("key") != REPLAY_OF]
    annotations.append({"key": REPLAY_OF, "value": original.activation_id})
    return accepted_event(
        runnable,
        identity,
        original.params,
        source=source,
        blocking=blocking,
        grace_ms=grace_ms,
        cause=Cause(kind="replay", activation_id=original.activation_id, name=original.action),
        annotations=annotations,
    )


async def rerun_activation(request: web.Request) -> web.Response:
    """``POST .../activations/{id}/rerun`` (and ``/replay``, its first name)."""
    version = request.query.get("action_version", "original")
    if version not in VERSIONS:
        raise bad_request(REPLAY_VERSION_ILLEGAL)
    wait_ms = blocking_wait_ms(request)
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
    result_only = flag(request, "result")
    accepted = rerun_of(
        original,
        identity,
        source=c.invocations.source,
        grace_ms=c.invocations.grace_ms,
        blocking=flag(request, "blocking") or result_only,
        current=current,
    )
    submitted = await c.invocations.accept(accepted, count=True)
    completed = await c.invocations.wait(submitted, wait_ms) if accepted.blocking else None
    if completed is None:
        return json_response({"activationId": accepted.activation_id}, status=202)
    shown = record_of(accepted, completed)
    status = completion.http_status(completed)
    return json_response(shown["response"]["result"] if result_only else shown, status)
