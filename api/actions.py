"""Action handlers: create, update, get, delete, list, invoke."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from api import validation
from api.auth import resolve_namespace
from api.context import ctx
from api.entities import doc_id, public
from api.errors import (
    CONFLICT,
    ENTITY_EXISTS,
    INVALID_TIMEOUT,
    APIError,
    bad_request,
    not_found,
)
from api.requests import flag, integer, json_body, json_response, paging
from projections import record
from projections.couch import Conflict
from streams import constants
from streams.events import (
    ACCEPTED,
    COMPLETED,
    ActivationAccepted,
    ActivationCompleted,
    Limits,
)
from streams.ids import new_activation_id, now_ms

# An action's code may be far larger than an invocation's payload (zip files).
ACTION_BODY_MAX = 48 * 1024 * 1024


def action_name(request: web.Request) -> str:
    name = request.match_info["name"]
    package = request.match_info.get("package")
    validation.check_name(name)
    if package:
        validation.check_name(package)
        return f"{package}/{name}"
    return name


async def put_action(request: web.Request) -> web.Response:
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = resolve_namespace(identity, request.match_info["namespace"])
    name = action_name(request)
    body = await json_body(request, ACTION_BODY_MAX)
    if not isinstance(body, dict):
        raise bad_request("The request content must be a JSON object.")
    entity_id = doc_id(namespace, name)
    previous = await c.entities.get(entity_id)
    overwrite = flag(request, "overwrite")
    if previous is not None and not overwrite:
        raise APIError(409, ENTITY_EXISTS)
    if previous is None and "exec" not in body:
        raise bad_request(validation.EXEC_MISSING)
    exec_ = validation.check_exec(body["exec"]) if "exec" in body else previous["exec"]  # type: ignore[index]
    parameters = validation.key_values(
        body.get("parameters", (previous or {}).get("parameters")), "parameters"
    )
    validation.check_size("Parameters", parameters, constants.PARAMS_MAX_BYTES)
    annotations = validation.key_values(
        body.get("annotations", (previous or {}).get("annotations")), "annotations"
    )
    limits = validation.check_limits(body.get("limits"), (previous or {}).get("limits"))
    package, _, short = name.rpartition("/")
    doc: dict[str, Any] = {
        "_id": entity_id,
        "entityType": "action",
        "namespace": f"{namespace}/{package}" if package else namespace,
        "name": short,
        "version": validation.bump_version(previous["version"]) if previous else "0.0.1",
        "publish": bool(body.get("publish", (previous or {}).get("publish", False))),
        "exec": exec_,
        "parameters": parameters,
        "annotations": annotations,
        "limits": limits,
    }
    if package:
        doc["package"] = package
    try:
        stored = await c.entities.put(doc, previous)
    except Conflict as exc:
        raise APIError(409, CONFLICT) from exc
    return json_response(public(stored))


async def get_action(request: web.Request) -> web.Response:
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = resolve_namespace(identity, request.match_info["namespace"])
    doc = await c.entities.get(doc_id(namespace, action_name(request)))
    if doc is None or doc.get("entityType") != "action":
        raise not_found()
    with_code = request.query.get("code", "true").lower() != "false"
    return json_response(public(doc, with_code))


async def delete_action(request: web.Request) -> web.Response:
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = resolve_namespace(identity, request.match_info["namespace"])
    entity_id = doc_id(namespace, action_name(request))
    doc = await c.entities.get(entity_id)
    if doc is None or doc.get("entityType") != "action":
        raise not_found()
    await c.entities.delete(entity_id)
    return json_response(public(doc))


async def list_actions(request: web.Request) -> web.Response:
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = resolve_namespace(identity, request.match_info["namespace"])
    limit, skip = paging(request, "actions")
    docs = await c.entities.list(namespace, "action", limit, skip)
    return json_response([public(d, with_code=False) for d in docs])


def _status_for(completed: ActivationCompleted) -> int:
    code = completed.response.status_code
    if code == constants.STATUS_SUCCESS:
        return 200
    if code in (constants.STATUS_APPLICATION_ERROR, constants.STATUS_DEVELOPER_ERROR):
        return 502
    reason = next((a["value"] for a in completed.annotations if a.get("key") == "reason"), None)
    # The controller refused it: no invoker or no room (503), namespace over its limit (429).
    return {"no_invoker": 503, "no_capacity": 503, "throttled": 429}.get(str(reason), 500)


async def invoke_action(request: web.Request) -> web.Response:
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = resolve_namespace(identity, request.match_info["namespace"])
    name = action_name(request)
    doc = await c.entities.get(doc_id(namespace, name))
    if doc is None or doc.get("entityType") != "action":
        raise not_found()
    body = await json_body(request, constants.PAYLOAD_MAX_BYTES, required=False)
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_request("The request content must be a JSON object.")
    blocking = flag(request, "blocking")
    wait_ms = integer(request, "timeout", constants.BLOCKING_WAIT_MAX_MS, "timeout")
    if not 0 < wait_ms <= constants.BLOCKING_WAIT_MAX_MS:
        raise bad_request(INVALID_TIMEOUT.format(max=constants.BLOCKING_WAIT_MAX_MS))
    params = {p["key"]: p["value"] for p in doc.get("parameters", [])}
    params.update(body)
    limits = doc["limits"]
    at = now_ms()
    activation_id = new_activation_id(at)
    accepted = ActivationAccepted(
        activation_id=activation_id,
        seq=1,
        at_ms=at,
        namespace=namespace,
        source=c.settings.api_instance,
        action=doc["_id"],
        action_name=name,
        action_version=doc["version"],
        action_rev=doc["_rev"],
        kind=doc["exec"]["kind"],
        image=doc["exec"].get("image"),
        main=doc["exec"].get("main"),
        params=params,
        limits=Limits(
            timeout_ms=limits["timeout"],
            memory_mb=limits["memory"],
            logs_mb=limits["logs"],
            concurrency=limits.get("concurrency", 1),
        ),
        subject=identity.subject,
        blocking=blocking,
        deadline_ms=at + limits["timeout"] + int(c.settings.completion_grace_s * 1000),
        reply_to=c.settings.api_instance,
    )
    waiter = c.ledger.expect(activation_id) if blocking else None
    try:
        await c.ledger.append(accepted)
    except BaseException:
        c.ledger.forget(activation_id)
        raise
    if waiter is None:
        return json_response({"activationId": activation_id}, status=202)
    try:
        completed = await asyncio.wait_for(waiter, wait_ms / 1000)
    except TimeoutError:
        c.ledger.forget(activation_id)
        return json_response({"activationId": activation_id}, status=202)
    shown = record.public_view(
        record.render(
            activation_id,
            {ACCEPTED: record.part_of(accepted), COMPLETED: record.part_of(completed)},
        )
    )
    status = _status_for(completed)
    if flag(request, "result"):
        return json_response(shown["response"]["result"], status)
    return json_response(shown, status)
