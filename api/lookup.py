"""Finding actions and packages by name, with the caller's rights, as OpenWhisk entitles them.

- A namespace's own entities: full rights.
- Another namespace's package: readable when it is public and not a binding;
  its actions may then be read and invoked. Anything else there is 403, even
  when it does not exist (existence is not disclosed).
- A binding resolves to the package it binds; parameters merge package <
  binding < action < invocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.auth import Identity
from api.entities import ACTION, PACKAGE, EntityStore, annotation
from api.errors import APIError, bad_request, not_found
from api.names import EntityRef
from streams.messages import (
    BINDING_CIRCULAR,
    NOT_ALLOWED_ON_BINDING,
    NOT_AUTHORIZED,
    NOT_AUTHORIZED_RESOURCE,
    PARAMETERS_NOT_ALLOWED,
)

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Target:
    """An action ready to invoke: its document, where it lives, its merged defaults."""

    doc: JsonDict
    ref: EntityRef
    params: dict[str, Any]
    binding: str | None = None
    # The merged parameters created with ``"init": true``: /init's environment.
    init_names: frozenset[str] = frozenset()

    @property
    def immutable(self) -> frozenset[str]:
        return immutable_params(self.doc, self.params)

    @property
    def kind(self) -> str:
        return str(self.doc["exec"]["kind"])


def as_dict(parameters: list[JsonDict] | None) -> dict[str, Any]:
    return {p["key"]: p["value"] for p in parameters or []}


def merge_params(*layers: list[JsonDict] | None) -> dict[str, Any]:
    """Parameters of several layers, later ones winning (package < binding < action)."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(as_dict(layer))
    return merged


def init_params(*layers: list[JsonDict] | None) -> frozenset[str]:
    """The merged parameters whose winning layer flags them ``"init": true``.

    As OpenWhisk's ``WhiskActionMetaData.inherit`` (``package ++ action``
    parameters, each keeping its flag) and ``Parameters.initParameters``,
    which the controller sends as the activation's ``initArgs``: a package's
    or binding's init parameter reaches ``/init`` as environment too, unless
    a later layer redefines it without the flag.
    """
    flagged: dict[str, bool] = {}
    for layer in layers:
        for p in layer or []:
            flagged[p["key"]] = p.get("init") is True
    return frozenset(k for k, init in flagged.items() if init)


def immutable_params(doc: JsonDict, merged: dict[str, Any]) -> frozenset[str]:
    """With ``final: true``, every parameter that has a value may not be overridden."""
    if annotation(doc, "final") is not True:
        return frozenset()
    return frozenset(k for k, v in merged.items() if v is not None)


def check_overrides(payload: dict[str, Any], immutable: frozenset[str]) -> None:
    """400 when the invocation sets a final parameter."""
    if any(key in immutable for key in payload):
        raise bad_request(PARAMETERS_NOT_ALLOWED)


def may_read_package(doc: JsonDict, caller: str) -> bool:
    """Own packages always; others' only when public and not bindings."""
    owner = doc["namespace"] == caller
    return owner or (bool(doc.get("publish")) and not (doc.get("binding") or {}))


def forbidden(ref: EntityRef | None = None) -> APIError:
    """403, naming the entity as OpenWhisk's entitlement check does (``ns/pkg/name``)."""
    if ref is None:
        return APIError(403, NOT_AUTHORIZED)
    return APIError(403, NOT_AUTHORIZED_RESOURCE.format(resource=ref.qualified.lstrip("/")))


async def readable_package(store: EntityStore, identity: Identity, ref: EntityRef) -> JsonDict:
    """A package the caller may read (403 for others' private or missing ones)."""
    owner = ref.namespace == identity.namespace
    doc = await store.get_typed(ref.doc_id, PACKAGE)
    if doc is None:
        raise not_found() if owner else forbidden(ref)
    if not may_read_package(doc, identity.namespace):
        raise forbidden(ref)
    return doc


async def resolve_package(
    store: EntityStore, identity: Identity, ref: EntityRef
) -> tuple[JsonDict, JsonDict | None]:
    """``(package, binding)``: the package holding the actions, and the binding that led there."""
    doc = await readable_package(store, identity, ref)
    bound = doc.get("binding") or {}
    if not bound:
        return doc, None
    target = EntityRef(str(bound.get("namespace")), str(bound.get("name")))
    if target.doc_id == ref.doc_id:
        raise APIError(422, BINDING_CIRCULAR.format(name=ref.qualified))
    real = await store.get_typed(target.doc_id, PACKAGE)
    if real is None:
        raise not_found()
    if not may_read_package(real, identity.namespace) or (real.get("binding") or {}):
        raise forbidden(target)
    return real, doc


async def writable_package(store: EntityStore, identity: Identity, ref: EntityRef) -> JsonDict:
    """A package the caller may add actions to or remove them from."""
    if ref.namespace != identity.namespace:
        raise forbidden(ref)
    doc = await store.get_typed(ref.doc_id, PACKAGE)
    if doc is None:
        raise not_found()
    if doc.get("binding"):
        raise bad_request(NOT_ALLOWED_ON_BINDING)
    return doc


async def action_target(store: EntityStore, identity: Identity, ref: EntityRef) -> Target:
    """The action ``ref`` names, readable and invocable by the caller."""
    if ref.package is None:
        if ref.namespace != identity.namespace:
            raise forbidden(ref)
        doc = await store.get_typed(ref.doc_id, ACTION)
        if doc is None:
            raise not_found()
        own = doc.get("parameters")
        return Target(doc, ref, merge_params(own), init_names=init_params(own))
    package, binding = await resolve_package(store, identity, EntityRef(ref.namespace, ref.package))
    real = EntityRef(package["namespace"], ref.name, package["name"])
    doc = await store.get_typed(real.doc_id, ACTION)
    if doc is None:
        raise not_found()
    layers = (
        package.get("parameters"),
        binding.get("parameters") if binding else None,
        doc.get("parameters"),
    )
    return Target(
        doc,
        real,
        merge_params(*layers),
        binding=binding["_id"] if binding else None,
        init_names=init_params(*layers),
    )


def forbidden_on(refs: list[EntityRef]) -> APIError:
    """403 naming every refused entity, sorted and joined by ``, `` (Entitlement.scala
    ``unauthorizedOn``: a request that references several entities, such as a rule's PUT)."""
    names = sorted({ref.qualified.lstrip("/") for ref in refs})
    return APIError(403, NOT_AUTHORIZED_RESOURCE.format(resource=", ".join(names)))


async def may_read_action(store: EntityStore, identity: Identity, ref: EntityRef) -> bool:
    """Whether the caller is entitled to read the action ``ref`` names, decided before
    anything is looked up about the action itself (OpenWhisk's ``READ`` on a referenced
    action: PackageCollection.scala ``implicitRights``).

    Its own namespace's actions; another namespace's only inside a public package that
    is not a binding; through a binding only its own, to a package it may read. A
    package that is missing (or no package) in another namespace is no right (existence
    is not disclosed); in the caller's own namespace that is left to the lookup that
    follows, which says the action does not exist.
    """
    owner = ref.namespace == identity.namespace
    if ref.package is None:
        return owner
    package = await _package_or_none(store, EntityRef(ref.namespace, ref.package).doc_id)
    if package is None:
        return owner
    bound = package.get("binding") or {}
    if not bound:
        return owner or bool(package.get("publish"))
    if not owner:
        return False
    bound_namespace = str(bound.get("namespace"))
    real = await _package_or_none(store, f"{bound_namespace}/{bound.get('name')}")
    if real is None:
        return bound_namespace == identity.namespace
    return may_read_package(real, identity.namespace)


async def _package_or_none(store: EntityStore, doc_id: str) -> JsonDict | None:
    try:
        return await store.get_typed(doc_id, PACKAGE)
    except APIError:  # another kind of entity by that name: no package to read
        return None
