"""The probe of lwsk's action commands and configuration against wsk, on the real stack.

Each test pins one finding of notes/probe_lwsk_action.md (the number in its
name): ``lwsk`` now does what ``wsk`` does (apache/openwhisk-cli
``commands/action.go``, ``property.go``, ``qualified_name.go``; client-go
``whisk/util.go`` ``GetURLBase``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import Lwsk
from tests.support.stack import API, API_TLS

pytestmark = pytest.mark.integration

ECHO = "def main(args):\n    return args\n"
KEY = "require-whisk-auth"


def code(tmp_path: Path, text: str = ECHO, name: str = "echo.py") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def annotations(lwsk: Lwsk, name: str) -> dict[str, object]:
    return {a["key"]: a["value"] for a in lwsk.json("action", "get", name)["annotations"]}


def test_1_sequence_is_a_flag_so_the_first_name_is_replaced(lwsk: Lwsk, tmp_path: Path) -> None:
    lwsk.run("action", "create", "a", code(tmp_path))
    lwsk.run("action", "create", "b", code(tmp_path))
    done = lwsk.run("action", "update", "--sequence", "a", "b")
    assert done.stdout == "ok: updated action a\n"
    assert lwsk.json("action", "get", "a")["exec"]["kind"] == "sequence"
    assert lwsk.json("action", "get", "b")["exec"]["kind"] == "python:3.11"


def test_2_three_part_names_name_their_namespace(lwsk: Lwsk, tmp_path: Path) -> None:
    ns = lwsk.namespace  # type: ignore[attr-defined]
    lwsk.run("package", "create", "pkg")
    lwsk.run("action", "create", "pkg/inner", code(tmp_path))
    assert lwsk.run("action", "get", f"{ns}/pkg/inner", "-s").returncode == 0
    invoked = lwsk.run("action", "invoke", f"{ns}/pkg/inner", "-r", "-p", "x", "1")
    assert json.loads(invoked.stdout) == {"x": 1}
    lwsk.run("action", "create", "seq", "--sequence", f"{ns}/pkg/inner")
    assert lwsk.json("action", "get", "seq")["exec"]["components"] == [f"/{ns}/pkg/inner"]


def test_3_7_web_secure_keeps_its_secret_and_false_removes_it(lwsk: Lwsk, tmp_path: Path) -> None:
    echo = code(tmp_path)
    lwsk.run("action", "create", "w", echo, "--web", "true", "--web-secure", "true")
    secret = annotations(lwsk, "w")[KEY]
    assert isinstance(secret, int)
    lwsk.run("action", "update", "w", echo, "--web", "true", "--web-secure", "true")
    lwsk.run("action", "update", "w", "--web-secure", "true")
    assert annotations(lwsk, "w")[KEY] == secret
    lwsk.run("action", "update", "w", echo, "--web", "true", "--web-secure", "false")
    assert KEY not in annotations(lwsk, "w")


def test_4_wsks_environment_variables_beat_the_file(lwsk: Lwsk, tmp_path: Path) -> None:
    lwsk.run("action", "create", "e", code(tmp_path))
    key = lwsk.run("property", "get", "--auth", "-o", "raw").stdout.strip()
    lwsk.run("property", "set", "--apihost", "http://127.0.0.1:9", "--auth", "bad:key")
    lwsk.run("property", "set", "--apiversion", "v2")
    env = dict(lwsk.env)
    try:
        lwsk.env.update(WHISK_APIHOST=API, WHISK_AUTH=key, WHISK_APIVERSION="v1")
        assert lwsk.run("action", "get", "e", "-s").returncode == 0
        # lwsk's older names still work, below wsk's.
        for name in ("WHISK_APIHOST", "WHISK_AUTH"):
            del lwsk.env[name]
        lwsk.env.update(WSK_APIHOST=API, WSK_AUTH=key)
        assert lwsk.run("action", "get", "e", "-s").returncode == 0
    finally:
        lwsk.env.clear()
        lwsk.env.update(env)
        lwsk.run("property", "set", "--apihost", API, "--auth", key, "--apiversion", "v1")


def test_5_a_bare_host_is_https(lwsk: Lwsk, tmp_path: Path) -> None:
    lwsk.run("action", "create", "h", code(tmp_path))
    tls = API_TLS.removeprefix("https://")
    assert lwsk.run("-i", "--apihost", tls, "action", "get", "h", "-s").returncode == 0
    plain = lwsk.run("--apihost", API.removeprefix("http://"), "action", "get", "h", ok=False)
    # https to the plain-HTTP port, as wsk; the error says to write http://
    assert plain.returncode == 3, plain.stderr
    assert "does not speak TLS" in plain.stderr and "http://" in plain.stderr
    done = lwsk.run("property", "set", "--apihost", tls)
    assert done.stdout == f"ok: whisk API host set to {tls}\n"
    assert f"APIHOST={tls}\n" in (Path(lwsk.env["HOME"]) / ".wskprops").read_text()
    lwsk.run("property", "set", "--apihost", API)


def test_6_update_deletes_annotations(lwsk: Lwsk, tmp_path: Path) -> None:
    lwsk.run("action", "create", "d", code(tmp_path), "-a", "keep", "1", "-a", "gone", "2")
    lwsk.run("action", "update", "d", "--del-annotation", "gone")
    found = annotations(lwsk, "d")
    assert found["keep"] == 1 and "gone" not in found


def test_8_json_is_indented_by_4_in_wsks_key_order(lwsk: Lwsk, tmp_path: Path) -> None:
    lwsk.run("action", "create", "j", code(tmp_path))
    got = lwsk.run("action", "get", "j").stdout
    document = got.split("\n", 1)[1]
    assert document.startswith('{\n    "namespace": ')
    assert list(json.loads(document)) == [
        "namespace",
        "name",
        "version",
        "exec",
        "annotations",
        "limits",
        "publish",
        "updated",
    ]
    result = lwsk.run("action", "invoke", "j", "-r", "-p", "b", "1", "-p", "a", "2").stdout
    assert result == '{\n    "a": 2,\n    "b": 1\n}\n'
    assert lwsk.run("action", "get", "j", "code").stdout.endswith("\n0\n")  # a Go zero value


def test_9_16_ok_lines_and_names_checked_before_any_request(lwsk: Lwsk, tmp_path: Path) -> None:
    ns = lwsk.namespace  # type: ignore[attr-defined]
    echo = code(tmp_path)
    lwsk.run("package", "create", "p")
    assert lwsk.run("action", "create", "/_/q1", echo).stdout == "ok: created action q1\n"
    created = lwsk.run("action", "create", f"/{ns}/p/q2", echo).stdout
    assert created == "ok: created action p/q2\n"
    assert lwsk.run("action", "get", f"/{ns}/p/q2", "--url").stdout.startswith(
        "ok: got action q2\n"
    )
    assert lwsk.run("action", "delete", "/_/p/q2").stdout == "ok: deleted action p/q2\n"
    five = lwsk.run("action", "get", f"/{ns}/a/b/c", ok=False)
    assert five.returncode == 1
    assert f"'/{ns}/a/b/c' is not a valid qualified name" in five.stderr


def test_10_saving_a_sequence_is_a_usage_error(lwsk: Lwsk, tmp_path: Path) -> None:
    lwsk.run("action", "create", "s1", code(tmp_path))
    lwsk.run("action", "create", "s", "--sequence", "s1")
    saved = lwsk.run("action", "get", "s", "--save", cwd=tmp_path, ok=False)
    assert saved.returncode == 2 and "Cannot save action sequences" in saved.stderr


def test_12_parameter_files_merge_in_command_line_order(lwsk: Lwsk, tmp_path: Path) -> None:
    lwsk.run("action", "create", "m", code(tmp_path))
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text('{"pf1": "file", "pf2": 2}')
    b.write_text('{"pf3": 3}')
    both = lwsk.json("action", "invoke", "m", "-r", "-P", str(a), "-P", str(b))
    assert both == {"pf1": "file", "pf2": 2, "pf3": 3}
    later_file = lwsk.json("action", "invoke", "m", "-r", "-p", "pf1", "X", "-P", str(a))
    assert later_file["pf1"] == "file"


def test_13_an_empty_config_file_variable_ignores_wskprops(lwsk: Lwsk, tmp_path: Path) -> None:
    home = Path(lwsk.env["HOME"])
    (home / ".wskprops").write_text("APIHOST=http://127.0.0.1:9\n")
    env = dict(lwsk.env)
    try:
        lwsk.env["WSK_CONFIG_FILE"] = ""
        shown = lwsk.run("property", "get", "--apihost", "-o", "raw").stdout
        assert shown == "http://127.0.0.1:3233\n"  # the default, not ~/.wskprops's
    finally:
        lwsk.env.clear()
        lwsk.env.update(env)


def test_15_a_url_through_a_binding_names_the_binding(lwsk: Lwsk, tmp_path: Path) -> None:
    ns = lwsk.namespace  # type: ignore[attr-defined]
    lwsk.run("package", "create", "orig")
    lwsk.run("action", "create", "orig/inner", code(tmp_path), "--web", "true")
    lwsk.run("package", "bind", "orig", "bound")
    url = lwsk.run("action", "get", "bound/inner", "--url").stdout.splitlines()
    assert url == ["ok: got action inner", f"{API}/api/v1/web/{ns}/bound/inner"]
