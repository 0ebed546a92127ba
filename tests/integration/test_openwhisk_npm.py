"""The official ``openwhisk`` npm client (pinned in npm/package-lock.json) against Ledgerwhisk.

``npm/roundtrip.js`` drives actions, invocations, activations, packages,
bindings, triggers and rules through the client; this test installs the
client once (``npm ci`` into ``npm/node_modules``) and checks every step.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import aiohttp
import pytest

from streams.settings import Settings
from tests.support.client import new_client
from tests.support.stack import API

pytestmark = pytest.mark.integration

NPM_DIR = Path(__file__).with_name("npm")


def install_client() -> None:
    """``npm ci`` from the lock file, unless that exact client is installed already."""
    installed = NPM_DIR / "node_modules" / "openwhisk" / "package.json"
    pinned = json.loads((NPM_DIR / "package.json").read_text())["dependencies"]["openwhisk"]
    if installed.exists() and json.loads(installed.read_text())["version"] == pinned:
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed for this test (Node 20 and npm are part of the machine)"
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=NPM_DIR,
        check=True,
        timeout=300,
    )


def run_roundtrip(key: str, script: str = "roundtrip.js") -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "node is needed for this test"
    return subprocess.run(
        [node, str(NPM_DIR / script), API, key],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
    )


async def test_the_openwhisk_npm_client_round_trip(stack: Settings) -> None:
    await asyncio.to_thread(install_client)
    async with aiohttp.ClientSession() as session:
        me = await new_client(stack, session)
    done = await asyncio.to_thread(run_roundtrip, me.key)
    assert done.returncode == 0, (done.stdout, done.stderr)
    lines = done.stdout.splitlines()
    assert lines[-1] == "DONE", done.stdout
    steps = {}
    for line in lines:
        if line.startswith("STEP "):
            entry = json.loads(line[5:])
            steps[entry["name"]] = entry["value"]

    assert steps["namespaces"] == [me.namespace]
    assert steps["action.create"] == {"name": "hello", "version": "0.0.1", "kind": "nodejs:18"}
    assert steps["action.update"] == {"version": "0.0.2"}
    assert steps["action.get"]["params"] == [{"key": "name", "value": "Ledger"}]
    assert steps["action.list"] == ["hello"]
    assert steps["action.invoke.result"] == {"greeting": "Hello Ada"}
    blocking = steps["action.invoke.blocking"]
    assert blocking["status"] == "success"
    assert blocking["logs"][0].endswith("stdout: Hello World")
    assert steps["action.invoke.async"] == {"hasId": True}
    assert steps["activation.get"]["result"] == {"greeting": "Hello Ledger"}
    assert steps["activation.logs"]["logs"][0].endswith("stdout: Hello World")
    assert steps["activation.result"]["result"] == {"greeting": "Hello Ledger"}
    assert steps["activation.list"] == {"count": 3, "names": ["hello"]}
    assert steps["package.get"] == {"name": "tools", "actions": ["echo"]}
    assert steps["package.invoke"] == {"who": "pkg", "x": 1}
    assert steps["binding.invoke"] == {"y": 2}
    assert steps["package.list"] == ["myutils", "tools"]
    assert steps["rule.create"] == {"name": "onTick", "status": "active"}
    assert steps["trigger.fire"] == {"hasId": True}
    assert steps["rule.activation"] == {"cause": True, "result": {"greeting": "Hello Trigger"}}
    assert steps["rule.disabled"] == "inactive"
    assert steps["rule.list"] == ["onTick"]
    assert steps["trigger.list"] == ["tick"]
    assert steps["deleted"] == 404


def steps_of(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert done.returncode == 0, (done.stdout, done.stderr)
    lines = done.stdout.splitlines()
    assert lines[-1] == "DONE", done.stdout
    return {
        entry["name"]: entry["value"]
        for entry in (json.loads(line[5:]) for line in lines if line.startswith("STEP "))
    }


async def test_the_npm_clients_feeds_round_trip_for_the_alarms_feed(stack: Settings) -> None:
    """``feeds.create/get/update/delete`` of ``/whisk.system/alarms/alarm``, unchanged."""
    await asyncio.to_thread(install_client)
    async with aiohttp.ClientSession() as session:
        me = await new_client(stack, session)
    steps = steps_of(await asyncio.to_thread(run_roundtrip, me.key, "feeds.js"))

    assert steps["feed.create"] == {"status": "success"}
    got = steps["feed.get"]
    assert isinstance(got, dict)
    assert got["config"] == {
        "name": "npmalarm",
        "namespace": me.namespace,
        "payload": {"a": 1},
        "strict": False,
        "cron": "*/10 * * * * *",
    }
    assert got["status"]["active"] is True
    assert set(got["status"]) == {"active", "dateChanged", "dateChangedISO"}
    assert steps["feed.update"] == {"status": "success"}
    assert steps["feed.get.updated"] == "*/20 * * * * *"
    assert steps["feed.create.twice"] == {"status": "success"}  # replaces, as OpenWhisk
    assert steps["feed.get.twice"] == "* * * * *"
    assert steps["feed.delete"] == {"status": "success"}
    gone = steps["feed.get.deleted"]
    assert gone == {
        "refused": True,
        "statusCode": 502,
        "result": {"error": f"could not find trigger /{me.namespace}/npmalarm in the database"},
    }
    assert steps["feed.create.bad"] == {
        "refused": True,
        "statusCode": 502,
        "result": {"error": "cron pattern 'every day' is not valid"},
    }
