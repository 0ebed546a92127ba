"""What ``lwsk action create|update|get`` decides without the API: the ``exec`` a file makes,
the flags it refuses, the web annotations, an action's URL and the file its code saves to.

Every rule is ``wsk``'s (apache/openwhisk-cli ``commands/action.go``:
``getExec``, ``parseAction``, ``augmentWebArg``, ``augmentWebSecureArg``,
``saveCode``; apache/openwhisk-client-go ``whisk/action.go`` ``ActionURL``),
except one ``wsk`` lacks: ``update --kind`` or ``--main`` without a code file
is refused instead of ignored, since the API would keep the old code.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import runtimes
from api.cli import messages as m
from api.cli.errors import EXIT_NOT_ALLOWED, EXIT_USAGE, CLIError, UsageError

JsonDict = dict[str, Any]
# wsk's --native: the docker skeleton image (runtimes/manifest.json runs it as ``native``).
NATIVE_IMAGE = "openwhisk/dockerskeleton"
BINARY_SUFFIXES = (".zip", ".jar")
WEB_VALUES = ("yes", "true", "raw", "no", "false")
# wsk's secret for --web-secure true: a random integer a JavaScript number holds exactly.
MAX_JS_INT = 2**53 - 1
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
    sequence: str | None = None  # the components, when --sequence was given ("" without)


def check_flags(flags: ExecFlags, web: str | None, update: bool) -> None:
    """The combinations ``wsk`` refuses, and an update that would change nothing it asks."""
    if flags.kind and flags.docker:
        raise CLIError(m.KIND_AND_DOCKER, EXIT_NOT_ALLOWED)  # wsk: whisk.NOT_ALLOWED
    if web is not None and web.lower() not in WEB_VALUES:
        raise UsageError(m.WEB_INVALID.format(value=web))
    code_given = flags.artifact or flags.docker or flags.native or flags.sequence is not None
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
    """``a,pkg/b,/ns/c`` -> fully qualified names (``_`` for the caller's namespace)."""
    out = []
    for name in (c.strip() for c in raw.split(",") if c.strip()):
        out.append(name if name.startswith("/") else f"/_/{name}")
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
    if flags.sequence is not None:
        listed = flags.sequence or flags.artifact
        if not listed:
            raise UsageError(m.SEQUENCE_EMPTY)
        return {"kind": "sequence", "components": components(listed)}
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


def web_annotations(web: str | None, secure: str | None, existing: JsonDict | None) -> JsonDict:
    """The annotations ``--web`` and ``--web-secure`` set; refuses ``--web-secure`` unless the
    action is (or becomes) a web action, as wsk does."""
    out: JsonDict = {}
    mode = web.lower() if web is not None else None
    if mode is not None:
        on = mode in ("true", "yes", "raw")
        out.update({"web-export": on, "raw-http": mode == "raw", "final": on})
    if secure is not None:
        turned_off = mode in ("false", "no")
        was_web = existing is not None and is_web(existing.get("annotations"))
        if not (out.get("web-export") is True or (was_web and not turned_off)):
            raise UsageError(m.WEB_SECURE_WITHOUT_WEB)
        lowered = secure.lower()
        if lowered == "true":
            out["require-whisk-auth"] = secrets.randbelow(MAX_JS_INT) + 1
        else:
            out["require-whisk-auth"] = False if lowered == "false" else secure
    return out


def action_url(apihost: str, apiversion: str, action: JsonDict) -> str:
    """Where to call an action: its web URL when it is a web action, else its REST URL."""
    namespace, _, package = str(action.get("namespace", "")).partition("/")
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
    if family == "sequence":
        raise CLIError(m.CANNOT_SAVE_SEQUENCE)
    code = exec_.get("code")
    if code is None:
        raise CLIError(m.CANNOT_SAVE_IMAGE)
    binary = exec_.get("binary") is True
    if binary:
        data = base64.b64decode(code)
        suffix = ".jar" if family == "java" else ".zip"
    else:
        data = str(code).encode("utf-8")
        suffix = SOURCE_SUFFIXES.get(family, "")
    return save_as or f"{action.get('name')}{suffix}", data
