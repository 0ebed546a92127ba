"""Action handlers: create/update, get, delete, list, invoke — in a namespace or a package."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api import lookup, sequences, userlimits, validation
from api.accept import record_of
from api.auth import Identity, namespace_for, namespace_named
from api.context import Context, ctx
from api.entities import ACTION, action_doc, default_limits, public
from api.errors import APIError, bad_request, malformed_body, not_found
from api.listing import list_entities
from api.names import EntityRef, check_name
from api.requests import blocking_wait_ms, flag, json_object, json_response, without_nulls
from projections import record
from streams import completion, constants
from streams.messages import ENTITY_EXISTS, EXEC_MISSING

JsonDict = dict[str, Any]
# An action's code may be far larger than an invocation's payload (zip files).
ACTION_BODY_MAX = constants.EXEC_MAX_BYTES + 2 * constants.PARAMS_MAX_BYTES


def action_ref(request: web.Request, namespace: str) -> EntityRef:
    name = check_name(request.match_info["name"])
    package = request.match_info.get("package")
    return EntityRef(namespace, name, check_name(package) if package else None)


# A sequence's one parameter: its components (OpenWhisk's Actions.scala).
SEQUENCE_COMPONENTS = "_actions"


def document(
    ref: EntityRef,
    body: JsonDict,
    previous: JsonDict | None,
    exec_: JsonDict,
    namespace_concurrency: int | None = None,
) -> JsonDict:
    """The document to store for a PUT, OpenWhisk's create/update rules (pure).

    On update, missing fields keep their previous values, annotations merge
    (the request's win) and the version's patch number goes up. A new action
    the request does not annotate ``provide-api-key`` is stored with it
    ``false``: it runs without its caller's key unless granted (OpenWhisk's
    Actions.scala ``amendAnnotations``, on create only).
    """
    old = previous or {}
    sequence = constants.KIND_SEQUENCE in (exec_["kind"], old.get("exec", {}).get("kind"))
    if exec_["kind"] == constants.KIND_SEQUENCE:
        # A sequence's only parameter names its components; a request's are discarded
        # (OpenWhisk's Actions.scala create and update, "_actions").
        parameters = (
            old.get("parameters") or []
            if "exec" not in body and previous is not None
            else [{"key": SEQUENCE_COMPONENTS, "value": list(exec_.get("components") or [])}]
        )
    else:
        if "parameters" in body:
            raw_parameters = body["parameters"]
        else:
            # Parameters never carry over from a sequence (OpenWhisk's rule).
            raw_parameters = None if sequence else old.get("parameters")
        parameters = validation.key_values(raw_parameters, "parameters")
    given = validation.key_values(body.get("annotations"), "annotations")
    if previous is not None:
        kept = {a["key"]: a for a in old.get("annotations", [])}
        # An update's delAnnotations go first, then its annotations (Actions.scala update).
        for key in deleted_annotations(body.get("delAnnotations")):
            kept.pop(key, None)
        kept.update({a["key"]: a for a in given})
        annotations = list(kept.values())
    elif any(a["key"] == constants.ANNOTATION_PROVIDE_API_KEY for a in given):
        annotations = given
    else:
        annotations = [*given, {"key": constants.ANNOTATION_PROVIDE_API_KEY, "value": False}]
    validation.check_entity_sizes(parameters, annotations)
    version, publish = validation.version_and_publish(body, previous)
    return action_doc(
        ref,
        exec_=exec_,
        parameters=parameters,
        annotations=annotations,
        limits=validation.check_limits(
            body.get("limits"), old.get("limits") or default_limits(), namespace_concurrency
        ),
        version=version,
        publish=publish,
    )


def deleted_annotations(value: Any) -> list[str]:
    """The keys of an update's ``delAnnotations`` (an array of strings, OpenWhisk's
    ``WhiskActionPut``); 400 for anything else."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise malformed_body("delAnnotations must be an array of strings")
    return value


async def put_action(request: web.Request) -> web.Response:
    c = ctx(request)
    identity = await c.auth.identify(request)
    ref = action_ref(request, namespace_for(identity, request))
    overwrite = flag(request, "overwrite")
    # A field given as null is no field (spray-json reads it as None): an update keeps it.
    body = without_nulls(await json_object(request, ACTION_BODY_MAX))
    if ref.package:
        await lookup.writable_package(c.entities, identity, EntityRef(ref.namespace, ref.package))
    given = validation.check_exec(body["exec"]) if "exec" in body else None
    if given is not None:
        # Only a request that gives an exec is checked, before the conflict check
        # (OpenWhisk's Actions.scala create: entitlementProvider.check(user, content.exec)).
        userlimits.check_kind(identity.limits, given["kind"])
    previous = await c.entities.get_typed(ref.doc_id, ACTION)
    if previous is not None and not overwrite:
        raise APIError(409, ENTITY_EXISTS)
    if given is not None:
        exec_ = given
    elif previous is not None:
        exec_ = previous["exec"]
    else:
        raise bad_request(EXEC_MISSING)
    if exec_["kind"] == constants.KIND_SEQUENCE and "exec" in body:
        refs = sequences.component_refs(exec_, identity.namespace)
        await sequences.check_components(c.entities, identity, ref, refs)
        exec_ = {**exec_, "components": [r.qualified for r in refs]}
    allowed = c.invocations.allowances(identity)
    doc = document(ref, body, previous, exec_, allowed.concurrent)
    stored = await c.entities.put(doc, previous)
    return json_response(public(stored))


async def _target(c: Context, request: web.Request) -> tuple[Identity, lookup.Target]:
    identity = await c.auth.identify(request)
    ref = action_ref(request, namespace_named(identity, request.match_info["namespace"]))
    return identity, await lookup.action_target(c.entities, identity, ref)


async def get_action(request: web.Request) -> web.Response:
    c = ctx(request)
    _identity, target = await _target(c, request)
    with_code = flag(request, "code", default=True)
    shown = public(target.doc, with_code)
    # Parameters created with "init": true keep the flag (OpenWhisk's Parameter.scala),
    # the package's and binding's too (WhiskActionMetaData.inherit).
    shown["parameters"] = [
        {"key": k, "value": v, **({"init": True} if k in target.init_names else {})}
        for k, v in target.params.items()
    ]
    return json_response(shown)


async def delete_action(request: web.Request) -> web.Response:
    c = ctx(request)
    identity = await c.auth.identify(request)
    ref = action_ref(request, namespace_for(identity, request))
    if ref.package:
        await lookup.writable_package(c.entities, identity, EntityRef(ref.namespace, ref.package))
    doc = await c.entities.get_typed(ref.doc_id, ACTION)
    if doc is None:
        raise not_found()
    await c.entities.delete(ref.doc_id)
    return json_response(public(doc))


async def list_actions(request: web.Request) -> web.Response:
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = namespace_for(identity, request)
    return await list_entities(c, request, namespace, ACTION)


async def list_package_actions(request: web.Request) -> web.Response:
    """``GET .../actions/{package}/``: the actions of a package (or of what a binding binds)."""
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = namespace_named(identity, request.match_info["namespace"])
    ref = EntityRef(namespace, check_name(request.match_info["package"]))
    package, _binding = await lookup.resolve_package(c.entities, identity, ref)
    path = f"{package['namespace']}/{package['name']}"
    return await list_entities(c, request, path, ACTION)


async def invoke_action(request: web.Request) -> web.Response:
    c = ctx(request)
    blocking = flag(request, "blocking")
    result_only = flag(request, "result")
    wait_ms = blocking_wait_ms(request)
    identity, target = await _target(c, request)
    payload = await json_object(request, constants.PAYLOAD_MAX_BYTES, required=False)
    lookup.check_overrides(payload, target.immutable)
    submitted = await c.invocations.start(identity, target, payload, blocking=blocking)
    headers = {"x-openwhisk-activation-id": submitted.activation_id}
    accepted = {"activationId": submitted.activation_id}
    if not blocking:
        return json_response(accepted, status=202, headers=headers)
    completed = await c.invocations.wait(submitted, wait_ms)
    if completed is None:
        return json_response(accepted, status=202, headers=headers)
    shown = record_of(submitted.accepted, completed)
    status = completion.http_status(completed)
    return json_response(record.blocking_body(shown, result_only), status, headers)
