"""Trigger handlers: create/update, get, delete, list, and fire.

Firing a trigger with active rules writes the trigger's own activation to the
ledger (an ``accepted`` of kind ``trigger``, which no invoker runs, then its
``completed``), and starts each active rule's action as an ordinary
activation whose ``cause`` is the trigger's activation. The trigger's record
lists one JSON line per rule in ``logs``, as OpenWhisk's does.

A feed's fire (``feeds/firing.py``: a signed ``X-Ledgerwhisk-Feed-Fire``
header) brings the trigger activation's id and its ``cause``. The same fire
may come twice (the feed service died after the first was accepted and tries
it again): the first ``accepted`` of that id in the ledger holds it, as the
first ``started`` holds an activation (``streams/claims.py``); a later one is
answered with the same id and starts nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from api import lookup, validation
from api.accept import Runnable, Submitted
from api.auth import Identity, namespace_for
from api.context import Context, ctx
from api.entities import TRIGGER, public
from api.errors import APIError, bad_request, not_found
from api.listing import list_entities
from api.names import EntityRef, check_name, from_path_name, parse
from api.requests import flag, json_object, json_response, without_nulls
from feeds import firing
from streams import completion, constants, retry
from streams.errors import LedgerUnavailable
from streams.events import ACCEPTED, Cause
from streams.history import read_activation
from streams.ids import now_ms
from streams.messages import (
    ENTITY_EXISTS,
    FEED_FIRE_FORBIDDEN,
    FEED_INVALID,
    LIMITS_NOT_AN_OBJECT,
    RULE_INACTIVE,
    TOO_BIG,
)

log = logging.getLogger("ledgerwhisk.api.triggers")
JsonDict = dict[str, Any]
BODY_MAX = 3 * constants.PARAMS_MAX_BYTES
# The fire request's headers, as each rule's action gets them (as a web action's).
OW_HEADERS = "__ow_headers"
ACTIVE, INACTIVE = "active", "inactive"


def document(ref: EntityRef, body: JsonDict, previous: JsonDict | None) -> JsonDict:
    """The trigger document for a PUT (pure); an update keeps the trigger's rules."""
    old = previous or {}
    parameters = validation.key_values(body.get("parameters", old.get("parameters")), "parameters")
    annotations = validation.key_values(
        body.get("annotations", old.get("annotations")), "annotations"
    )
    validation.check_entity_sizes(parameters, annotations)
    feed = next((a["value"] for a in annotations if a["key"] == "feed"), None)
    if feed is not None and (not isinstance(feed, str) or parse(feed, ref.namespace) is None):
        raise bad_request(FEED_INVALID)
    limits = body.get("limits", old.get("limits", {}))
    if not isinstance(limits, dict):
        raise bad_request(LIMITS_NOT_AN_OBJECT)
    version, publish = validation.version_and_publish(body, previous)
    doc: JsonDict = {
        "_id": ref.doc_id,
        "entityType": TRIGGER,
        "namespace": ref.namespace,
        "name": ref.name,
        "version": version,
        "publish": publish,
        "parameters": parameters,
        "limits": {},
        "annotations": annotations,
    }
    if "rules" in old:
        doc["rules"] = old["rules"]
    return doc


def active_rules(trigger: JsonDict) -> dict[str, JsonDict]:
    return {k: v for k, v in (trigger.get("rules") or {}).items() if v.get("status") == ACTIVE}


def rule_result(rule: str, action: str, status_code: int, outcome: str, ok: bool) -> str:
    """One line of a trigger activation's logs (OpenWhisk's ``RuleActivationResult``)."""
    entry: JsonDict = {"statusCode": status_code, "success": ok, "rule": rule, "action": action}
    entry["activationId" if ok else "error"] = outcome
    return json.dumps(entry, separators=(",", ":"))


def trigger_ref(request: web.Request, identity: Identity) -> EntityRef:
    namespace = namespace_for(identity, request)
    return EntityRef(namespace, check_name(request.match_info["name"]))


async def put_trigger(request: web.Request) -> web.Response:
    c = ctx(request)
    identity = await c.auth.identify(request)
    ref = trigger_ref(request, identity)
    overwrite = flag(request, "overwrite")
    body = without_nulls(await json_object(request, BODY_MAX))
    previous = await c.entities.get_typed(ref.doc_id, TRIGGER)
    if previous is not None and not overwrite:
        raise APIError(409, ENTITY_EXISTS)
    stored = await c.entities.put(document(ref, body, previous), previous)
    return json_response(public(stored))


async def _existing(c: Context, request: web.Request) -> tuple[Identity, JsonDict]:
    identity = await c.auth.identify(request)
    ref = trigger_ref(request, identity)
    doc = await c.entities.get_typed(ref.doc_id, TRIGGER)
    if doc is None:
        raise not_found()
    return identity, doc


async def get_trigger(request: web.Request) -> web.Response:
    _identity, doc = await _existing(ctx(request), request)
    return json_response(public(doc))


async def delete_trigger(request: web.Request) -> web.Response:
    c = ctx(request)
    _identity, doc = await _existing(c, request)
    await c.entities.delete(doc["_id"])
    return json_response(public(doc))


async def list_triggers(request: web.Request) -> web.Response:
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = namespace_for(identity, request)
    return await list_entities(c, request, namespace, TRIGGER)


async def fire_trigger(request: web.Request) -> web.Response:
    """202 with the trigger's activation id, or 204 when no rule is active."""
    c = ctx(request)
    identity, trigger = await _existing(c, request)
    payload = await json_object(request, constants.PAYLOAD_MAX_BYTES, required=False)
    feed = await feed_fire(c, request, trigger["_id"])
    submitted = await fire(c, identity, trigger, payload, feed=feed, headers=ow_headers(request))
    if submitted is None:
        return web.Response(status=204)
    return fired(submitted.activation_id)


async def fire(
    c: Context,
    identity: Identity,
    trigger: JsonDict,
    payload: JsonDict,
    *,
    cause: Cause | None = None,
    annotations: Iterable[JsonDict] = (),
    feed: firing.FeedFire | None = None,
    headers: dict[str, str] | None = None,
) -> Submitted | None:
    """Fire ``trigger`` with ``payload``: its activation, completed once its rules' actions
    are started; None (and nothing appended) when it has no active rule.

    Each rule's action gets the trigger's parameters, then ``__ow_headers`` (the fire
    request's ``headers``, when it came over HTTP), then the payload, later ones
    winning (OpenWhisk's Triggers.scala ``fire``); the trigger's record keeps the
    payload alone.

    Throttled as a fire (429). Used by ``POST .../triggers/{name}`` and by a
    re-run of a trigger's activation (``api/rerun.py``), which gives ``cause``
    and ``annotations``. A feed's fire (``feed``) brings the activation's id and
    cause; a second try of the same fire starts nothing (``holds``).
    """
    c.invocations.check_fire(identity)
    if not active_rules(trigger):
        return None
    # The trigger's own activation: no invoker runs it; this process completes it
    # once its rules' actions are started (the controller, should this process die).
    accepted = c.invocations.event(
        Runnable.of(trigger, trigger["_id"], trigger["name"]),
        identity,
        payload,
        blocking=False,
        cause=Cause(kind="feed", activation_id=feed.cause_id, name=feed.feed) if feed else cause,
        annotations=annotations,
        deadline_ms=now_ms() + 3 * c.invocations.grace_ms,
        activation_id=feed.fire_id if feed else None,
    )
    submitted = await c.invocations.accept(accepted, count=False)
    activation_id = accepted.activation_id
    if feed is not None and not await holds(c, submitted.offset, activation_id):
        return submitted
    args = rule_args(trigger, payload, headers)
    size = request_bytes(args)
    logs = [
        await fire_rule(c, identity, activation_id, rule, link, args, size)
        for rule, link in (trigger.get("rules") or {}).items()
    ]
    source = c.invocations.source
    await c.invocations.complete(completion.of_trigger(accepted, payload, logs, now_ms(), source))
    return submitted


def rule_args(trigger: JsonDict, payload: JsonDict, headers: dict[str, str] | None) -> JsonDict:
    """The arguments each rule's action is invoked with: the trigger's parameters, then
    ``__ow_headers``, then the payload, later ones winning (Triggers.scala ``activate``:
    ``trigger.parameters.merge(headers ++ payload)``, the body of its internal POST)."""
    return {
        **lookup.as_dict(trigger.get("parameters")),
        **({OW_HEADERS: headers} if headers is not None else {}),
        **payload,
    }


def request_bytes(args: JsonDict) -> int:
    """The size in bytes of the request OpenWhisk posts to start a rule's action: its
    entity is the arguments' compact JSON (Triggers.scala ``postActivation``,
    ``args.compactPrint``), which the ACTIVATE size check then measures."""
    return len(json.dumps(args, separators=(",", ":"), ensure_ascii=False).encode())


def check_rule_size(size: int) -> None:
    """413 when a rule's request of ``size`` bytes is over the payload limit: checked before
    the action is looked up, as OpenWhisk checks the size before the route runs."""
    if size > constants.PAYLOAD_MAX_BYTES:
        raise APIError(
            413, TOO_BIG.format(field="Request", size=size, limit=constants.PAYLOAD_MAX_BYTES)
        )


def ow_headers(request: web.Request) -> dict[str, str]:
    """A fire request's headers as OpenWhisk passes them to its rules' actions: names in
    lower case, the last of a repeated one. The feed service's signed proof of a fire is
    left out: it is ours, not the caller's."""
    return {
        name.lower(): value
        for name, value in request.headers.items()
        if name.lower() != firing.HEADER.lower()
    }


def fired(activation_id: str) -> web.Response:
    return json_response(
        {"activationId": activation_id},
        status=202,
        headers={"x-openwhisk-activation-id": activation_id},
    )


async def feed_fire(c: Context, request: web.Request, trigger_path: str) -> firing.FeedFire | None:
    """The feed's fire a request carries (None for any other client); 403 when its proof
    does not match: only the feed service, which reads the system key, signs fires."""
    value = request.headers.get(firing.HEADER)
    if value is None:
        return None
    system = await c.auth.owner_of(constants.SYSTEM_NAMESPACE)
    fire = firing.verified(value, system.auth, trigger_path) if system else None
    if fire is None:
        raise APIError(403, FEED_FIRE_FORBIDDEN)
    return fire


async def holds(c: Context, offset: int, activation_id: str) -> bool:
    """Whether the ``accepted`` at ``offset`` is the first of ``activation_id`` in the ledger.

    Read until the ledger answers: an ``accepted`` appended and never followed
    by its rules would make the fire's next try a duplicate of a fire that ran
    nothing.
    """
    events = await retry.until_done(
        lambda: read_activation(c.settings, activation_id),
        what=f"reading back the feed's fire {activation_id}",
        retry_on=LedgerUnavailable,
        log=log,
    )
    first = next((e for e in events if e.event.type == ACCEPTED), None)
    return first is None or first.offset == offset


async def fire_rule(
    c: Context,
    identity: Identity,
    trigger_id: str,
    rule: str,
    link: JsonDict,
    args: JsonDict,
    size: int,
) -> str:
    """Start one rule's action with ``args`` (``size``: their ``request_bytes``); the log
    line saying what happened.

    The action is started only when its own invoke would take these arguments, as
    OpenWhisk's rules go through the controller's ``POST .../actions/NAME``: a refusal
    (over the size limit, a final parameter set, no such action) is the line's error.
    """
    action = from_path_name(link.get("action"))
    action_name = action.doc_id if action else str(link.get("action"))
    if link.get("status") != ACTIVE:
        message = RULE_INACTIVE.format(rule=rule, action=action_name)
        return rule_result(rule, action_name, constants.STATUS_APPLICATION_ERROR, message, False)
    try:
        check_rule_size(size)
        if action is None:
            raise not_found()
        target = await lookup.action_target(c.entities, identity, action)
        # The trigger's parameters and __ow_headers take part: all of them are the body.
        lookup.check_overrides(args, target.immutable)
        submitted = await c.invocations.start(
            identity,
            target,
            args,
            blocking=False,
            cause=Cause(kind="rule", activation_id=trigger_id, name=rule),
        )
    except APIError as exc:
        code = completion.activation_status(exc.status)
        return rule_result(rule, action_name, code, exc.message, False)
    return rule_result(rule, action_name, constants.STATUS_SUCCESS, submitted.activation_id, True)
