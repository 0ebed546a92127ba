"""Checks on what clients send: names, limits, exec, parameters. Pure functions."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

import runtimes
from api.errors import APIError, bad_request
from api.names import check_name
from streams import constants
from streams.messages import (
    BLACKBOX_NEEDS_IMAGE,
    CODE_NOT_BASE64,
    CODE_REQUIRED,
    EXEC_MISSING,
    KIND_UNKNOWN,
    LIMIT_BELOW,
    LIMIT_NOT_AN_INTEGER,
    LIMIT_RANGE,
    LIMITS_NOT_AN_OBJECT,
    NOT_A_BOOLEAN,
    NOT_A_STRING,
    NOT_KEY_VALUES,
    SEQUENCE_NO_COMPONENT,
    TOO_BIG,
    VERSION_MALFORMED,
)

__all__ = ["check_name"]
# The unit and the field name OpenWhisk names in its limit messages (TimeLimit.scala
# ``timeLimitFieldName`` "duration", LogLimit.scala ``logLimitFieldName`` "log").
LIMIT_UNITS = {"timeout": " milliseconds", "memory": " MB", "logs": " MB", "concurrency": ""}
LIMIT_NAMES = {"timeout": "duration", "logs": "log"}


def key_values(value: Any, field: str) -> list[dict[str, Any]]:
    """A list of ``{"key", "value"}`` objects, as OpenWhisk stores parameters.

    A later entry for the same key replaces an earlier one; ``init`` flags are kept.
    """
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(p, dict) and isinstance(p.get("key"), str) and p["key"].strip() and "value" in p
        for p in value
    ):
        raise bad_request(NOT_KEY_VALUES.format(field=field))
    out: dict[str, dict[str, Any]] = {}
    for p in value:
        entry = {"key": p["key"], "value": p["value"]}
        if p.get("init") is True:
            entry["init"] = True
        out.pop(p["key"], None)
        out[p["key"]] = entry
    return list(out.values())


def parameters_size(value: Any) -> int:
    """Bytes of a ``[{"key", "value"}]`` list as OpenWhisk counts them (Parameter.scala
    ``Parameters.size``): each key's UTF-8 length plus its value's compact JSON's."""
    if not isinstance(value, list):
        return len(json.dumps(value).encode())
    total = 0
    for p in value:
        if not isinstance(p, dict):
            return len(json.dumps(value).encode())
        text = json.dumps(p.get("value"), separators=(",", ":"), ensure_ascii=False)
        total += len(str(p.get("key", "")).encode()) + len(text.encode())
    return total


def check_entity_sizes(parameters: Any, annotations: Any) -> None:
    """413 when parameters or annotations pass OpenWhisk's 1 MB limit (``parameters_size``)."""
    for field, value in (("parameters", parameters), ("annotations", annotations)):
        size = parameters_size(value)
        if size > constants.PARAMS_MAX_BYTES:
            raise APIError(
                413, TOO_BIG.format(field=field, size=size, limit=constants.PARAMS_MAX_BYTES)
            )


def check_flag(value: Any, field: str) -> bool | None:
    """An optional boolean field (``publish``)."""
    if value is None or isinstance(value, bool):
        return value
    raise bad_request(NOT_A_BOOLEAN.format(field=field))


def check_version(value: Any) -> str | None:
    """An optional semantic version ``major.minor.patch``."""
    if value is None:
        return None
    parts = value.split(".") if isinstance(value, str) else []
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise bad_request(VERSION_MALFORMED)
    return str(value)


def _limit(limits: dict[str, Any], name: str, low: int, high: int, default: int) -> int:
    value = limits.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(LIMIT_NOT_AN_INTEGER.format(name=name))
    unit, shown = LIMIT_UNITS.get(name, ""), LIMIT_NAMES.get(name, name)
    if value > high:
        raise bad_request(LIMIT_RANGE.format(name=shown, value=value, limit=high, unit=unit))
    if value < low:
        raise bad_request(LIMIT_BELOW.format(name=shown, value=value, limit=low, unit=unit))
    return value


def check_limits(raw: Any, previous: dict[str, Any] | None = None) -> dict[str, int]:
    """Limits with OpenWhisk's ranges; missing ones keep ``previous`` or the defaults."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise bad_request(LIMITS_NOT_AN_OBJECT)
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
            raise bad_request(SEQUENCE_NO_COMPONENT)
        return {"kind": "sequence", "components": components}
    if raw.get("binary") is not None and not isinstance(raw.get("binary"), bool):
        raise bad_request(NOT_A_BOOLEAN.format(field="exec.binary"))
    kind = runtimes.resolve(kind_name)
    if kind is None:
        known = ", ".join(sorted({k.name for k in runtimes.canonical_kinds()} | {"sequence"}))
        raise bad_request(KIND_UNKNOWN.format(kind=kind_name, kinds=known))
    code = raw.get("code")
    # As OpenWhisk's Exec.scala: code that is base64 is binary (a zip, a jar),
    # whether or not the client said so (the npm client and wsk do not).
    binary = bool(raw.get("binary", False)) or (isinstance(code, str) and is_binary_code(code))
    out: dict[str, Any] = {"kind": kind.name, "binary": binary}
    if kind.name == "blackbox":
        image = raw.get("image")
        if not isinstance(image, str) or not image:
            raise bad_request(BLACKBOX_NEEDS_IMAGE)
        out["image"] = image
    if code is None and kind.name != "blackbox":
        raise bad_request(CODE_REQUIRED.format(kind=kind.name))
    if code is not None:
        if not isinstance(code, str):
            raise bad_request(NOT_A_STRING.format(field="exec.code"))
        if out["binary"]:
            check_base64(code)
        out["code"] = code
    if raw.get("main") is not None:
        if not isinstance(raw["main"], str):
            raise bad_request(NOT_A_STRING.format(field="exec.main"))
        out["main"] = raw["main"]
    return out


# OpenWhisk's Exec.isBase64Pattern: whole groups of four base64 characters.
BASE64_CODE = re.compile(
    r"([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)"
)


def is_binary_code(code: str) -> bool:
    """Whether ``code`` is binary by OpenWhisk's rule (``Exec.isBinaryCode``): trimmed, it is
    non-empty base64 with no line breaks, a multiple of four characters long."""
    text = code.strip()
    return len(text) % 4 == 0 and BASE64_CODE.fullmatch(text) is not None


def check_base64(code: str) -> None:
    """400 unless ``code`` is base64 (line breaks allowed), as binary code must be."""
    try:
        base64.b64decode("".join(code.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_request(CODE_NOT_BASE64.format(detail=exc)) from exc


def version_and_publish(body: dict[str, Any], previous: dict[str, Any] | None) -> tuple[str, bool]:
    """An entity's version (given, or ``0.0.1``, or the previous one bumped) and ``publish``."""
    version = check_version(body.get("version"))
    if version is None:
        version = bump_version(previous["version"]) if previous else "0.0.1"
    publish = check_flag(body.get("publish"), "publish")
    if publish is None:
        publish = bool((previous or {}).get("publish", False))
    return version, publish


def bump_version(version: str) -> str:
    """``0.0.1`` → ``0.0.2``: OpenWhisk bumps the patch number on every update."""
    parts = version.split(".")
    try:
        parts[-1] = str(int(parts[-1]) + 1)
    except ValueError:
        return "0.0.1"
    return ".".join(parts)
