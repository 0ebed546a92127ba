"""``GET /`` and ``GET /api/v1``: OpenWhisk's controller info, with the runtimes table."""

from __future__ import annotations

import json

import pytest

from runtimes import MANIFEST
from streams.settings import Settings
from tests.support.api import call
from tests.support.client import Client
from tests.support.stack import API

pytestmark = pytest.mark.integration

MB = 1024 * 1024


async def test_the_root_answers_openwhisk_controller_info(client: Client, stack: Settings) -> None:
    async with client.session.get(f"{API}/") as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        info = await resp.json()
    assert set(info) == {"description", "api_paths", "limits", "runtimes"}
    assert info["api_paths"] == ["/api/v1"]
    # OpenWhisk's Controller.info: durations in ms, memory and logs in bytes.
    ranges = {
        "action_duration": (100, 300_000),
        "action_memory": (128 * MB, 512 * MB),
        "action_logs": (0, 10 * MB),
    }
    expected = {
        "actions_per_minute": stack.throttle_invocations_per_minute,
        "triggers_per_minute": stack.throttle_fires_per_minute,
        "concurrent_actions": stack.throttle_concurrent,
        "sequence_length": 50,
    }
    for prefix in ("default_", ""):
        for name, (low, high) in ranges.items():
            expected[f"{prefix}min_{name}"] = low
            expected[f"{prefix}max_{name}"] = high
    assert info["limits"] == expected

    # The runtimes table is runtimes/manifest.json, shaped as OpenWhisk's
    # ExecManifest gives it: family -> [{kind, image, deprecated, default, ...}].
    manifest = json.loads(MANIFEST.read_text())["kinds"]
    table: dict[str, list[dict[str, object]]] = {}
    for name, spec in manifest.items():
        if spec["image"] is None:
            continue  # blackbox: not a managed runtime
        table.setdefault(name.split(":")[0], []).append(
            {
                "kind": name,
                "image": spec["image"],
                "deprecated": spec.get("deprecated", False),
                "default": spec["default"],
                "attached": False,
                "requireMain": False,
            }
        )
    assert info["runtimes"] == table
    assert {"python", "nodejs", "java", "go", "ruby", "php"} <= set(info["runtimes"])
    python = info["runtimes"]["python"][0]
    assert python["kind"] == "python:3.11" and python["default"] is True
    assert python["image"] == manifest["python:3.11"]["image"]
    for family, kinds in info["runtimes"].items():
        assert sum(k["default"] for k in kinds) == 1, family


async def test_the_api_path_answers_its_version_info(client: Client) -> None:
    for path in ("/api/v1", "/api/v1/"):
        async with client.session.get(API + path) as resp:
            assert resp.status == 200
            info = await resp.json()
        assert info["api_version"] == "1.0.0" and info["api_version_path"] == "v1"
        assert isinstance(info["build"], str) and isinstance(info["buildno"], str)
        assert info["swagger_paths"]["api-docs"] == "/api-docs"
    # The path it names, under /api/v1, is the OpenAPI description.
    status, docs, _headers = await call(client.session, "GET", "api-docs")
    assert status == 200 and "paths" in docs
