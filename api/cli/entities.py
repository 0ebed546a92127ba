"""What the entity commands share: names and paths, lists, summaries and field filters.

Names are read as ``wsk`` reads them (``api.cli.names``).
"""

from __future__ import annotations

from typing import Any

from api.cli import messages as m
from api.cli.client import segment
from api.cli.errors import CLIError, UsageError
from api.cli.names import parse_name
from api.cli.output import Output

JsonDict = dict[str, Any]

# The fields a FIELD argument may name, per kind (wsk: the fields of whisk.Action etc.,
# apache/openwhisk-client-go ``whisk/*.go``; matched regardless of case).
FIELDS = {
    "action": (
        "namespace",
        "name",
        "version",
        "exec",
        "annotations",
        "delAnnotations",
        "parameters",
        "limits",
        "error",
        "code",
        "publish",
        "updated",
        "env",
    ),
    "trigger": (
        "namespace",
        "name",
        "version",
        "annotations",
        "parameters",
        "limits",
        "publish",
        "rules",
        "updated",
    ),
    "rule": (
        "namespace",
        "name",
        "version",
        "annotations",
        "status",
        "trigger",
        "action",
        "publish",
        "updated",
    ),
    "package": (
        "namespace",
        "name",
        "version",
        "annotations",
        "parameters",
        "publish",
        "binding",
        "actions",
        "feeds",
        "updated",
    ),
    "activation": (
        "namespace",
        "name",
        "version",
        "subject",
        "activationId",
        "start",
        "end",
        "duration",
        "statusCode",
        "response",
        "logs",
        "annotations",
        "publish",
        "cause",
    ),
}


def split_name(name: str) -> tuple[str, str]:
    """``(namespace, name within it)``: ``/ns/pkg/x`` and ``ns/pkg/x`` -> ``("ns", "pkg/x")``,
    ``x`` -> ``("_", "x")``; a name wsk refuses raises as ``names.parse_name`` says, and a
    namespace without an entity (``/ns``) is a usage error."""
    parsed = parse_name(name)
    if not parsed.entity_name:
        raise UsageError(m.NAME_WITHOUT_ENTITY.format(name=name))
    return parsed.namespace, parsed.entity_name


def entity_path(collection: str, name: str) -> str:
    """``namespaces/_/actions/hello``; each part percent-encoded (spaces are legal)."""
    namespace, rest = split_name(name)
    parts = "/".join(segment(p) for p in rest.split("/"))
    return f"namespaces/{segment(namespace)}/{collection}/{parts}"


def namespace_path(namespace: str | None) -> str:
    """``namespaces/ns`` for ``/ns`` or ``ns`` (``_`` when none)."""
    name = (namespace or "_").strip().strip("/") or "_"
    if "/" in name:
        raise CLIError(m.NAMESPACE_ONLY.format(name=namespace))
    return f"namespaces/{segment(name)}"


def qualified(entity: JsonDict) -> str:
    return f"/{entity.get('namespace', '')}/{entity.get('name', '')}"


def annotation(entity: JsonDict, key: str) -> Any:
    for a in entity.get("annotations") or []:
        if a.get("key") == key:
            return a.get("value")
    return None


def list_rows(entities: list[JsonDict], kind: str, name_sort: bool) -> list[list[str]]:
    """Rows as ``wsk ... list`` prints them: name, shared/private, and the kind or status.

    Only a package's row says ``shared``: client-go's ``ToSummaryRowString`` of an action,
    a trigger and a rule always says ``private`` (whisk/action.go, trigger.go, rule.go)."""
    if name_sort:
        entities = sorted(entities, key=lambda e: qualified(e).lower())
    rows = []
    for entity in entities:
        shared = kind == "package" and entity.get("publish")
        row = [qualified(entity), "shared" if shared else "private"]
        if kind == "action":
            row.append(str(annotation(entity, "exec") or ""))
        elif kind == "rule":
            row.append(str(entity.get("status", "")))
        rows.append(row)
    return rows


# client-go's list rows (whisk/action.go, package.go, trigger.go, rule.go
# ``ToSummaryRowString``): the name in 70 columns, then the rest.
ROW_FORMATS = {"action": "{:<70} {} {}", "rule": "{:<70} {:<20} {}"}


def show_list(
    out: Output, header: str, entities: list[JsonDict], kind: str, name_sort: bool = False
) -> None:
    """A list as ``wsk`` prints it (a header, then a row each in client-go's fixed
    columns: ``ToSummaryRowString``), or JSON with ``--json``."""
    if out.as_json:
        out.json(entities)
        return
    out.line(header)
    for row in list_rows(entities, kind, name_sort):
        out.line(ROW_FORMATS.get(kind, "{:<70} {}").format(*row))


def field_name(kind: str, field: str) -> str:
    """The entity's field a FIELD argument names (any case), or wsk's error: a usage
    error (exit 2) for an action's, a general one (exit 1) for the other kinds'
    (apache/openwhisk-cli commands/action.go ``invalidFieldFilterError``, and the
    ``Invalid field filter`` errors of activation.go, trigger.go, package.go, rule.go)."""
    for known in FIELDS[kind]:
        if known.lower() == field.lower():
            return known
    if kind == "action":
        raise UsageError(m.FIELD_INVALID.format(field=field))
    raise CLIError(m.FIELD_INVALID.format(field=field))


def param_union(entity: JsonDict) -> list[str]:
    """Its parameters as ``wsk --summary`` lists them: bound ones marked ``*`` (``**`` when
    final), sorted with those the ``parameters`` annotation describes
    (apache/openwhisk-cli ``commands/util.go`` ``getParamUnion``)."""
    bound = [p["key"] for p in entity.get("parameters") or [] if "key" in p]
    described = [
        p["name"]
        for p in annotation(entity, "parameters") or []
        if isinstance(p, dict) and "name" in p
    ]
    tag = "**" if annotation(entity, "final") is True else "*"
    return [
        f"{tag}{name}" if name in bound else name for name in sorted(set(bound) | set(described))
    ]


def param_description(params: str) -> str:
    """wsk's description of an entity that has none but parameters (util.go
    ``buildParamDescription``): ``Returns a result based on parameters a, b and c``."""
    names = params.replace("*", "").split(",")
    if len(names) > 1:
        return "Returns a result based on parameters " + ",".join(names[:-1]) + " and" + names[-1]
    return f"Returns a result based on parameter {names[0]}"


def summary_lines(kind: str, entity: JsonDict, name: str | None = None) -> list[str]:
    """``wsk ... get --summary``: the entity, its description, its parameters."""
    name = name or qualified(entity)
    params = ", ".join(param_union(entity)) or "none defined"
    description = annotation(entity, "description")
    if not description and params != "none defined":
        description = param_description(params)
    head = f"{kind} {name}" + (f": {description}" if description else "")
    if kind == "rule":
        return [head, f"   (status: {entity.get('status', '')})"]
    lines = [head, f"   (parameters: {params})"]
    for action in entity.get("actions") or []:
        lines.extend(summary_lines(" action", action, f"{name}/{action.get('name')}"))
    # As wsk's printPackageSummary: the package's feeds after its actions.
    for feed in entity.get("feeds") or []:
        lines.extend(summary_lines(" feed  ", feed, f"{name}/{feed.get('name')}"))
    return lines
