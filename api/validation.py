"""Checks on what clients send: names, limits, exec, parameters. Pure functions."""

from __future__ import annotations

import json
import re
from typing import Any

import runtimes
from api.errors import APIError, bad_request, malformed_body
from api.names import NAME_MALFORMED, check_name
from streams import constants
from streams.messages import (
    BLACKBOX_NEEDS_IMAGE,
    CODE_REQUIRED,
    COMPONENTS_MISSING,
    COMPONENTS_NOT_AN_ARRAY,
    IMAGE_MALFORMED,
    INSTANCES_OVER_NAMESPACE,
    JSON_OBJECT_EXPECTED,
    KIND_MISSING,
    KIND_UNKNOWN,
    LIMIT_BELOW,
    LIMIT_MALFORMED,
    LIMIT_NOT_WHOLE,
    LIMIT_RANGE,
    LIMITS_NOT_AN_OBJECT,
    MAIN_NOT_A_STRING,
    NOT_A_BOOLEAN,
    NOT_A_STRING,
    PARAMETERS_MALFORMED,
    TOO_BIG,
    VERSION_MALFORMED,
)

__all__ = ["check_name"]
# The unit and the field name OpenWhisk names in its limit messages (TimeLimit.scala
# ``timeLimitFieldName`` "duration"; ErrorResponse.scala's ``sizeExceedsAllowedThreshold``
# says "memory size", "log size"; IntraConcurrencyLimit.scala "concurrency").
LIMIT_UNITS = {"timeout": " milliseconds", "memory": " MB", "logs": " MB", "concurrency": ""}
LIMIT_NAMES = {"timeout": "duration", "memory": "memory size", "logs": "log size"}
# What each limit's serdes calls it when its value is no whole number (TimeLimit.scala
# "time limit malformed", "time limit must be whole number", and so on).
LIMIT_MALFORMED_NAMES = {
    "timeout": ("time", "time"),
    "memory": ("memory", "memory"),
    "logs": ("log", "log"),
    "concurrency": ("concurrency", "intra concurrency"),
    "instances": ("instance concurrency", "instance concurrency"),
}


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
        raise malformed_body(PARAMETERS_MALFORMED)
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


def whole_number(value: Any, name: str) -> int:
    """A limit's value as OpenWhisk's serdes read it: a JSON number that is whole
    (``256.0`` is 256); 400 malformed otherwise."""
    malformed_name, whole_name = LIMIT_MALFORMED_NAMES[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise malformed_body(LIMIT_MALFORMED.format(what=malformed_name))
    if isinstance(value, float):
        if not value.is_integer():
            raise malformed_body(LIMIT_NOT_WHOLE.format(what=whole_name))
        return int(value)
    return value


def _limit(limits: dict[str, Any], name: str, low: int, high: int, default: int) -> int:
    value = limits.get(name)
    if value is None:  # absent or null: OpenWhisk's Option fields keep what was there
        return default
    value = whole_number(value, name)
    unit, shown = LIMIT_UNITS.get(name, ""), LIMIT_NAMES.get(name, name)
    if value > high:
        raise bad_request(LIMIT_RANGE.format(name=shown, value=value, limit=high, unit=unit))
    if value < low:
        raise bad_request(LIMIT_BELOW.format(name=shown, value=value, limit=low, unit=unit))
    return value


def check_limits(
    raw: Any, previous: dict[str, Any] | None = None, namespace_concurrency: int | None = None
) -> dict[str, int]:
    """Limits with OpenWhisk's ranges; missing (or null) ones keep ``previous`` or the defaults.

    ``instances`` (an action's most containers at once, OpenWhisk's InstanceConcurrencyLimit)
    is kept only when given now or before, and may not pass ``namespace_concurrency``
    (Actions.scala ``checkInstanceConcurrencyLessThanNamespaceConcurrency``).
    """
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
    out = {
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
    instances = raw.get("instances")
    if instances is not None:
        count = whole_number(instances, "instances")
        if count < 0:
            raise malformed_body(
                "requirement failed: Action container concurrency must be greater than or "
                "equal to 0."
            )
        if namespace_concurrency is not None and count > namespace_concurrency:
            raise bad_request(INSTANCES_OVER_NAMESPACE.format(limit=namespace_concurrency))
        out["instances"] = count
    elif isinstance(base.get("instances"), int):
        out["instances"] = base["instances"]
    return out


def check_exec(raw: Any) -> dict[str, Any]:
    """The ``exec`` of an action as OpenWhisk's Exec.scala serdes read it, its kind
    trimmed, lower-cased and resolved to the canonical name; 400 with its texts."""
    if not isinstance(raw, dict):
        raise malformed_body(JSON_OBJECT_EXPECTED)
    kind_name = raw.get("kind")
    if not isinstance(kind_name, str):
        raise malformed_body(KIND_MISSING)
    kind_name = kind_name.strip().lower()
    main = raw.get("main")
    if "main" in raw and not isinstance(main, str):
        raise malformed_body(MAIN_NOT_A_STRING.format(kind=kind_name))
    if kind_name == constants.KIND_SEQUENCE:
        if "components" not in raw:
            raise malformed_body(COMPONENTS_MISSING)
        components = raw["components"]
        if not isinstance(components, list):
            raise malformed_body(COMPONENTS_NOT_AN_ARRAY)
        if not all(isinstance(c, (str, dict)) for c in components):
            # FullyQualifiedEntityName.serdes: a string or a {"path", "name"} object.
            raise malformed_body(NAME_MALFORMED)
        return {"kind": constants.KIND_SEQUENCE, "components": components}
    kind = runtimes.resolve(kind_name)
    if kind is None:
        known = {k.name for k in runtimes.canonical_kinds()} | {constants.KIND_SEQUENCE}
        listed = ", ".join(f"'{k}'" for k in sorted(known))
        raise malformed_body(KIND_UNKNOWN.format(kind=kind_name, kinds=listed))
    code = raw.get("code")
    out: dict[str, Any] = {"kind": kind.name}
    if kind.name == "blackbox":
        image = raw.get("image")
        if not isinstance(image, str):
            raise malformed_body(BLACKBOX_NEEDS_IMAGE)
        if not is_image_name(image):
            raise malformed_body(IMAGE_MALFORMED)
        out["image"] = image
        if isinstance(code, str) and not code.strip():
            code = None  # Exec.scala: blank code is no code
    elif not isinstance(code, str):
        raise malformed_body(CODE_REQUIRED.format(kind=kind_name))
    if code is not None and not isinstance(code, str):
        raise malformed_body(NOT_A_STRING.format(field="exec.code"))
    # As OpenWhisk's Exec.scala ``isBinary``: code that is base64 is binary (a zip, a
    # jar), whatever the client said (the npm client and wsk do not say).
    out["binary"] = isinstance(code, str) and is_binary_code(code)
    if code is not None:
        out["code"] = code
    if main is not None:
        out["main"] = main
    check_exec_size(out)
    return out


def check_exec_size(exec_: dict[str, Any]) -> None:
    """413 past OpenWhisk's 48 MB of code (WhiskEntity.scala ``isWithinSizeLimits``:
    ``exec larger than allowed: N > 50331648 bytes.``, its code's UTF-8 bytes)."""
    code = exec_.get("code")
    if isinstance(code, str) and len(code) * 4 > constants.EXEC_MAX_BYTES:
        size = len(code.encode())
        if size > constants.EXEC_MAX_BYTES:
            raise APIError(
                413, TOO_BIG.format(field="exec", size=size, limit=constants.EXEC_MAX_BYTES)
            )


# Docker's reference grammar as OpenWhisk's ExecManifest.ImageName parses it:
# [domain "/"] path ["/" path]* [":" tag] ["@" digest], path components lower case.
_DOMAIN_PART = r"[A-Za-z0-9-]*"
_DOMAIN = (
    rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})+(?::[0-9]+)?"
    rf"|{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*:[0-9]+)"
)
_PATH = r"[a-z0-9]+(?:(?:__|[_.]|-*)[a-z0-9]+)*"
IMAGE_NAME = re.compile(
    rf"(?:{_DOMAIN}/)?{_PATH}(?:/{_PATH})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-+._][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?"
)


def is_image_name(image: str) -> bool:
    """Whether OpenWhisk would take ``image`` as a blackbox image name
    (ExecManifest.scala ``ImageName.fromString``)."""
    return IMAGE_NAME.fullmatch(image) is not None


# OpenWhisk's Exec.isBase64Pattern: whole groups of four base64 characters.
BASE64_CODE = re.compile(
    r"([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)"
)


def is_binary_code(code: str) -> bool:
    """Whether ``code`` is binary by OpenWhisk's rule (``Exec.isBinaryCode``): trimmed, it is
    non-empty base64 with no line breaks, a multiple of four characters long."""
    text = code.strip()
    return len(text) % 4 == 0 and BASE64_CODE.fullmatch(text) is not None


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
