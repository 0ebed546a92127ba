"""``lwsk action ...`` against a recorded API: what it sends and prints, as ``wsk``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest

from api.cli import actions
from api.cli.actioncode import action_url, saved_code, web_annotations, wsk_action
from api.cli.client import What
from api.cli.config import Endpoint
from api.cli.entities import field_name, list_rows
from api.cli.errors import EXIT_USAGE, CLIError
from api.cli.main import cli
from api.cli.options import in_order, pairs
from api.cli.session import Session

JsonDict = dict[str, Any]
KEY = "require-whisk-auth"


class Recorded:
    """A client that answers from ``actions`` (name -> document) and records each request."""

    def __init__(self, stored: dict[str, JsonDict] | None = None) -> None:
        self.endpoint = Endpoint("http://127.0.0.1:3233", "u:k")
        self.stored = stored or {}
        self.sent: list[tuple[str, str, Any]] = []

    def call(self, method: str, path: str, body: Any = None, query: Any = None) -> tuple[int, Any]:
        self.sent.append((method, path, body))
        name = path.split("/actions/", 1)[1]
        if method == "GET":
            found = self.stored.get(name)
            return (200, found) if found else (404, {"error": "nope"})
        if method == "POST" and not (query or {}).get("blocking"):
            return 202, {"activationId": "a1"}
        if method == "POST":
            result = {"b": 1, "a": {"d": 1, "c": 2}}
            if (query or {}).get("result"):
                return 200, result
            return 200, {"activationId": "a1", "response": {"result": result}}
        return 200, {"namespace": "guest", "name": name, **(body or {})}

    def ok(
        self, method: str, path: str, body: Any = None, what: What | None = None, **q: Any
    ) -> Any:
        return self.call(method, path, body, q)[1]

    def close(self) -> None:
        pass


def run(client: Recorded, *args: str) -> Any:
    session = Session(_client=client)  # type: ignore[arg-type]
    return cli.main(list(args), prog_name="lwsk", obj=session, standalone_mode=False)


def put_body(client: Recorded) -> JsonDict:
    body = [body for method, _, body in client.sent if method == "PUT"][-1]
    assert isinstance(body, dict)
    return body


# -- 1: --sequence is a flag ------------------------------------------------------------
def test_sequence_is_a_flag_so_the_first_positional_is_the_action() -> None:
    update = actions.group.commands["update"]
    ctx = update.make_context("update", ["--sequence", "pa-js", "pa-seq2"])
    assert (ctx.params["name"], ctx.params["artifact"], ctx.params["sequence"]) == (
        "pa-js",
        "pa-seq2",
        True,
    )


def test_a_sequence_without_its_list_is_wsks_no_artifact_error() -> None:
    with pytest.raises(CLIError) as refused:
        run(Recorded(), "action", "create", "s", "--sequence")
    assert refused.value.exit_code == EXIT_USAGE
    assert str(refused.value) == "An action name and code artifact are required."


# -- 3, 7: --web-secure ------------------------------------------------------------------
def web_action(secret: Any) -> JsonDict:
    annotations = [{"key": "web-export", "value": True}]
    if secret is not None:
        annotations.append({"key": KEY, "value": secret})
    return {"annotations": annotations}


def test_web_secure_true_keeps_an_existing_numeric_secret() -> None:
    assert web_annotations(None, "true", web_action(5737871955635930)).set == {
        KEY: 5737871955635930
    }
    fresh = web_annotations(None, "true", web_action("a string")).set[KEY]
    assert isinstance(fresh, int) and fresh != "a string"


def test_web_secure_false_deletes_an_existing_secret() -> None:
    change = web_annotations("true", "false", web_action(123))
    assert change.delete == (KEY,) and KEY not in change.set
    # With none to delete, wsk sets it false (updateWebSecureAnnotation's last branch).
    assert web_annotations("true", "false", None).set[KEY] is False


def test_an_update_with_web_secure_sends_what_wsk_sends() -> None:
    client = Recorded({"w": web_action(42)})
    run(client, "action", "update", "w", "--web-secure", "true")
    assert {"key": KEY, "value": 42} in put_body(client)["annotations"]
    run(client, "action", "update", "w", "--web-secure", "false")
    body = put_body(client)
    assert body["delAnnotations"] == [KEY]
    assert all(a["key"] != KEY for a in body.get("annotations", []))


# -- 6: --del-annotation ----------------------------------------------------------------
def test_update_deletes_annotations_and_create_has_no_such_flag() -> None:
    client = Recorded()
    run(client, "action", "update", "x", "--del-annotation", "a", "--del-annotation", "b")
    assert put_body(client)["delAnnotations"] == ["a", "b"]
    with pytest.raises(click.NoSuchOption):
        run(client, "action", "create", "x", "f.py", "--del-annotation", "a")


# -- 8: JSON as wsk prints it ------------------------------------------------------------
STORED = {
    "namespace": "guest",
    "name": "hello",
    "version": "0.0.1",
    "publish": False,
    "parameters": [],
    "annotations": [{"key": "parameters", "value": [{"name": "n", "description": "d"}]}],
    "exec": {"binary": False, "kind": "python:3.11"},
    "limits": {"concurrency": 1, "timeout": 60000, "memory": 256, "logs": 10},
    "updated": 1,
}


def test_an_action_is_printed_in_client_gos_struct_order_without_empty_lists() -> None:
    shaped = wsk_action(STORED)
    assert list(shaped) == [
        "namespace",
        "name",
        "version",
        "exec",
        "annotations",
        "limits",
        "publish",
        "updated",
    ]
    assert list(shaped["exec"]) == ["kind", "binary"]
    assert list(shaped["limits"]) == ["timeout", "memory", "logs", "concurrency"]
    assert shaped["annotations"][0]["value"] == [{"description": "d", "name": "n"}]
    assert list(shaped["annotations"][0]["value"][0]) == ["description", "name"]


def test_get_and_invoke_print_four_space_json_in_wsks_key_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = Recorded({"hello": STORED})
    run(client, "action", "get", "hello")
    out = capsys.readouterr().out
    assert out.startswith('ok: got action hello\n{\n    "namespace": "guest",\n    "name": "hello"')
    assert '"parameters": []' not in out and out.count('"parameters"') == 1
    run(client, "action", "invoke", "hello", "-r")
    assert capsys.readouterr().out == json.dumps({"a": {"c": 2, "d": 1}, "b": 1}, indent=4) + "\n"


def test_every_field_of_client_gos_action_is_a_field_filter() -> None:
    for field in ("code", "error", "env", "delAnnotations", "DELANNOTATIONS"):
        field_name("action", field)


# -- 9: ok lines name the entity as wsk does ---------------------------------------------
def test_ok_lines_name_the_action_without_its_namespace(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = tmp_path / "a.py"
    code.write_text("def main(a):\n    return a\n")
    client = Recorded({"pkg/inner": {"namespace": "guest/pkg", "name": "inner"}})
    run(client, "action", "create", "/_/q1", str(code))
    run(client, "action", "create", "/guest/pkg/q2", str(code))
    run(client, "action", "delete", "/guest/pkg/q2")
    run(client, "action", "get", "/_/pkg/inner", "--url")
    run(client, "action", "invoke", "guest/pkg/inner")
    assert capsys.readouterr().out.splitlines() == [
        "ok: created action q1",
        "ok: created action pkg/q2",
        "ok: deleted action pkg/q2",
        "ok: got action inner",  # printActionGetWithURL: GetEntity
        "http://127.0.0.1:3233/api/v1/namespaces/guest/actions/pkg/inner",
        "ok: invoked /guest/pkg/inner with id a1",
    ]


# -- 10: --save of what has no code is a usage error -------------------------------------
@pytest.mark.parametrize(
    "exec_", [{"kind": "sequence", "components": ["/_/a"]}, {"kind": "blackbox", "image": "i"}]
)
def test_saving_a_sequence_or_an_image_exits_2(exec_: JsonDict) -> None:
    with pytest.raises(CLIError) as refused:
        saved_code({"name": "x", "exec": exec_}, None)
    assert refused.value.exit_code == EXIT_USAGE


# -- 11: list rows -----------------------------------------------------------------------
def test_only_a_package_row_says_shared() -> None:
    entity = {"namespace": "guest", "name": "a", "publish": True, "annotations": []}
    assert list_rows([entity], "action", False)[0][1] == "private"
    assert list_rows([entity], "trigger", False)[0][1] == "private"
    assert list_rows([entity], "package", False)[0][1] == "shared"


# -- 12: -p and -P in command-line order -------------------------------------------------
def test_parameter_files_merge_and_apply_in_command_line_order(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text('{"pf1": "first", "pf2": 2}')
    b.write_text('{"pf1": "second"}')
    both = in_order(["param_file", "param_file"], ("param", "param_file"), [], [str(a), str(b)])
    assert pairs(both, "parameter") == {"pf1": "second", "pf2": 2}
    mixed = in_order(["param", "param_file"], ("param", "param_file"), [("pf1", "X")], [str(a)])
    assert pairs(mixed, "parameter") == {"pf1": "first", "pf2": 2}


def test_the_command_line_order_reaches_the_request(tmp_path: Path) -> None:
    params = tmp_path / "p.json"
    params.write_text('{"pf1": "file"}')
    client = Recorded({"x": {"name": "x"}})
    run(client, "action", "invoke", "x", "-p", "pf1", "X", "-P", str(params))
    run(client, "action", "invoke", "x", "-P", str(params), "-p", "pf1", "X")
    bodies = [body for method, _, body in client.sent if method == "POST"]
    assert bodies == [{"pf1": "file"}, {"pf1": "X"}]


# -- 15: the URL names the package given ------------------------------------------------
def test_a_url_through_a_binding_names_the_binding() -> None:
    action = {
        "namespace": "guest/pa-pkg",
        "name": "inner",
        "annotations": web_action(None)["annotations"],
    }
    assert (
        action_url("https://h", "v1", action, "pa-bind")
        == "https://h/api/v1/web/guest/pa-bind/inner"
    )
    assert action_url("https://h", "v1", action) == "https://h/api/v1/web/guest/default/inner"
