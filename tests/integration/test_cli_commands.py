"""``lwsk`` against the real stack: every command group, tables, --json, one-line errors."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from streams.settings import Settings
from tests.support.cli import Lwsk
from tests.support.stack import TEST_ENV

pytestmark = pytest.mark.integration

JS = (
    "function main(args) {\n"
    "  console.log('Hello World');\n"
    "  return {greeting: 'Hello ' + (args.name || 'World')};\n"
    "}\n"
)
PY = "def main(args):\n    print('Hello World')\n    return {'n': args.get('n', 0) + 1}\n"


def test_actions_and_activations(lwsk: Lwsk, tmp_path: Path) -> None:
    (tmp_path / "hello.js").write_text(JS)
    (tmp_path / "inc.py").write_text(PY)
    assert (
        "ok: created action hello"
        in lwsk.run("action", "create", "hello", str(tmp_path / "hello.js")).stdout
    )
    created = lwsk.json(
        "action",
        "create",
        "inc",
        str(tmp_path / "inc.py"),
        "-p",
        "n",
        "1",
        "--timeout",
        "5000",
        "--memory",
        "128",
        "--logsize",
        "1",
    )
    assert created["exec"]["kind"] == "python:3.11"
    assert created["limits"] == {"timeout": 5000, "memory": 128, "logs": 1, "concurrency": 1}
    invoked = lwsk.run("action", "invoke", "hello")
    assert "ok: invoked /_/hello with id" in invoked.stdout
    activation_id = invoked.stdout.split()[-1]
    record = None
    for _ in range(200):
        got = lwsk.run("activation", "get", activation_id, ok=False)
        if got.returncode == 0:
            record = got.stdout
            break
    assert record is not None and "stdout: Hello World" in record
    assert lwsk.run("activation", "logs", activation_id, "--strip").stdout.strip() == "Hello World"
    assert json.loads(lwsk.run("activation", "result", activation_id).stdout) == {
        "greeting": "Hello World"
    }
    result = lwsk.run("action", "invoke", "inc", "--result", "-p", "n", "41").stdout
    assert json.loads(result) == {"n": 42}
    blocking = lwsk.run("action", "invoke", "hello", "--blocking", "-p", "name", "Ada").stdout
    assert '"greeting": "Hello Ada"' in blocking
    params = tmp_path / "params.json"
    params.write_text('{"name": "Bo"}')
    assert json.loads(lwsk.run("action", "invoke", "hello", "-r", "-P", str(params)).stdout) == {
        "greeting": "Hello Bo"
    }
    updated = lwsk.json("action", "update", "inc", "--memory", "256")
    assert updated["version"] == "0.0.2" and updated["limits"]["memory"] == 256
    listing = lwsk.run("action", "list").stdout
    assert f"/{lwsk.namespace}/inc" in listing and "nodejs:18" in listing  # type: ignore[attr-defined]
    got = json.loads(lwsk.run("action", "get", "hello", "--no-code", "--json").stdout)
    assert "code" not in got["exec"]
    table = lwsk.run("activation", "list").stdout
    assert table.splitlines()[0].split() == [
        "Datetime",
        "Activation",
        "ID",
        "Kind",
        "Start",
        "Duration",
        "Status",
        "Entity",
    ]
    assert activation_id in table
    assert activation_id in lwsk.run("activation", "list", "hello").stdout
    assert lwsk.run("activation", "get", "--last").stdout.startswith("ok: got activation")
    polled = lwsk.run("activation", "poll", "--since", "10m", "--limit", "1").stdout
    assert "Hello World" in polled

    archive = tmp_path / "act.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("__main__.py", "def main(args):\n    return {'zipped': True}\n")
    err = lwsk.run("action", "create", "zipped", str(archive), ok=False)
    assert (
        err.returncode == 2
        and err.stderr.startswith("error: ")
        and len(err.stderr.splitlines()) == 1
    )
    lwsk.run("action", "create", "zipped", str(archive), "--kind", "python:3.11")
    assert json.loads(lwsk.run("action", "invoke", "zipped", "-r").stdout) == {"zipped": True}

    lwsk.run("action", "create", "seq", "--sequence", "inc,inc")
    assert json.loads(lwsk.run("action", "invoke", "seq", "-r", "-p", "n", "0").stdout) == {"n": 2}
    web = lwsk.json("action", "update", "hello", "--web", "true")
    assert {"key": "web-export", "value": True} in web["annotations"]
    assert "ok: deleted action seq" in lwsk.run("action", "delete", "seq").stdout
    missing = lwsk.run("action", "get", "seq", ok=False)
    assert missing.returncode == 148  # wsk's: HTTP 404 - 256
    assert missing.stderr.startswith(
        f"error: action /{lwsk.namespace}/seq does not exist (HTTP 404"
    )  # type: ignore[attr-defined]
    bad = lwsk.run("activation", "list", "--limit", "-1", ok=False)
    assert bad.returncode == 144 and "not in the range of 0 to 200" in bad.stderr


def test_triggers_rules_packages_namespaces(lwsk: Lwsk, tmp_path: Path) -> None:
    (tmp_path / "inc.py").write_text(PY)
    lwsk.run("action", "create", "inc", str(tmp_path / "inc.py"))
    assert "ok: created trigger t" in lwsk.run("trigger", "create", "t", "-p", "n", "5").stdout
    assert "no active rule" in lwsk.run("trigger", "fire", "t").stdout
    lwsk.run("rule", "create", "r", "t", "inc")
    fired = lwsk.run("trigger", "fire", "t", "-p", "extra", "1").stdout
    assert "ok: triggered /_/t with id" in fired
    assert "active" in lwsk.run("rule", "list").stdout
    assert "ok: disabled rule r" in lwsk.run("rule", "disable", "r").stdout
    assert lwsk.json("rule", "get", "r")["status"] == "inactive"
    assert "no active rule" in lwsk.run("trigger", "fire", "t").stdout
    lwsk.run("rule", "enable", "r")
    assert lwsk.json("rule", "get", "r")["status"] == "active"
    assert lwsk.json("trigger", "update", "t", "-p", "n", "6")["version"] == "0.0.2"
    assert f"/{lwsk.namespace}/t" in lwsk.run("trigger", "list").stdout  # type: ignore[attr-defined]
    lwsk.run("rule", "delete", "r")
    lwsk.run("trigger", "delete", "t")
    assert lwsk.json("trigger", "list") == []

    lwsk.run("package", "create", "tools", "-p", "a", "1", "--shared", "yes")
    lwsk.run("action", "create", "tools/inc", str(tmp_path / "inc.py"))
    lwsk.run("package", "update", "tools", "-p", "n", "10")
    lwsk.run("package", "bind", "/whisk.system/utils", "myutils", "-p", "payload", "x")
    assert json.loads(lwsk.run("action", "invoke", "myutils/echo", "-r").stdout) == {"payload": "x"}
    assert json.loads(lwsk.run("action", "invoke", "tools/inc", "-r").stdout) == {"n": 11}
    summary = lwsk.run("package", "get", "tools", "--summary").stdout
    assert f"/{lwsk.namespace}/tools/inc" in summary  # type: ignore[attr-defined]
    assert "myutils" in lwsk.run("package", "list").stdout
    assert "/whisk.system/utils" in lwsk.run("package", "list", "/whisk.system").stdout
    assert "tools/inc" in lwsk.run("action", "list", "tools").stdout
    not_empty = lwsk.run("package", "delete", "tools", ok=False)
    assert not_empty.returncode == 153 and "Package not empty" in not_empty.stderr
    lwsk.run("package", "delete", "tools", "--force")
    lwsk.run("package", "delete", "myutils")

    names = lwsk.run("namespace", "list").stdout.split()
    assert names == ["namespaces", lwsk.namespace]  # type: ignore[attr-defined]
    assert json.loads(lwsk.run("namespace", "limits").stdout)["maxActionMemory"] == 512


def test_unreachable_api_is_one_line(stack: Settings, tmp_path: Path) -> None:
    cli = Lwsk(tmp_path, stack)
    port = int(TEST_ENV["LEDGERWHISK_API_PORT"]) + 1
    done = cli.run("--apihost", f"http://127.0.0.1:{port}", "action", "list", ok=False)
    assert done.returncode == 3 and len(done.stderr.splitlines()) == 1
    assert "cannot reach" in done.stderr
