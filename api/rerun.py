"""Re-running an activation: run it again with the parameters the ledger recorded.

``POST .../activations/{id}/rerun?action_version=original|current`` (also
``/replay``, its first name; the record's ``replayOf`` annotation and the
cause kind ``replay`` keep that name, being data clients read) reads the
original ``accepted`` event from the log and starts a new activation with the
same (merged) parameters. The new activation carries ``cause = {kind: replay}``
and a ``replayOf`` annotation naming the original.

What runs depends on what the original ran (``how``):

- an action (also one a rule started, a web action, a sequence's component):
  ``original`` (the default) re-runs the exact revision the ledger recorded
  (``action_rev``). Invokers load action code by id *and* revision, and
  CouchDB (and PouchDB Server) keep the bodies of old revisions until the
  database is compacted, so no snapshot is needed; when the revision is gone
  (compaction), the request fails with 409 and says to re-run with
  ``current``, which runs the action as it is now (its current code and
  limits; the parameters are still the original ones).
- a sequence: the sequence runs again through ``Invocations.start``, as an
  invoke does: ``original`` with the component list of the recorded
  revision, ``current`` with today's; each component is resolved by name when
  it runs, as in any invocation of a sequence.
- a trigger: the trigger is fired again with the recorded payload (its
  rules as they are now: a fire records no rule set, so both versions mean
  now); 409 when none of its rules is active, since nothing would run.

An entity that no longer exists is 404 with either version, as an invoke of
it is (``original`` too: a deleted action's code never runs again, though
CouchDB still holds its old revisions until compaction; a user deletes an
action to stop it). An action deleted and created again under the same name
exists: ``original`` runs the recorded revision, ``current`` the new one.
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web

from api import triggers
from api.accept import Runnable, Submitted, accepted_event, record_of
from api.auth import Identity
from api.context import Context
from api.entities import ACTION, TRIGGER
from api.errors import APIError, bad_request, not_found
from api.ledgerview import logged_activation
from api.lookup import Target, init_params
from api.names import EntityRef
from api.requests import blocking_wait_ms, flag, json_response
from projections import record
from streams import completion, constants
from streams.events import ActivationAccepted, Cause
from streams.messages import (
    ORIGINAL_VERSION_GONE,
    REPLAY_VERSION_ILLEGAL,
    RERUN_ENTITY_GONE,
    RERUN_TRIGGER_NO_RULE,
)

JsonDict = dict[str, Any]
VERSIONS = ("original", "current")
REPLAY_OF = "replayOf"
How = Literal["revision", "entity", "trigger"]


def how(original: ActivationAccepted, version: str) -> How:
    """How a re-run of ``original`` runs (pure).

    ``revision``: the recorded revision of an action, appended as is
    (``rerun_of``); ``entity``: an action or sequence document through
    ``Invocations.start``, as an invoke; ``trigger``: the trigger fired again.
    """
    if original.kind == constants.KIND_TRIGGER:
        return "trigger"
    if original.kind == constants.KIND_SEQUENCE or version == "current":
        return "entity"
    return "revision"


def rerun_cause(original: ActivationAccepted) -> Cause:
    return Cause(kind="replay", activation_id=original.activation_id, name=original.action)


def rerun_annotations(original: ActivationAccepted) -> list[JsonDict]:
    """The original's annotations, with ``replayOf`` naming it (a re-run of a re-run names
    only the one it re-runs)."""
    annotations = [a for a in original.annotations if a.get("key") != REPLAY_OF]
    annotations.append({"key": REPLAY_OF, "value": original.activation_id})
    return annotations


def rerun_of(
    original: ActivationAccepted,
    identity: Identity,
    *,
    source: str,
    grace_ms: int,
    blocking: bool,
    current: JsonDict | None = None,
) -> ActivationAccepted:
    """The ``accepted`` event of a re-run of the action activation ``original`` by ``identity``.

    With ``current`` (the action document as it is now) the re-run uses that
    version's code and limits; without, the original revision's. The
    parameters are the original's, merged as they were.
    """
    runnable = (
        Runnable.of_accepted(original)
        if current is None
        else Runnable.of(current, original.action, original.action_name)
    )
    return accepted_event(
        runnable,
        identity,
        original.params,
        source=source,
        blocking=blocking,
        grace_ms=grace_ms,
        cause=rerun_cause(original),
        annotations=rerun_annotations(original),
    )


def ref_of(doc_id: str) -> EntityRef:
    """``ns/name`` or ``ns/pkg/name`` as an ``EntityRef``."""
    parts = doc_id.split("/")
    if len(parts) == 3:
        return EntityRef(parts[0], parts[2], parts[1])
    return EntityRef(parts[0], parts[-1])


def _binding(original: ActivationAccepted) -> str | None:
    value = next((a.get("value") for a in original.annotations if a.get("key") == "binding"), None)
    return value if isinstance(value, str) else None


async def _entity(c: Context, original: ActivationAccepted, version: str) -> JsonDict:
    """The action or sequence document to run: the recorded revision, or the current one.

    Raises 404 (``RERUN_ENTITY_GONE``) when the action does not exist now,
    whichever the version; 409 (``ORIGINAL_VERSION_GONE``) for ``original``
    when the recorded revision is no longer stored.
    """
    current = await c.entities.get_typed(original.action, ACTION)
    if current is None:
        name = ref_of(original.action).qualified
        raise APIError(404, RERUN_ENTITY_GONE.format(kind="action", name=name))
    if version == "current":
        return current
    whisks = c.settings.database(constants.DB_WHISKS)
    doc = await c.couch.get_rev(whisks, original.action, original.action_rev)
    if doc is None:
        raise APIError(409, ORIGINAL_VERSION_GONE.format(rev=original.action_rev))
    return doc


async def start_rerun(
    c: Context, identity: Identity, original: ActivationAccepted, version: str, blocking: bool
) -> Submitted:
    """Start the re-run of ``original`` (see the module docstring for each kind)."""
    cause, annotations = rerun_cause(original), rerun_annotations(original)
    plan = how(original, version)
    if plan == "trigger":
        trigger = await c.entities.get_typed(original.action, TRIGGER)
        name = ref_of(original.action).qualified
        if trigger is None:
            raise APIError(404, RERUN_ENTITY_GONE.format(kind="trigger", name=name))
        fired = await triggers.fire(
            c,
            identity,
            trigger,
            original.params if isinstance(original.params, dict) else {},
            cause=cause,
            annotations=annotations,
        )
        if fired is None:
            raise APIError(409, RERUN_TRIGGER_NO_RULE.format(name=name))
        return fired
    if plan == "entity":
        doc = await _entity(c, original, version)
        init = (
            frozenset(original.init_args)
            if original.init_args is not None
            else init_params(doc.get("parameters"))
        )
        target = Target(
            doc, ref_of(original.action), {}, binding=_binding(original), init_names=init
        )
        return await c.invocations.start(
            identity,
            target,
            original.params,
            blocking=blocking,
            cause=cause,
            annotations=[a for a in annotations if a.get("key") != "binding"],
        )
    await _entity(c, original, version)  # 404 when deleted, 409 when the revision is gone
    c.invocations.check_invoke(identity)
    accepted = rerun_of(
        original,
        identity,
        source=c.invocations.source,
        grace_ms=c.invocations.grace_ms,
        blocking=blocking,
    )
    return await c.invocations.accept(accepted, count=True)


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
    result_only = flag(request, "result")
    blocking = flag(request, "blocking") or result_only
    submitted = await start_rerun(c, identity, original, version, blocking)
    completed = await c.invocations.wait(submitted, wait_ms) if blocking else None
    if completed is None:
        return json_response({"activationId": submitted.activation_id}, status=202)
    shown = record_of(submitted.accepted, completed)
    status = completion.http_status(completed)
    return json_response(record.blocking_body(shown, result_only), status)
