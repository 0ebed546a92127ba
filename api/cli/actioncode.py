"""What ``lwsk action create|update|get`` decides without the API: the ``exec`` a file makes,
the flags it refuses, the web annotations, an action's URL and the file its code saves to.

Every rule is ``wsk``'s (apache/openwhisk-cli ``commands/action.go``:
``getExec``, ``parseAction``, ``augmentWebArg``, ``augmentWebSecureArg``,
``updateWebSecureAnnotation``, ``saveCode``; apache/openwhisk-client-go
``whisk/action.go`` ``ActionURL`` and the ``Action`` struct an action is printed as),
except one ``wsk`` lacks: ``update --kind`` or ``--main`` without a code file
is refused instead of ignored, since the API would keep the old code.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import runtimes
from api.cli import messages as m
from api.cli.entities import FIELDS
from api.cli.errors import EXIT_NOT_ALLOWED, EXIT_USAGE, CLIError, UsageError
from api.cli.names import fully_qualified

JsonDict = dict[str, Any]
# wsk's --native: the docker skeleton image (runtimes/manifest.json runs it as ``native``).
NATIVE_IMAGE = "openwhisk/dockerskeleton"
BINARY_SUFFIXES = (".zip", ".jar")
WEB_VALUES = ("yes", "true", "raw", "no", "false")
# wsk's secret for --web-secure true: a random integer a JavaScript number holds exactly.
MAX_JS_INT = 2**53 - 1
SECRET_KEY = "require-whisk-auth"
# wsk's file names for saved code (commands/action.go getKindExtension).
SOURCE_SUFFIXES = {
    "nodejs": ".js",
    "python": ".py",
    "php": ".php",
    "ruby": ".rb",
    "go": ".go",
    "swift": ".swift",
    "rust": ".rs",
}


@dataclass(frozen=True)
class ExecFlags:
    """The flags of ``action create|update`` that decide its ``exec``."""

    artifact: str | None = None
    kind: str | None = None
    main: str | None = None
    docker: str | None = None
    native: bool = False
    sequence: bool = False  # wsk's --sequence flag: ARTIFACT lists the components


def check_flags(flags: ExecFlags, web: str | None, update: bool) -> None:
    """The combinations ``wsk`` refuses, and an update that would change nothing it asks."""
    if flags.kind and flags.docker:
        raise CLIError(m.KIND_AND_DOCKER, EXIT_NOT_ALLOWED)  # wsk: whisk.NOT_ALLOWED
    if web is not None and web.lower() not in WEB_VALUES:
        raise UsageError(m.WEB_INVALID.format(value=web))
    code_given = flags.artifact or flags.docker or flags.native or flags.sequence
    if update and not code_given and (flags.kind or flags.main):
        raise UsageError(m.CODE_NEEDED.format(flag="--kind" if flags.kind else "--main"))
    if not update and not code_given:
        raise UsageError(m.ARTIFACT_NEEDED)


def kind_for(path: Path, given: str | None) -> str:
    """The kind ``wsk`` infers from a file: ``.js`` -> ``nodejs:default``, ``.jar`` ->
    ``java:default``, ... (each kind's ``file_extensions`` in runtimes/manifest.json)."""
    if given:
        return given
    for kind in runtimes.canonical_kinds():
        if path.suffix in kind.file_extensions and kind.default:
            return f"{kind.family}:default"
    if path.suffix == ".zip":
        raise UsageError(m.ZIP_NEEDS_KIND)
    raise UsageError(m.NO_RUNTIME.format(extension=path.suffix or path.name))


def components(raw: str) -> list[str]:
    """``a,pkg/b,ns/pkg/c,/ns/d`` -> ``/_/a,/_/pkg/b,/ns/pkg/c,/ns/d`` (wsk's
    ``csvToQualifiedActions``: ``_`` for the caller's namespace, a lead slash added to a
    name of three parts)."""
    out = []
    for name in (c.strip() for c in raw.split(",") if c.strip()):
        out.append(fully_qualified(name))
    if not out:
        raise UsageError(m.SEQUENCE_EMPTY)
    return out


def code_of(path: Path) -> JsonDict:
    """``code`` and ``binary`` of a file: a zip or jar goes base64-encoded, as wsk sends it."""
    if not path.exists():
        raise CLIError(m.FILE_MISSING.format(path=path), EXIT_USAGE)
    try:
        if path.suffix in BINARY_SUFFIXES:
            return {"code": base64.b64encode(path.read_bytes()).decode(), "binary": True}
        return {"code": path.read_text(encoding="utf-8"), "binary": False}
    except UnicodeDecodeError as exc:
        raise CLIError(m.CODE_NOT_UTF8.format(path=path, at=exc.start)) from exc
    except OSError as exc:
        raise CLIError(m.FILE_UNREADABLE.format(path=path, error=exc)) from exc


def exec_of(flags: ExecFlags) -> JsonDict | None:
    """The ``exec`` the flags ask for; None when they keep the action's code (an update)."""
    if flags.sequence:
        if not flags.artifact:
            raise UsageError(m.ARTIFACT_NEEDED)  # wsk's noArtifactError
        return {"kind": "sequence", "components": components(flags.artifact)}
    if flags.docker or flags.native:
        # As wsk: --native is the blackbox kind on OpenWhisk's docker skeleton.
        exec_: JsonDict = {"kind": "blackbox", "image": flags.docker or NATIVE_IMAGE}
        if flags.artifact:
            exec_.update(code_of(Path(flags.artifact)))
        if flags.main:
            exec_["main"] = flags.main
        return exec_
    if not flags.artifact:
        return None
    path = Path(flags.artifact)
    code = code_of(path)  # as wsk, the file is read before its extension is looked at
    out = {"kind": kind_for(path, flags.kind), **code}
    if flags.main:
        out["main"] = flags.main
    elif path.suffix == ".jar":
        raise UsageError(m.JAVA_NEEDS_MAIN)
    return out


def is_web(annotations: list[JsonDict] | None) -> bool:
    return any(a.get("key") == "web-export" and a.get("value") is True for a in annotations or [])


@dataclass(frozen=True)
class WebChange:
    """What ``--web`` and ``--web-secure`` do to an action's annotations: those to set
    (``{key: value}``) and those to delete (sent as ``delAnnotations``)."""

    set: JsonDict = field(default_factory=dict)
    delete: tuple[str, ...] = ()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def web_annotations(
    web: str | None,
    secure: str | None,
    existing: JsonDict | None,
    given: JsonDict | None = None,
) -> WebChange:
    """The annotations ``--web`` and ``--web-secure`` set or delete, given the action as it
    is (``existing``, on an update) and the ``-a`` annotations of the command line.

    As wsk: ``--web-secure`` is refused unless the action is (or becomes) a web action;
    ``true`` makes a random secret unless the action already has a numeric one, which is
    kept; ``false`` deletes ``require-whisk-auth`` when there is one (and sets it ``false``
    when there is none); any other value is the secret as given."""
    out: JsonDict = {}
    mode = web.lower() if web is not None else None
    if mode is not None:
        on = mode in ("true", "yes", "raw")
        out.update({"web-export": on, "raw-http": mode == "raw", "final": on})
    if secure is None:
        return WebChange(out)
    turned_off = mode in ("false", "no")
    was_web = existing is not None and is_web(existing.get("annotations"))
    if not (out.get("web-export") is True or (was_web and not turned_off)):
        raise UsageError(m.WEB_SECURE_WITHOUT_WEB)
    had = (given or {}).get(SECRET_KEY)
    if had is None and existing is not None:
        had = next(
            (
                a.get("value")
                for a in existing.get("annotations") or []
                if a.get("key") == SECRET_KEY
            ),
            None,
        )
    lowered = secure.lower()
    if lowered == "true":
        out[SECRET_KEY] = had if _is_number(had) else secrets.randbelow(MAX_JS_INT) + 1
    elif lowered == "false":
        if had is not None:
            return WebChange(out, (SECRET_KEY,))
        out[SECRET_KEY] = False
    else:
        out[SECRET_KEY] = secure
    return WebChange(out)


def action_url(apihost: str, apiversion: str, action: JsonDict, package: str = "") -> str:
    """Where to call an action: its web URL when it is a web action, else its REST URL.

    As client-go's ``ActionURL``: the namespace is the action's, the package the one the
    command line named (``package``; a binding's name when the action was reached through
    a binding)."""
    namespace = str(action.get("namespace", "")).partition("/")[0]
    ns, name = quote(namespace, safe="@"), quote(str(action.get("name", "")), safe="@")
    if is_web(action.get("annotations")):
        pkg = quote(package or "default", safe="@")
        return f"{apihost}/api/{apiversion}/web/{ns}/{pkg}/{name}"
    where = f"{quote(package, safe='@')}/{name}" if package else name
    return f"{apihost}/api/{apiversion}/namespaces/{ns}/actions/{where}"


def saved_code(action: JsonDict, save_as: str | None) -> tuple[str, bytes]:
    """``(file name, bytes)`` of an action's code as ``wsk action get --save`` writes it."""
    exec_ = action.get("exec") or {}
    family = str(exec_.get("kind", "")).split(":")[0]
    # Usage errors in wsk (action.go cannotSaveSequenceError, cannotSaveImageError: exit 2).
    if family == "sequence":
        raise UsageError(m.CANNOT_SAVE_SEQUENCE)
    code = exec_.get("code")
    if code is None:
        raise UsageError(m.CANNOT_SAVE_IMAGE)
    binary = exec_.get("binary") is True
    if binary:
        data = base64.b64decode(code)
        suffix = ".jar" if family == "java" else ".zip"
    else:
        data = str(code).encode("utf-8")
        suffix = SOURCE_SUFFIXES.get(family, "")
    return save_as or f"{action.get('name')}{suffix}", data


# client-go's whisk.Action, Exec and Limits (whisk/action.go, shared.go): the JSON names of
# their fields in struct order, which wsk prints an action in, and those that are pointers
# (``omitempty`` drops only their null; of the others it drops "", 0 and empty lists too).
ACTION_FIELDS = FIELDS["action"]
EXEC_FIELDS = ("kind", "code", "image", "init", "main", "components", "binary")
LIMITS_FIELDS = ("timeout", "memory", "logs", "concurrency")
POINTERS = {
    ACTION_FIELDS: {"exec", "limits", "publish"},
    EXEC_FIELDS: {"code", "binary"},
    LIMITS_FIELDS: set(LIMITS_FIELDS),
}
KEY_VALUE_FIELDS = ("annotations", "parameters", "env")
# What wsk's ``get NAME FIELD`` prints of a field the action lacks: its Go zero value.
ZERO: JsonDict = {"namespace": "", "name": "", "version": "", "error": "", "code": 0, "updated": 0}


def _sorted(value: Any) -> Any:
    """A decoded JSON value as Go re-encodes an ``interface{}``: every object's keys sorted."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _empty(value: Any) -> bool:
    return value == "" or value == [] or (type(value) is int and value == 0)


def _struct(data: JsonDict, fields: tuple[str, ...]) -> JsonDict:
    """``data`` in a struct's field order, as ``omitempty`` leaves it; keys the struct lacks
    follow, as the API gave them (wsk would drop them)."""
    pointers = POINTERS[fields]
    out = {
        name: _field(name, data[name]) if fields is ACTION_FIELDS else data[name]
        for name in fields
        if name in data and data[name] is not None and (name in pointers or not _empty(data[name]))
    }
    out.update({k: v for k, v in data.items() if k not in fields})
    return out


def _field(name: str, value: Any) -> Any:
    """One field of an action, as client-go's struct re-encodes it."""
    if name == "exec" and isinstance(value, dict):
        return _struct(value, EXEC_FIELDS)
    if name == "limits" and isinstance(value, dict):
        return _struct(value, LIMITS_FIELDS)
    if name in KEY_VALUE_FIELDS and isinstance(value, list):
        return [
            {"key": kv.get("key"), "value": _sorted(kv.get("value")), **_sorted(kv)}
            if isinstance(kv, dict)
            else kv
            for kv in value
        ]
    return _sorted(value)


def wsk_action(action: JsonDict) -> JsonDict:
    """An action as ``wsk action get`` prints it: decoded into client-go's ``Action`` and
    encoded again (its field order, empty fields left out, annotation and parameter values
    with sorted keys)."""
    return _struct(action, ACTION_FIELDS)


def wsk_action_field(action: JsonDict, name: str) -> Any:
    """One field as ``wsk action get NAME FIELD`` prints it (``printField``): the field as
    the struct holds it, its zero value when the action lacks it."""
    if action.get(name) is None:
        return ZERO.get(name)
    return _field(name, action[name])
