"""Checks on what clients send: names, limits, exec, parameters. Pure functions."""

from __future__ import annotations

import json
import re
from typing import Any

import runtimes
from api.errors import (
    EXEC_MISSING,
    KIND_UNKNOWN,
    LIMIT_BELOW,
    LIMIT_RANGE,
    NAME_ILLEGAL,
    NAME_TOO_LONG,
    TOO_BIG,
    bad_request,
)
from streams import constants

# OpenWhisk's entity name pattern.
NAME_RE = re.compile(r"\A([\w]|[\w][\w@ .-]*[\w@.-]+)\Z")


def check_name(name: str) -> str:
    if len(name) > constants.ENTITY_NAME_MAX:
        raise bad_request(NAME_TOO_LONG.format(size=len(name), limit=constants.ENTITY_NAME_MAX))
    if not NAME_RE.match(name):
        raise bad_request(NAME_ILLEGAL)
    return name


def key_values(value: Any, field: str) -> list[dict[str, Any]]:
    """A list of ``{"key", "value"}`` objects, as OpenWhisk stores parameters."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(p, dict) and isinstance(p.get("key"), str) and "value" in p for p in value
    ):
        raise bad_request(f"'{field}' must be an array of {{key, value}} objects.")
    return [{"key": p["key"], "value": p["value"]} for p in value]


def _limit(limits: dict[str, Any], name: str, low: int, high: int, default: int) -> int:
    value = limits.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"'{name}' limit must be an integer.")
    if value > high:
        raise bad_request(LIMIT_RANGE.format(name=name, value=value, limit=high))
    if value < low:
        raise bad_request(LIMIT_BELOW.format(name=name, value=value, limit=low))
    return value


def check_limits(raw: Any, previous: dict[str, Any] | None = None) -> dict[str, int]:
    """Limits with OpenWhisk's ranges; missing ones keep ``previous`` or the defaults."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise bad_request("'limits' must be an object.")
    base = {
        "timeout": constants.TIMEOUT_DEFAULT_MS,
        "memory": constants.MEMORY_DEFAULT_MB,
        "logs": constants.LOGS_DEFAULT_MB,
        "concurrency": constants.CONCURRENCY_DEFAULT,
        **(previous or {}),
    }
    return {
        "timeout": _limit(
            raw, "timeout", constants.TIMEOUT_MIN_MS, constants.TIMEOUT_MAX_MS, base["timeout"]
        ),
        "memory": _limit(
            raw, "memory", constants.MEMORY_MIN_MB, constants.MEMORY_MAX_MB, base["memory"]
        ),
        "logs": _limit(raw, "logs", constants.LOGS_MIN_MB, constants.LOGS_MAX_MB, base["logs"]),
        "concurrency": _limit(
            raw,
            "concurrency",
            constants.CONCURRENCY_MIN,
            constants.CONCURRENCY_MAX,
            base["concurrency"],
        ),
    }


def check_exec(raw: Any) -> dict[str, Any]:
    """The ``exec`` of an action, with its kind resolved to the canonical name."""
    if not isinstance(raw, dict) or "kind" not in raw:
        raise bad_request(EXEC_MISSING)
    kind_name = raw["kind"]
    if not isinstance(kind_name, str):
        raise bad_request(EXEC_MISSING)
    if kind_name == "sequence":
        components = raw.get("components")
        if (
            not isinstance(components, list)
            or not components
            or not all(isinstance(c, str) for c in components)
        ):
            raise bad_request("No component specified for the sequence.")
        return {"kind": "sequence", "components": components}
    kind = runtimes.resolve(kind_name)
    if kind is None:
        known = ", ".join(sorted({k.name for k in runtimes.canonical_kinds()} | {"sequence"}))
        raise bad_request(KIND_UNKNOWN.format(kind=kind_name, kinds=known))
    out: dict[str, Any] = {"kind": kind.name, "binary": bool(raw.get("binary", False))}
    if kind.name == "blackbox":
        image = raw.get("image")
        if not isinstance(image, str) or not image:
            raise bad_request("A blackbox action needs an 'image'.")
        out["image"] = image
    code = raw.get("code")
    if code is None and kind.name != "blackbox":
        raise bad_request("exec.code is required for kind " + kind.name + ".")
    if code is not None:
        if not isinstance(code, str):
            raise bad_request("exec.code must be a string.")
        out["code"] = code
    if raw.get("main") is not None:
        if not isinstance(raw["main"], str):
            raise bad_request("exec.main must be a string.")
        out["main"] = raw["main"]
    return out


def check_size(field: str, value: Any, limit: int) -> None:
    size = len(json.dumps(value).encode())
    if size > limit:
        raise bad_request(TOO_BIG.format(field=field, size=size, limit=limit))


def bump_version(version: str) -> str:
    """``0.0.1`` → ``0.0.2``: OpenWhisk bumps the patch number on every update."""
    parts = version.split(".")
    try:
        parts[-1] = str(int(parts[-1]) + 1)
    except ValueError:
        return "0.0.1"
    return ".".join(parts)
