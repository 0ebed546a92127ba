"""Entity names as ``wsk`` reads them (apache/openwhisk-cli ``commands/qualified_name.go``).

``hello``, ``pkg/hello``, ``/ns/hello`` and ``/ns/pkg/hello``; a name of three
parts without a leading slash, ``ns/pkg/hello``, gets one (``addLeadSlash``);
``_`` is the key's own namespace. A name ``wsk`` refuses (an empty part, ``.``,
more than three parts after the slash) is refused here before any request.
"""

from __future__ import annotations

from dataclasses import dataclass

import click

from api.cli import messages as m

OWN_NAMESPACE = "_"


@dataclass(frozen=True)
class QualifiedName:
    """A parsed name: ``/ns/pkg/hello`` -> namespace ``ns``, package ``pkg``, entity ``hello``,
    entity name ``pkg/hello`` (wsk's ``GetEntityName``: what its ``ok:`` lines print)."""

    namespace: str
    package: str
    entity: str
    entity_name: str

    @property
    def full(self) -> str:
        """``/ns/pkg/hello``, as ``wsk`` names what it invoked."""
        return f"/{self.namespace}/{self.entity_name}"


def refused(message: str) -> click.UsageError:
    """A command line wsk's checks refuse: exit 1, with the command's usage (as ``CheckArgs``
    and ``NewQualifiedNameError``)."""
    return click.UsageError(message, click.get_current_context(silent=True))


def lead_slash(name: str) -> str:
    """``ns/pkg/x`` -> ``/ns/pkg/x`` (wsk's ``addLeadSlash``); every other name as it is."""
    parts = name.split("/")
    return "/" + name if len(parts) == 3 and parts[0] else name


def parse_name(given: str) -> QualifiedName:
    """wsk's ``NewQualifiedName``: raises ``click.UsageError`` (exit 1) with wsk's text for an
    empty name, ``.``, an empty or ``.`` part after a leading slash, or more than three parts
    after it. ``/ns`` parses with an empty entity name (a namespace, no entity)."""
    name = lead_slash(given)
    parts = name.split("/")
    if name.startswith("/"):
        if len(parts) > 4 or any(p in ("", ".") for p in parts[1:]):
            raise refused(m.QUALIFIED_NAME_INVALID.format(name=given))
        package = parts[2] if len(parts) == 4 else ""
        return QualifiedName(
            parts[1], package, parts[-1] if len(parts) > 2 else "", "/".join(parts[2:])
        )
    if name in ("", "."):
        raise refused(m.QUALIFIED_NAME_INVALID.format(name=given))
    package = parts[0] if len(parts) == 2 else ""
    return QualifiedName(OWN_NAMESPACE, package, parts[-1], name)


def fully_qualified(name: str) -> str:
    """``/_/hello`` for ``hello``, ``/ns/pkg/x`` for ``ns/pkg/x`` (wsk's ``getQualifiedName``,
    as rules and sequence components are sent)."""
    name = lead_slash(name)
    return name if name.startswith("/") else f"/{OWN_NAMESPACE}/{name}"
