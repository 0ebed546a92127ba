"""What the API says about itself at ``/`` and ``/api/v1``: its paths, limits and runtimes (pure).

Shaped as OpenWhisk's controller answers them (core/controller
``Controller.info`` and ``RestAPIVersion.info``); clients read the
``runtimes`` table to learn the kinds a deployment supports, and
``wsk property get --apibuild`` reads ``build`` from ``/api/v1``.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import runtimes
from streams import constants
from streams.settings import Settings

API_PATH = "/api/v1"
API_DOCS = "/api-docs"  # relative to API_PATH, as OpenWhisk gives it
MB = 1024 * 1024


def _build() -> str:
    try:
        return metadata.version("ledgerwhisk")
    except metadata.PackageNotFoundError:
        return "unknown"


def runtimes_table() -> dict[str, list[dict[str, Any]]]:
    """Each runtime family's kinds: ``{"python": [{"kind", "image", "deprecated", "default",
    "attached", "requireMain"}]}``, from ``runtimes/manifest.json``.

    OpenWhisk's ``ExecManifest.Runtimes.toJson``. Kinds without an image of
    ours (``blackbox``) are not managed runtimes and are left out, as
    OpenWhisk lists only runtime families there. Code is stored inline
    (never as an attachment) and no kind requires ``exec.main``.
    """
    table: dict[str, list[dict[str, Any]]] = {}
    for kind in runtimes.canonical_kinds():
        if kind.image is None:
            continue
        table.setdefault(kind.family, []).append(
            {
                "kind": kind.name,
                "image": kind.image,
                "deprecated": kind.deprecated,
                "default": kind.default,
                "attached": False,
                "requireMain": False,
            }
        )
    return table


def root_info(settings: Settings) -> dict[str, Any]:
    """``GET /``: OpenWhisk's controller info (description, API paths, limits, runtimes).

    Durations are in ms, memory and log sizes in bytes, as OpenWhisk's.
    Every namespace has the same action limits here, so the ``default_``
    ranges equal the system's.
    """
    ranges = {
        "action_duration": (constants.TIMEOUT_MIN_MS, constants.TIMEOUT_MAX_MS),
        "action_memory": (constants.MEMORY_MIN_MB * MB, constants.MEMORY_MAX_MB * MB),
        "action_logs": (constants.LOGS_MIN_MB * MB, constants.LOGS_MAX_MB * MB),
    }
    limits: dict[str, int] = {
        "actions_per_minute": settings.throttle_invocations_per_minute,
        "triggers_per_minute": settings.throttle_fires_per_minute,
        "concurrent_actions": settings.throttle_concurrent,
        "sequence_length": constants.SEQUENCE_MAX_ACTIONS,
    }
    for prefix in ("default_", ""):
        for name, (low, high) in ranges.items():
            limits[f"{prefix}min_{name}"] = low
            limits[f"{prefix}max_{name}"] = high
    return {
        "description": "Ledgerwhisk",
        "api_paths": [API_PATH],
        "limits": limits,
        "runtimes": runtimes_table(),
    }


def api_info() -> dict[str, Any]:
    """``GET /api/v1``: the API version's info, OpenWhisk's ``RestAPIVersion.info``."""
    return {
        "description": "Ledgerwhisk API",
        "api_version": "1.0.0",
        "api_version_path": "v1",
        "build": _build(),
        "buildno": _build(),
        # No separate UI is served: both name the OpenAPI description.
        "swagger_paths": {"ui": API_DOCS, "api-docs": API_DOCS},
    }
