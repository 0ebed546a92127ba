"""Package handlers: create/update (and bindings), get, delete, list."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api import lookup, validation
from api.auth import Identity, namespace_for, namespace_named
from api.context import Context, ctx
from api.entities import ACTION, COLLECTIONS, PACKAGE, brief, package_doc, public
from api.errors import APIError, bad_request, not_found
from api.listing import list_entities, list_paging
from api.names import DEFAULT_PACKAGE, EntityRef, check_name, is_name
from api.requests import flag, json_object, json_response, without_nulls
from streams import constants
from streams.messages import (
    BINDING_CANNOT_REFERENCE_BINDING,
    BINDING_DOES_NOT_EXIST,
    BINDING_MALFORMED,
    BINDING_NOT_A_PACKAGE,
    ENTITY_EXISTS,
    PACKAGE_CANNOT_BECOME_BINDING,
    PACKAGE_NAME_RESERVED,
    PACKAGE_NOT_EMPTY,
)

JsonDict = dict[str, Any]
BODY_MAX = 3 * constants.PARAMS_MAX_BYTES


def binding_ref(raw: Any, caller: str) -> EntityRef | None:
    """The package a ``binding`` field names (``_`` is the caller); None for no binding."""
    if raw is None or raw == {}:
        return None
    if not isinstance(raw, dict) or not all(
        isinstance(raw.get(k), str) for k in ("namespace", "name")
    ):
        raise bad_request(BINDING_MALFORMED)
    namespace = (
        caller if raw["namespace"] == constants.DEFAULT_NAMESPACE_ALIAS else raw["namespace"]
    )
    if not is_name(namespace) or not is_name(raw["name"]):
        raise bad_request(BINDING_DOES_NOT_EXIST)
    return EntityRef(namespace, raw["name"])


def document(
    ref: EntityRef, body: JsonDict, previous: JsonDict | None, binding: JsonDict
) -> JsonDict:
    """The document to store for a PUT (pure): missing fields keep their previous values."""
    old = previous or {}
    parameters = validation.key_values(body.get("parameters", old.get("parameters")), "parameters")
    annotations = validation.key_values(
        body.get("annotations", old.get("annotations")), "annotations"
    )
    validation.check_entity_sizes(parameters, annotations)
    version, publish = validation.version_and_publish(body, previous)
    return package_doc(
        ref,
        binding=binding,
        parameters=parameters,
        annotations=annotations,
        version=version,
        publish=publish,
    )


async def checked_binding(c: Context, identity: Identity, target: EntityRef) -> JsonDict:
    """The ``binding`` value for a package bound to ``target``, after OpenWhisk's checks."""
    try:
        bound = await c.entities.get_typed(target.doc_id, PACKAGE)
    except APIError as exc:
        raise APIError(409, BINDING_NOT_A_PACKAGE) from exc
    if bound is None:
        raise bad_request(BINDING_DOES_NOT_EXIST)
    if bound.get("binding"):
        raise bad_request(BINDING_CANNOT_REFERENCE_BINDING)
    if not lookup.may_read_package(bound, identity.namespace):
        raise lookup.forbidden(target)
    return {"namespace": target.namespace, "name": target.name}


async def put_package(request: web.Request) -> web.Response:
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = namespace_for(identity, request)
    ref = EntityRef(namespace, check_name(request.match_info["name"]))
    if ref.name == DEFAULT_PACKAGE:
        raise bad_request(PACKAGE_NAME_RESERVED.format(name=ref.name))
    overwrite = flag(request, "overwrite")
    body = without_nulls(await json_object(request, BODY_MAX))
    previous = await c.entities.get_typed(ref.doc_id, PACKAGE)
    if previous is not None and not overwrite:
        raise APIError(409, ENTITY_EXISTS)
    target = binding_ref(body.get("binding"), identity.namespace)
    if target is not None and previous is not None and not previous.get("binding"):
        raise APIError(409, PACKAGE_CANNOT_BECOME_BINDING)
    if target is not None:
        binding = await checked_binding(c, identity, target)
    else:
        binding = (previous or {}).get("binding") or {}
    doc = document(ref, body, previous, binding)
    stored = await c.entities.put(doc, previous)
    return json_response(public(stored))


async def get_package(request: web.Request) -> web.Response:
    """A package with its actions; a binding shows the bound package's, parameters merged."""
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = namespace_named(identity, request.match_info["namespace"])
    ref = EntityRef(namespace, check_name(request.match_info["name"]))
    package, binding = await lookup.resolve_package(c.entities, identity, ref)
    shown = public(binding or package)
    if binding is not None:
        merged = lookup.merge_params(package.get("parameters"), binding.get("parameters"))
        shown["parameters"] = [{"key": k, "value": v} for k, v in merged.items()]
    path = f"{package['namespace']}/{package['name']}"
    actions = await c.entities.list_docs(path, ACTION, constants.LIST_LIMIT_MAX, 0)
    # An action annotated "feed" is listed as a feed (WhiskPackage.scala withActions:
    # actions.partition(_.annotations.get(Parameters.Feed).isDefined)).
    summaries = [
        {"name": a["name"], "version": a["version"], "annotations": a.get("annotations", [])}
        for a in actions
    ]
    is_feed = [any(n.get("key") == "feed" for n in a["annotations"]) for a in summaries]
    shown["actions"] = [a for a, feed in zip(summaries, is_feed, strict=True) if not feed]
    shown["feeds"] = [a for a, feed in zip(summaries, is_feed, strict=True) if feed]
    return json_response(shown)


async def delete_package(request: web.Request) -> web.Response:
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = namespace_for(identity, request)
    ref = EntityRef(namespace, check_name(request.match_info["name"]))
    doc = await c.entities.get_typed(ref.doc_id, PACKAGE)
    if doc is None:
        raise not_found()
    if not doc.get("binding"):
        actions = await c.entities.list_docs(ref.doc_id, ACTION, constants.LIST_LIMIT_MAX, 0)
        if actions and not flag(request, "force"):
            raise APIError(
                409,
                PACKAGE_NOT_EMPTY.format(
                    count=len(actions), entities="entity" if len(actions) == 1 else "entities"
                ),
            )
        for action in actions:
            await c.entities.delete(action["_id"])
    await c.entities.delete(ref.doc_id)
    return json_response(public(doc))


async def list_packages(request: web.Request) -> web.Response:
    """Own packages, or another namespace's public ones."""
    c = ctx(request)
    identity = await c.auth.identify(request)
    namespace = namespace_named(identity, request.match_info["namespace"])
    if namespace == identity.namespace:
        return await list_entities(c, request, namespace, PACKAGE)
    collection = COLLECTIONS[PACKAGE]
    limit, skip = list_paging(request, collection)
    if flag(request, "count"):
        count = await c.entities.count_public_packages(namespace, skip)
        return json_response({collection: count})
    docs = await c.entities.list_public_packages(namespace, limit, skip)
    return json_response([brief(d) for d in docs])
