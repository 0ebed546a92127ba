"""A namespace's own limits: wskadmin's ``NAMESPACE/limits`` document, read as OpenWhisk's
``UserLimits`` (pure).

Where they live: a document with the id ``NAMESPACE/limits`` in the subjects
database, holding any of ``FIELDS`` (apache/openwhisk ``tools/admin/wskadmin``
``setLimitsCmd``; read with the identity, ``common/scala/.../entity/Identity.scala``
``rowToIdentity``). An older place is still read: a ``limits`` field in the
subject record; the document's fields win over it.

What is enforced here: ``invocationsPerMinute``, ``concurrentInvocations`` and
``firesPerMinute`` (``api/throttle.py``), and ``allowedKinds`` (``check_kind``,
when an action is created or its ``exec`` replaced). The other fields are kept
and shown by ``lwsk admin limits get`` but have no effect (the README says
which).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import runtimes
from api.errors import APIError
from streams.messages import NOT_AUTHORIZED_KIND

JsonDict = dict[str, Any]

DOCUMENT_SUFFIX = "/limits"
# wskadmin's limits, in its order (``setLimitsCmd``, ``getLimitsCmd``).
FIELDS: tuple[str, ...] = (
    "invocationsPerMinute",
    "firesPerMinute",
    "concurrentInvocations",
    "allowedKinds",
    "storeActivations",
    "minActionMemory",
    "maxActionMemory",
    "minActionLogs",
    "maxActionLogs",
    "minActionTimeout",
    "maxActionTimeout",
    "minActionConcurrency",
    "maxActionConcurrency",
    "maxParameterSize",
    "maxPayloadSize",
    "truncationSize",
)


def document_id(namespace: str) -> str:
    """The id of ``namespace``'s limits document in the subjects database."""
    return namespace + DOCUMENT_SUFFIX


def merged(
    subject_limits: Mapping[str, Any] | None, document: Mapping[str, Any] | None
) -> JsonDict:
    """A namespace's limits: ``{field: value}`` for each of ``FIELDS`` that is set.

    ``subject_limits`` is the subject record's own ``limits`` field (the older
    place), ``document`` the namespace's limits document (or None); a field the
    document sets wins. Values are not checked here: their readers
    (``Allowances.of``, ``allowed_kinds``) ignore one of the wrong type, so one
    bad field does not undo the others.
    """
    out = {k: v for k, v in (subject_limits or {}).items() if k in FIELDS}
    out.update({k: v for k, v in (document or {}).items() if k in FIELDS and v is not None})
    return out


def allowed_kinds(limits: Mapping[str, Any]) -> list[str] | None:
    """The kinds ``allowedKinds`` lists, or None when every kind is allowed (the field is
    unset, empty, or not a list of strings: OpenWhisk's ``KindRestrictor`` allows all for
    an empty set)."""
    kinds = limits.get("allowedKinds")
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
        return None
    return kinds


def canonical(kinds: Iterable[str]) -> set[str]:
    """Each kind by its canonical name (``python:default`` -> ``python:3.11``); a name that
    is no kind of this platform (``sequence``, a misspelling) stays as it is."""
    out = set()
    for name in kinds:
        kind = runtimes.resolve(name)
        out.add(kind.name if kind is not None else name)
    return out


def kind_allowed(limits: Mapping[str, Any], kind: str) -> bool:
    """Whether the namespace may have actions of ``kind`` (a canonical kind name,
    ``sequence`` or ``blackbox``): OpenWhisk's ``KindRestrictor.check`` with no
    system-wide white list (``core/controller/.../entitlement/KindRestrictor.scala``).
    Aliases in ``allowedKinds`` count as their kind (OpenWhisk compares names as given)."""
    kinds = allowed_kinds(limits)
    return kinds is None or kind in canonical(kinds)


def check_kind(limits: Mapping[str, Any], kind: str) -> None:
    """Raise ``APIError`` 403 with OpenWhisk's text when ``kind`` is not allowed
    (``Entitlement.scala`` ``check(user, exec)``; ``ErrorResponse.scala``
    ``notAuthorizedtoActionKind``)."""
    if not kind_allowed(limits, kind):
        raise APIError(403, NOT_AUTHORIZED_KIND.format(kind=kind))
