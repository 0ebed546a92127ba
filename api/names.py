"""Entity names and paths as OpenWhisk spells them: ``/ns/pkg/name``, ``pkg/name``, ``_``.

Pure functions: parse, validate and resolve names against the caller's namespace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from api.errors import bad_request, malformed_body
from streams import constants
from streams.messages import NAME_ILLEGAL, NAME_NOT_QUALIFIED, NAME_TOO_LONG

# OpenWhisk's entity name pattern (EntityName.REGEX, core/.../entity/EntityPath.scala:
# ``\A([\w]|[\w][\w@ .&-]{0,254}[\w@.&-])\z``), where ``\w`` is Java's: ASCII letters,
# digits and ``_`` only. The length is checked apart, for its own message.
NAME_RE = re.compile(r"\A([\w]|[\w][\w@ .&-]*[\w@.&-])\Z", re.ASCII)
PATHSEP = "/"
# FullyQualifiedEntityName.serdes's text for a name it cannot read.
NAME_MALFORMED = "fully qualified name malformed"
DEFAULT_PACKAGE = "default"


def is_name(value: str) -> bool:
    return len(value) <= constants.ENTITY_NAME_MAX and bool(NAME_RE.match(value))


def check_name(name: str) -> str:
    """``name`` when it is a legal entity name; 400 with OpenWhisk's message otherwise."""
    if len(name) > constants.ENTITY_NAME_MAX:
        raise bad_request(NAME_TOO_LONG.format(size=len(name), limit=constants.ENTITY_NAME_MAX))
    if not NAME_RE.match(name):
        raise bad_request(NAME_ILLEGAL)
    return name


@dataclass(frozen=True)
class EntityRef:
    """A fully qualified entity name: namespace, optional package, name."""

    namespace: str
    name: str
    package: str | None = None

    @property
    def path(self) -> str:
        """``ns`` or ``ns/pkg``: the ``namespace`` field of the entity document."""
        return f"{self.namespace}/{self.package}" if self.package else self.namespace

    @property
    def doc_id(self) -> str:
        """``ns/name`` or ``ns/pkg/name``: the entity's document id."""
        return f"{self.path}/{self.name}"

    @property
    def qualified(self) -> str:
        """``/ns/pkg/name``, as OpenWhisk shows fully qualified names."""
        return f"/{self.doc_id}"

    @property
    def relative(self) -> str:
        """``pkg/name`` or ``name``: the name inside the namespace."""
        return f"{self.package}/{self.name}" if self.package else self.name

    def as_path_name(self) -> dict[str, str]:
        """OpenWhisk's ``{"path", "name"}`` shape (rules' trigger and action)."""
        return {"path": self.path, "name": self.name}


def parse(raw: object, default_namespace: str) -> EntityRef | None:
    """Resolve a name the way OpenWhisk's ``resolveName`` does, or None when illegal.

    ``/ns/name`` and ``/ns/pkg/name`` are fully qualified; ``name`` and
    ``pkg/name`` live in the caller's namespace; ``ns/pkg/name`` (three segments
    without a slash) is fully qualified too. ``_`` stands for the caller's namespace.
    """
    if not isinstance(raw, str) or not raw.strip():
        return None
    leading = raw.startswith(PATHSEP)
    segments = raw.strip(PATHSEP).split(PATHSEP)
    n = len(segments)
    if n < 1 or n > 3 or (leading and n == 1):
        return None
    if not all(is_name(s) for s in segments):
        return None
    if not leading and n < 3:
        segments = [default_namespace, *segments]
    return _ref(segments, default_namespace)


def _ref(segments: list[str], default_namespace: str) -> EntityRef:
    """``[ns, name]`` or ``[ns, pkg, name]`` as a reference, ``_`` the caller's namespace."""
    namespace = segments[0]
    if namespace == constants.DEFAULT_NAMESPACE_ALIAS:
        namespace = default_namespace
    if len(segments) == 2:
        return EntityRef(namespace, segments[1])
    return EntityRef(namespace, segments[2], segments[1])


def fully_qualified(raw: object, default_namespace: str) -> EntityRef | None:
    """A name as OpenWhisk reads a FullyQualifiedEntityName in a body (a sequence's
    components, a rule's trigger and action: FullyQualifiedEntityName.scala ``serdes``).

    A string's first segment is always the namespace, with or without a leading slash
    (``/ns/name``, ``ns/pkg/name``; EntityPath.scala ``toFullyQualifiedEntityName``); the
    object ``{"path": "ns/pkg", "name": "x"}`` (what the API answers) is read too. ``_``
    is the caller's namespace. Raises 400 for a name without a namespace or with an
    illegal part; None for a well-formed name that cannot name an entity (four parts).
    """
    if isinstance(raw, dict):
        # The object's path and name are read by their own serdes, whose failures
        # OpenWhisk reports as a malformed name.
        path, name = raw.get("path"), raw.get("name")
        if not isinstance(path, str) or not isinstance(name, str):
            raise malformed_body(NAME_MALFORMED)
        segments = [p for p in path.split(PATHSEP) if p]
        if not segments or not is_name(name) or not all(is_name(s) for s in segments):
            raise malformed_body(NAME_MALFORMED)
        segments.append(name)
    elif isinstance(raw, str):
        segments = [p for p in raw.split(PATHSEP) if p]
        if not all(is_name(s) for s in segments):
            raise malformed_body(f"requirement failed: path contains invalid parts {raw}")
    else:
        raise malformed_body(NAME_MALFORMED)
    if len(segments) < 2:
        raise malformed_body(NAME_NOT_QUALIFIED)
    if len(segments) > 3:
        return None
    return _ref(segments, default_namespace)


def from_path_name(value: object) -> EntityRef | None:
    """An ``EntityRef`` from ``{"path": "ns/pkg", "name": "x"}`` (the stored shape)."""
    if not isinstance(value, dict):
        return None
    path, name = value.get("path"), value.get("name")
    if not isinstance(path, str) or not isinstance(name, str):
        return None
    namespace, _, package = path.partition(PATHSEP)
    return EntityRef(namespace, name, package or None)


def activation_filter_name(name: str) -> str | None:
    """The ``name`` filter of an activation list: ``action`` or ``pkg/action``; None if bad."""
    segments = name.strip(PATHSEP).split(PATHSEP)
    if not 1 <= len(segments) <= 2 or not all(is_name(s) for s in segments):
        return None
    return PATHSEP.join(segments)
