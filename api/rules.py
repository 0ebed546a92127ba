"""Rule handlers: create/update, get, delete, list, enable/disable.

A rule's status lives on its trigger (``rules`` map: rule -> action and
status), as in OpenWhisk; the rule document names its trigger and action.
Writes touch two documents: the trigger first, then the rule; a failed rule
write puts the trigger back, so no half-made rule is left behind.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from api import lookup, validation
from api.auth import Identity, namespace_for
from api.context import Context, ctx
from api.entities import RULE, TRIGGER, brief, public
from api.errors import APIError, bad_request, malformed_body, not_found
from api.listing import list_paging
from api.names import EntityRef, check_name, from_path_name, fully_qualified
from api.requests import flag, json_object, json_response, without_nulls
from api.triggers import ACTIVE, INACTIVE
from streams import constants
from streams.messages import (
    ENTITY_EXISTS,
    RULE_ACTION_MISSING_NAMED,
    RULE_NEEDS_TRIGGER_AND_ACTION,
    RULE_STATUS_KEY_MISSING,
    RULE_STATUS_NOT_A_STRING,
    RULE_STATUS_NOT_RECOGNIZED,
    RULE_STATUS_UNDEFINED,
    RULE_TRIGGER_MISSING,
    RULE_TRIGGER_MISSING_NAMED,
)

JsonDict = dict[str, Any]
BODY_MAX = 2 * constants.PARAMS_MAX_BYTES


def status_of(trigger: JsonDict | None, rule_id: str) -> str:
    if trigger is None:
        return INACTIVE
    link = (trigger.get("rules") or {}).get(rule_id)
    return str(link.get("status", INACTIVE)) if link else INACTIVE


def with_link(trigger: JsonDict, rule_id: str, link: JsonDict | None) -> JsonDict:
    """The trigger with the rule's link set (or removed when ``link`` is None)."""
    rules = {k: v for k, v in (trigger.get("rules") or {}).items() if k != rule_id}
    if link is not None:
        rules[rule_id] = link
    return {**trigger, "rules": rules}


def requested_status(body: JsonDict) -> str:
    """The status a rule's ``POST`` asks for, read as WhiskRule.scala
    ``Status.serdesRestricted`` reads it: a JSON string, trimmed, ``active`` or
    ``inactive``; 400 ``The request content was malformed:`` with its text otherwise."""
    if "status" not in body:
        raise malformed_body(RULE_STATUS_KEY_MISSING)
    value = body["status"]
    if not isinstance(value, str):
        raise malformed_body(not_a_string(value))
    status = value.strip()
    if not status:
        raise malformed_body(RULE_STATUS_UNDEFINED)
    if status not in (ACTIVE, INACTIVE):
        raise malformed_body(RULE_STATUS_NOT_RECOGNIZED.format(status=status))
    return status


def not_a_string(value: object) -> str:
    """What Scala's MatchError says of a JSON value that is no string: the value as
    compact JSON and its spray-json class."""
    if value is None:
        json_class = "JsNull$"
    elif isinstance(value, bool):
        json_class = "JsTrue$" if value else "JsFalse$"
    elif isinstance(value, dict):
        json_class = "JsObject"
    elif isinstance(value, list):
        json_class = "JsArray"
    else:
        json_class = "JsNumber"
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return RULE_STATUS_NOT_A_STRING.format(value=text, json_class=json_class)


def shown(rule: JsonDict, status: str) -> JsonDict:
    """A rule as OpenWhisk answers it: the document plus its status."""
    out = public(rule)
    out["status"] = status
    return out


def referenced(body: JsonDict, namespace: str) -> dict[str, EntityRef]:
    """The ``trigger`` and ``action`` a rule's PUT names (those it names), read as OpenWhisk
    reads a FullyQualifiedEntityName (``api.names.fully_qualified``: a string whose first
    segment is the namespace, or the ``{"path", "name"}`` object the API answers).

    400 ``The request content was malformed:`` for a name without namespace or that is
    no name; 400 ``rule requires a valid trigger and a valid action`` for one of more
    than three parts.
    """
    refs: dict[str, EntityRef] = {}
    for field in ("trigger", "action"):
        if field in body:
            ref = fully_qualified(body[field], namespace)
            if ref is None:
                raise bad_request(RULE_NEEDS_TRIGGER_AND_ACTION)
            refs[field] = ref
    return refs


async def check_entitled(c: Context, identity: Identity, refs: dict[str, EntityRef]) -> None:
    """403 naming each referenced entity the caller may not read, before anything is
    looked up about them (Rules.scala ``create``: ``entitlementProvider.check(user, READ,
    referencedEntities(request))`` before ``putEntity``). A trigger is the owner's only."""
    refused = []
    trigger = refs.get("trigger")
    if trigger is not None and trigger.namespace != identity.namespace:
        refused.append(trigger)
    action = refs.get("action")
    if action is not None and not await lookup.may_read_action(c.entities, identity, action):
        refused.append(action)
    if refused:
        raise lookup.forbidden_on(refused)


async def trigger_for_rule(c: Context, identity: Identity, ref: EntityRef) -> JsonDict:
    if ref.package is not None:
        raise bad_request(RULE_TRIGGER_MISSING_NAMED.format(name=ref.qualified))
    if ref.namespace != identity.namespace:
        raise lookup.forbidden(ref)
    try:
        trigger = await c.entities.get_typed(ref.doc_id, TRIGGER)
    except APIError:
        trigger = None
    if trigger is None:
        raise bad_request(RULE_TRIGGER_MISSING_NAMED.format(name=ref.qualified))
    return trigger


async def check_action(c: Context, identity: Identity, ref: EntityRef) -> None:
    try:
        await lookup.action_target(c.entities, identity, ref)
    except APIError as exc:
        if exc.status in (404, 409):
            raise bad_request(RULE_ACTION_MISSING_NAMED.format(name=ref.qualified)) from exc
        raise


def rule_ref(request: web.Request, identity: Identity) -> EntityRef:
    namespace = namespace_for(identity, request)
    return EntityRef(namespace, check_name(request.match_info["name"]))


async def _put_trigger(c: Context, trigger: JsonDict) -> JsonDict:
    current = await c.entities.get_typed(trigger["_id"], TRIGGER)
    if current is None:
        raise not_found()
    return await c.entities.put({**trigger, "_rev": current["_rev"]}, current)


async def put_rule(request: web.Request) -> web.Response:
    c = ctx(request)
    identity = await c.auth.identify(request)
    ref = rule_ref(request, identity)
    overwrite = flag(request, "overwrite")
    body = without_nulls(await json_object(request, BODY_MAX))
    given = referenced(body, identity.namespace)
    await check_entitled(c, identity, given)
    previous = await c.entities.get_typed(ref.doc_id, RULE)
    if previous is not None and not overwrite:
        raise APIError(409, ENTITY_EXISTS)
    old = previous or {}
    trigger_ref = given.get("trigger") or from_path_name(old.get("trigger"))
    action_ref = given.get("action") or from_path_name(old.get("action"))
    if trigger_ref is None or action_ref is None:
        raise bad_request(RULE_NEEDS_TRIGGER_AND_ACTION)
    trigger = await trigger_for_rule(c, identity, trigger_ref)
    await check_action(c, identity, action_ref)
    annotations = validation.key_values(
        body.get("annotations", old.get("annotations")), "annotations"
    )
    validation.check_entity_sizes([], annotations)
    version, publish = validation.version_and_publish(body, previous)
    doc = {
        "_id": ref.doc_id,
        "entityType": RULE,
        "namespace": ref.namespace,
        "name": ref.name,
        "version": version,
        "publish": publish,
        "annotations": annotations,
        "trigger": trigger_ref.as_path_name(),
        "action": action_ref.as_path_name(),
    }
    old_trigger_ref = from_path_name(old.get("trigger")) if previous else None
    old_trigger = None
    if old_trigger_ref is not None and old_trigger_ref.doc_id != trigger_ref.doc_id:
        old_trigger = await c.entities.get_typed(old_trigger_ref.doc_id, TRIGGER)
    status = ACTIVE
    if previous is not None:
        status = status_of(old_trigger if old_trigger is not None else trigger, ref.doc_id)
    link = {"action": action_ref.as_path_name(), "status": status}
    await c.entities.put(with_link(trigger, ref.doc_id, link), trigger)
    try:
        stored = await c.entities.put(doc, previous)
    except Exception:
        # Put the trigger back as it was: no link to a rule that was not written.
        await _put_trigger(c, trigger)
        raise
    if old_trigger is not None:
        await c.entities.put(with_link(old_trigger, ref.doc_id, None), old_trigger)
    return json_response(shown(stored, status))


async def _existing(c: Context, request: web.Request) -> tuple[Identity, JsonDict]:
    identity = await c.auth.identify(request)
    ref = rule_ref(request, identity)
    doc = await c.entities.get_typed(ref.doc_id, RULE)
    if doc is None:
        raise not_found()
    return identity, doc


async def _trigger_of(c: Context, rule: JsonDict) -> JsonDict | None:
    ref = from_path_name(rule.get("trigger"))
    if ref is None:
        return None
    try:
        return await c.entities.get_typed(ref.doc_id, TRIGGER)
    except APIError:
        return None


async def get_rule(request: web.Request) -> web.Response:
    c = ctx(request)
    _identity, rule = await _existing(c, request)
    return json_response(shown(rule, status_of(await _trigger_of(c, rule), rule["_id"])))


async def delete_rule(request: web.Request) -> web.Response:
    c = ctx(request)
    _identity, rule = await _existing(c, request)
    trigger = await _trigger_of(c, rule)
    if trigger is not None and rule["_id"] in (trigger.get("rules") or {}):
        await c.entities.put(with_link(trigger, rule["_id"], None), trigger)
    await c.entities.delete(rule["_id"])
    return json_response(shown(rule, INACTIVE))


async def set_rule_status(request: web.Request) -> web.Response:
    """``POST`` ``{"status": "active" | "inactive"}``: enable or disable the rule.

    As Rules.scala ``activate``: the body is read before the rule is looked up; a rule
    whose trigger is gone is inactive, so disabling it is done already (200) and only
    enabling it is 404.
    """
    c = ctx(request)
    identity = await c.auth.identify(request)
    ref = rule_ref(request, identity)
    wanted = requested_status(await json_object(request, BODY_MAX))
    rule = await c.entities.get_typed(ref.doc_id, RULE)
    if rule is None:
        raise not_found()
    trigger = await _trigger_of(c, rule)
    if trigger is None:
        if wanted == INACTIVE:
            return json_response({})
        raise APIError(404, RULE_TRIGGER_MISSING)
    if status_of(trigger, rule["_id"]) != wanted:
        link = {"action": rule["action"], "status": wanted}
        await c.entities.put(with_link(trigger, rule["_id"], link), trigger)
    return json_response({})


async def list_rules(request: web.Request) -> web.Response:
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = namespace_for(identity, request)
    limit, skip = list_paging(request, "rules")
    if flag(request, "count"):
        return json_response({"rules": await c.entities.count(namespace, RULE, skip)})
    rules = await c.entities.list_docs(namespace, RULE, limit, skip)
    out = []
    for rule in rules:
        entry = brief(rule)
        entry["status"] = status_of(await _trigger_of(c, rule), rule["_id"])
        out.append(entry)
    return json_response(out)
