"""Issue 18 on the real stack: ``lwsk`` says ok only when it is, and has wsk's everyday commands.

Every test drives the installed ``lwsk`` as a user does (subprocess, exit
codes, output); exit codes are wsk's (HTTP status - 256, 202, 1 for a command line
its parser refuses, 2 for its usage errors).
"""

from __future__ import annotations

import json
import re
import time
from importlib import metadata
from pathlib import Path

import pytest

from tests.support.cli import Lwsk
from tests.support.stack import API

pytestmark = pytest.mark.integration

HELLO = "def main(args):\n    print('hi', args.get('msg'))\n    return {'msg': args.get('msg')}\n"
SLOW = "import time\ndef main(args):\n    time.sleep(4)\n    return {'slept': True}\n"
INC = "def main(args):\n    return {'n': args.get('n', 0) + 1}\n"


def one_error_line(done: object) -> str:
    err = done.stderr  # type: ignore[attr-defined]
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return str(lines[0])


def code(lwsk: Lwsk, tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# -- 1-3, 5: nothing that looks like success when it is not ------------------------------
def test_a_blocking_invoke_past_the_wait_says_so_and_fails(lwsk: Lwsk, tmp_path: Path) -> None:
    lwsk.run("action", "create", "slow", code(lwsk, tmp_path, "slow.py", SLOW))
    for flag in ("--blocking", "--result"):
        done = lwsk.run("action", "invoke", "slow", flag, "--wait", "1", ok=False)
        assert done.returncode == 202 and done.stdout == ""
        first, hint = done.stderr.splitlines()
        assert first.startswith(
            "ok: invoked /_/slow, but the request has not yet finished, with id"
        )
        activation_id = first.split()[-1]
        assert f"lwsk activation result {activation_id}" in hint
    # The activation goes on and completes: its result is there later.
    for _ in range(200):
        got = lwsk.run("activation", "result", activation_id, ok=False)
        if got.returncode == 0:
            break
    assert json.loads(got.stdout) == {"slept": True}


def test_reruns_of_sequences_and_triggers_work_or_are_refused_at_once(
    lwsk: Lwsk, tmp_path: Path
) -> None:
    lwsk.run("action", "create", "inc", code(lwsk, tmp_path, "inc.py", INC))
    lwsk.run("action", "create", "twice", "--sequence", "inc,inc")
    first = lwsk.json("action", "invoke", "twice", "-b", "-p", "n", "1")
    again = lwsk.run("activation", "rerun", first["activationId"], "-r")
    assert json.loads(again.stdout) == {"n": 3}
    lwsk.run("trigger", "create", "t")
    lwsk.run("rule", "create", "r", "t", "inc")
    fired = lwsk.json("trigger", "fire", "t", '{"n": 5}')
    rerun = lwsk.run("activation", "replay", fired["activationId"], "--blocking")
    assert rerun.stdout.startswith(f"ok: re-ran {fired['activationId']} as ")
    record = json.loads(rerun.stdout.split("\n", 1)[1])
    assert record["response"]["success"] and json.loads(record["logs"][0])["success"]
    lwsk.run("rule", "disable", "r")
    refused = lwsk.run("activation", "rerun", fired["activationId"], ok=False)
    assert refused.returncode == 153 and "no active rule" in one_error_line(refused)


def test_updates_that_would_change_nothing_and_wrong_flag_pairs_are_refused(
    lwsk: Lwsk, tmp_path: Path
) -> None:
    hello = code(lwsk, tmp_path, "hello.py", HELLO)
    lwsk.run("action", "create", "hello", hello)
    # wsk's exit codes: 2 its usage errors, 149 whisk.NOT_ALLOWED (action.go parseAction).
    for flags, text, exit_code in (
        (["--kind", "nodejs:18"], "--kind changes the action's code", 2),
        (["--main", "nothere"], "--main changes the action's code", 2),
        (["--docker", "i", "--kind", "python:3.11"], "Cannot specify both --kind", 149),
        (["--web-secure", "s3cret"], "only valid when the --web option is enabled", 2),
        (["--web", "maybe"], "Invalid argument 'maybe' for --web flag", 2),
    ):
        done = lwsk.run("action", "update", "hello", *flags, ok=False)
        assert done.returncode == exit_code and text in one_error_line(done), flags
    assert lwsk.json("action", "get", "hello")["version"] == "0.0.1"  # nothing changed
    # With --web, --web-secure is fine; later alone too, the action being a web action.
    lwsk.run("action", "update", "hello", "--web", "true", "--web-secure", "s3cret")
    lwsk.run("action", "update", "hello", "--web-secure", "other")
    got = lwsk.json("action", "get", "hello", "annotations")
    assert {"key": "require-whisk-auth", "value": "other"} in got


def test_tail_since_replays_the_past_in_time_order(lwsk: Lwsk, tmp_path: Path) -> None:
    lwsk.run("action", "create", "hello", code(lwsk, tmp_path, "hello.py", HELLO))
    # Activations started at once from several shells interleave across partitions.
    lwsk.shell(" & ".join(["lwsk action invoke hello -b >/dev/null"] * 8) + "; wait")
    deadline = time.monotonic() + 60  # the records are written just after the answers
    while len(listed := lwsk.json("activation", "list", "hello", "--limit", "50")) < 8:
        assert time.monotonic() < deadline, listed
    assert len(listed) == 8
    # Three events each when the API placed it, four when the controller did.
    total = sum(len(lwsk.json("activation", "events", a["activationId"])) for a in listed)
    tail = lwsk.run("--json", "activation", "tail", "--since", "5m", "--limit", str(total))
    views = [json.loads(line) for line in tail.stdout.splitlines()]
    assert len({v["partition"] for v in views}) > 1
    latest: dict[int, int] = {}
    keys = []
    for view in views:
        latest[view["partition"]] = max(latest.get(view["partition"], 0), view["logged_ms"])
        keys.append(latest[view["partition"]])
    assert keys == sorted(keys)


# -- 6, 7: actions and activations -------------------------------------------------------
def test_action_get_list_and_web_urls(lwsk: Lwsk, tmp_path: Path) -> None:
    ns = lwsk.namespace  # type: ignore[attr-defined]
    hello = code(lwsk, tmp_path, "hello.py", HELLO)
    lwsk.run("action", "create", "b-one", hello, "-p", "msg", "x", "-a", "description", "says hi")
    created = lwsk.run("action", "create", "a-web", hello, "--web", "true")
    assert created.stdout.splitlines() == [
        "ok: created action a-web",
        f"{API}/api/v1/web/{ns}/default/a-web",
    ]
    url = lwsk.run("action", "get", "b-one", "--url").stdout.splitlines()
    assert url == ["ok: got action b-one", f"{API}/api/v1/namespaces/{ns}/actions/b-one"]
    summary = lwsk.run("action", "get", "b-one", "-s").stdout.splitlines()
    assert summary == [f"action /{ns}/b-one: says hi", "   (parameters: *msg)"]
    field = lwsk.run("action", "get", "b-one", "limits").stdout
    assert field.startswith("ok: got action b-one, displaying field limits\n")
    assert json.loads(field.split("\n", 1)[1])["timeout"] == 60000
    saved = lwsk.run("action", "get", "b-one", "--save", cwd=tmp_path)
    assert saved.stdout.strip() == f"ok: saved action code to {tmp_path / 'b-one.py'}"
    assert (tmp_path / "b-one.py").read_text() == HELLO
    again = lwsk.run("action", "get", "b-one", "--save", cwd=tmp_path, ok=False)
    # A usage error in wsk (action.go fileExistsError): exit 2.
    assert again.returncode == 2 and "already exists" in one_error_line(again)
    lwsk.run("action", "get", "b-one", "--save-as", str(tmp_path / "copy.py"))
    assert (tmp_path / "copy.py").read_text() == HELLO
    names = [line.split()[0] for line in lwsk.run("action", "list", "-n").stdout.splitlines()[1:]]
    assert names == [f"/{ns}/a-web", f"/{ns}/b-one"]
    # client-go's fixed columns: the name in 70, then shared/private and the kind.
    row = lwsk.run("action", "list", "-n").stdout.splitlines()[1]
    assert row.startswith(f"{f'/{ns}/a-web':<70} private ")
    assert f"/{ns}/b-one" in lwsk.run("action", "list", f"/{ns}").stdout
    utils = lwsk.run("action", "list", "/whisk.system/utils").stdout
    assert "/whisk.system/utils/echo" in utils


def test_activation_list_get_and_poll_as_wsk(lwsk: Lwsk, tmp_path: Path) -> None:
    lwsk.run("action", "create", "hello", code(lwsk, tmp_path, "hello.py", HELLO))
    # -p takes the next two words as they are, even one that looks like a flag.
    first = lwsk.json("action", "invoke", "hello", "-r", "-p", "msg", "-hello")
    assert first == {"msg": "-hello"}
    lines = lwsk.run("activation", "list", "--since", "10m").stdout.splitlines()
    assert lines[0].split() == [
        "Datetime",
        "Activation",
        "ID",
        "Kind",
        "Start",
        "Duration",
        "Status",
        "Entity",
    ]
    row = lines[1].split()
    ns = lwsk.namespace  # type: ignore[attr-defined]
    assert row[3:] == ["python:3.11", row[4], row[5], "success", f"{ns}/hello:0.0.1"]
    assert row[4] in ("cold", "warm") and row[5].endswith("s")
    activation_id = row[2]
    response = lwsk.run("activation", "get", activation_id, "response").stdout
    assert response.startswith(f"ok: got activation {activation_id}, displaying field response")
    summary = lwsk.run("activation", "get", activation_id, "-s").stdout
    assert summary.startswith(f"activation result for '/{ns}/hello' (success at ")
    polled = lwsk.run("activation", "poll", "--since-minutes", "10", "--limit", "1").stdout
    assert polled.startswith(f"Activation: 'hello' ({activation_id})  success")
    began = time.monotonic()
    quiet = lwsk.run("activation", "poll", "hello", "--exit", "1")
    assert quiet.returncode == 0 and quiet.stdout == "" and time.monotonic() - began < 60


# -- 8: triggers, rules, packages, namespaces, properties, globals -----------------------
def test_trigger_rule_package_and_namespace_commands(lwsk: Lwsk, tmp_path: Path) -> None:
    ns = lwsk.namespace  # type: ignore[attr-defined]
    lwsk.run("action", "create", "hello", code(lwsk, tmp_path, "hello.py", HELLO))
    lwsk.run("trigger", "create", "t")
    lwsk.run("rule", "create", "r", "t", "hello")
    assert lwsk.run("rule", "status", "r").stdout.strip() == "ok: rule r is active"
    fired = lwsk.run("trigger", "fire", "t", '{"msg": "payload"}', "-p", "extra", "1").stdout
    trigger_id = fired.split()[-1]
    record = None
    for _ in range(200):
        got = lwsk.run("activation", "get", trigger_id, "logs", ok=False)
        if got.returncode == 0:
            record = json.loads(got.stdout.split("\n", 1)[1])
            break
    assert record is not None
    started = json.loads(record[0])["activationId"]
    for _ in range(200):
        result = lwsk.run("activation", "result", started, ok=False)
        if result.returncode == 0:
            break
    assert json.loads(result.stdout) == {"msg": "payload"}
    bad = lwsk.run("trigger", "fire", "t", "[1]", ok=False)
    assert bad.returncode == 1 and "must be a JSON object" in one_error_line(bad)
    assert lwsk.run("rule", "delete", "r", "--disable").stdout.strip() == "ok: deleted rule r"
    feed = lwsk.run("trigger", "create", "fed", "--feed", "/whisk.system/alarms/alarm", ok=False)
    assert feed.returncode == 246  # the feed's failed invoke (502), as wsk's createFeed
    assert "alarms trigger feed is missing the cron parameter" in one_error_line(feed)
    assert "fed" not in lwsk.run("trigger", "list").stdout  # not left behind
    nosuch = lwsk.run("trigger", "create", "fed", "--feed", "/whisk.system/alarms/x", ok=False)
    assert nosuch.returncode == 148 and "fed" not in lwsk.run("trigger", "list").stdout

    lwsk.run("package", "bind", "/whisk.system/utils", "u", "-p", "x", "1")
    dup = lwsk.run("package", "bind", "/whisk.system/utils", "u", ok=False)
    assert dup.returncode == 153 and "-o" in one_error_line(dup)
    lwsk.run("package", "bind", "/whisk.system/utils", "u", "-p", "x", "2", "-o")
    assert lwsk.json("package", "get", "u", "parameters") == [{"key": "x", "value": 2}]
    lwsk.run("package", "create", "p")
    lwsk.run("package", "bind", "p", "stale")
    lwsk.run("package", "delete", "p")
    refreshed = lwsk.run("package", "refresh").stdout.splitlines()
    assert refreshed[0] == f"'{ns}' refreshed successfully" and f"/{ns}/stale" in refreshed

    listing = lwsk.run("list").stdout.splitlines()
    assert listing[0] == f"Entities in namespace: {ns}"
    for header in ("packages", "actions", "triggers", "rules"):
        assert header in listing
    assert lwsk.run("namespace", "get").stdout == lwsk.run("list").stdout
    assert lwsk.run("list", "/_").stdout == lwsk.run("list").stdout  # wsk's list is namespace get


def test_properties_version_completion_and_global_flags(lwsk: Lwsk) -> None:
    ns = lwsk.namespace  # type: ignore[attr-defined]
    assert lwsk.run("property", "get", "--apihost").stdout == f"whisk API host\t\t{API}\n"
    assert lwsk.run("property", "get", "--namespace", "-o", "raw").stdout == f"{ns}\n"
    key = lwsk.run("property", "get", "--auth", "-o", "raw").stdout.strip()
    everything = lwsk.run("property", "get", "--all").stdout
    assert "whisk CLI version" in everything and key in everything
    # As wsk: the API's build from GET /api/v1.
    build = metadata.version("ledgerwhisk")
    assert lwsk.run("property", "get", "--apibuild").stdout == f"whisk API build\t\t{build}\n"
    assert lwsk.run("property", "get", "--apibuildno", "-o", "raw").stdout == f"{build}\n"
    # An API that cannot be asked: Unknown shown, then the error, exit 3 (wsk property.go).
    away = lwsk.run("--apihost", "http://127.0.0.1:1", "property", "get", "--apibuild", ok=False)
    assert away.returncode == 3 and away.stdout == "whisk API build\t\tUnknown\n"
    assert one_error_line(away).startswith("error: Unable to obtain API build information: ")
    assert lwsk.run("property", "unset", "--auth").stdout.strip() == "ok: whisk auth unset."
    assert "AUTH=" not in (Path(lwsk.env["HOME"]) / ".wskprops").read_text()
    refused = lwsk.run(
        "-u", "00000000-0000-0000-0000-000000000000:nope", "action", "list", ok=False
    )
    line = one_error_line(refused)
    assert refused.returncode == 145 and API in line and "--auth" in line
    lwsk.run("property", "set", "--auth", key)

    version = lwsk.run("version").stdout.splitlines()
    assert version[0].startswith("lwsk ")
    assert re.fullmatch(rf"API {API}: Ledgerwhisk API 1\.0\.0 \(build [0-9.]+\)", version[1])
    assert "_LWSK_COMPLETE" in lwsk.run("completion", "bash").stdout
    verbose = lwsk.run("namespace", "list", "-v")
    assert "REQUEST:" in verbose.stderr and "RESPONSE:Got response with code 200" in verbose.stderr
    assert "Basic ***" in verbose.stderr and key.split(":")[1] not in verbose.stderr
    debug = lwsk.run("action", "list", "-d")
    assert "debug: lwsk: key" in debug.stderr and "from" in debug.stderr
    assert lwsk.run("namespace", "list", "-i").stdout.split() == ["namespaces", ns]
    cert = lwsk.run("action", "list", "--cert", "/nonexistent.pem", ok=False)
    assert "client certificate /nonexistent.pem" in one_error_line(cert)
    for host in ("http://:abc", "notahost.."):
        bad_host = lwsk.run("action", "list", "--apihost", host, ok=False)
        assert bad_host.returncode == 1, host
        assert one_error_line(bad_host).startswith("error: The API host is not valid: "), host


# -- 9, 10: usage, JSON everywhere, errors ----------------------------------------------
def test_json_usage_and_one_line_errors(lwsk: Lwsk, tmp_path: Path) -> None:
    ns = lwsk.namespace  # type: ignore[attr-defined]
    hello = code(lwsk, tmp_path, "hello.py", HELLO)
    # A name with a space is legal, and works end to end.
    lwsk.run("action", "create", "my action", hello)
    assert lwsk.json("action", "invoke", "my action", "-r", "-p", "msg", "x") == {"msg": "x"}
    for words in (
        ["action", "list"],
        ["action", "delete", "my action"],
        ["namespace", "list"],
        ["property", "get", "--apihost"],
        ["version"],
        ["trigger", "create", "t"],
        ["trigger", "fire", "t"],
        ["rule", "list"],
        ["package", "list", "/whisk.system"],
        ["activation", "list"],
        ["list"],
    ):
        assert isinstance(lwsk.json(*words), dict | list), words
    # A command line wsk's parser refuses exits 1 (cobra's errors, CheckArgs); a file
    # that cannot be read is a usage error, 2 (util.go ReadFile).
    usage = lwsk.run("action", "create", "x", hello, "--nope", ok=False)
    assert usage.returncode == 1 and "Usage: lwsk action create" in usage.stderr
    assert "No such option: --nope" in usage.stderr
    for words in (["action", "create"], ["action", "get"], ["action", "invoke", "a", "b"]):
        assert lwsk.run(*words, ok=False).returncode == 1, words
    assert lwsk.run("action", "create", "x", hello, "-m", "abc", ok=False).returncode == 1
    # wsk's general errors, exit 1: a bad --shared value, an entity name where a list takes
    # a namespace, an argument to namespace get.
    for words in (
        ["package", "create", "p1", "--shared", "maybe"],
        ["package", "list", "/guest/p1"],
        ["namespace", "get", "extra"],
    ):
        refused = lwsk.run(*words, ok=False)
        assert refused.returncode == 1, (words, refused.stderr)
    for words in (
        ["action", "create", "x", str(tmp_path / "nofile.zip")],
        ["action", "create", "x", hello, "-P", str(tmp_path / "nofile.json")],
    ):
        nofile = lwsk.run(*words, ok=False)
        assert nofile.returncode == 2, words
        assert "is not a valid file or it does not exist" in one_error_line(nofile), words
    notjson = tmp_path / "params.json"
    notjson.write_text("{nope")
    bad_params = lwsk.run("action", "create", "x", hello, "-P", str(notjson), ok=False)
    assert bad_params.returncode == 1 and "is not JSON" in one_error_line(bad_params)

    missing = lwsk.run("action", "invoke", "hello", ok=False)
    assert missing.returncode == 148
    assert one_error_line(missing).startswith(f"error: action /{ns}/hello does not exist")
    lwsk.run("action", "create", "hello", hello)
    twice = lwsk.run("action", "create", "hello", hello, ok=False)
    assert twice.returncode == 153 and "`lwsk action update hello ...`" in one_error_line(twice)
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# caf\xe9\ndef main(args):\n    return {}\n")
    binary = lwsk.run("action", "create", "latin", str(latin), ok=False)
    assert binary.returncode == 1 and "is not UTF-8 text" in one_error_line(binary)
    for _ in range(3):
        lwsk.run("action", "invoke", "hello")
    piped = lwsk.shell("set -o pipefail; lwsk activation list | head -1")
    assert piped.stdout.startswith("Datetime") and "Traceback" not in piped.stderr


def test_admin_user_list_block_and_delete(lwsk: Lwsk) -> None:
    name = "u" + str(time.time_ns())[-8:]
    key = lwsk.run("admin", "user", "create", name).stdout.strip()
    # wskadmin's lines: "uuid:key<TAB>subject" (tools/admin/wskadmin listUserCmd).
    assert lwsk.run("admin", "user", "list", name).stdout == f"{key}\t{name}\n"
    keys_only = lwsk.run("admin", "user", "list", name, "-k")
    assert keys_only.stdout.split() == [key] and keys_only.stderr == ""  # no warning
    assert (
        lwsk.run("admin", "user", "block", name).stdout.strip() == f'"{name}" blocked successfully'
    )
    assert lwsk.json("admin", "user", "list", name)[0]["blocked"] is True
    lwsk.run("admin", "user", "unblock", name)
    assert lwsk.json("admin", "user", "list", name)[0]["blocked"] is False
    gone = lwsk.run("admin", "user", "delete", name).stdout.strip()
    assert gone == "Subject deleted"  # wskadmin's text
    missing = lwsk.run("admin", "user", "delete", name, ok=False)
    assert missing.returncode == 1 and "does not exist" in one_error_line(missing)


def listed_row(lwsk: Lwsk, activation_id: str, *words: str) -> list[str]:
    """The ``activation list`` row of one activation, once the projection lists it."""
    for _ in range(400):
        for line in lwsk.run("activation", "list", *words).stdout.splitlines()[1:]:
            if activation_id in line:
                return line.split()
    raise AssertionError(f"{activation_id} is not listed by activation list {words}")


def test_activation_commands_check_arguments_and_read_names_as_wsk(
    lwsk: Lwsk, tmp_path: Path
) -> None:
    from api.cli.activations import go_duration

    ns = lwsk.namespace  # type: ignore[attr-defined]
    # CheckArgs: a missing id exits 1 with the command's usage; so does a bad flag value.
    for command in ("get", "logs", "result"):
        done = lwsk.run("activation", command, ok=False)
        assert done.returncode == 1, command
        assert f"Usage: lwsk activation {command}" in done.stderr
        assert "Invalid argument(s). An activation ID is required." in done.stderr
    bad = lwsk.run("activation", "list", "--since", "bogus", ok=False)
    assert bad.returncode == 1 and "Usage: lwsk activation list" in bad.stderr

    lwsk.run("package", "create", "pkg")
    lwsk.run("action", "create", "pkg/inner", code(lwsk, tmp_path, "inc.py", INC))
    lwsk.run("action", "create", "seq", "--sequence", "pkg/inner,pkg/inner")
    inner = lwsk.json("action", "invoke", "pkg/inner", "-b")["activationId"]
    # NAMESPACE or NAME, as wsk's NewQualifiedName reads it; listed under your own namespace.
    for words in ([f"/{ns}"], ["/someone.else"], [f"{ns}/pkg/inner"], [f"/{ns}/pkg/inner"]):
        row = listed_row(lwsk, inner, *words)
        assert row[-1] == f"{ns}/inner:0.0.1", words  # wsk's Entity: namespace/name:version
    refused = lwsk.run("activation", "list", f"/{ns}/", ok=False)
    assert refused.returncode == 1
    assert f"'/{ns}/' is not a valid qualified name" in refused.stderr

    # A sequence's Duration is end - start, as wsk computes it (not the components' sum).
    seq = lwsk.json("action", "invoke", "seq", "-b", "-p", "n", "0")["activationId"]
    row = listed_row(lwsk, seq, "seq")
    record = lwsk.json("activation", "get", seq)
    assert row[5] == go_duration(record["end"] - record["start"])
    summary = lwsk.run("activation", "get", seq, "-s").stdout.splitlines()[0]
    # Go's time.Time as wsk prints it: 2026-12-01 07:41:08 +0000 UTC.
    assert re.fullmatch(
        rf"activation result for '/{ns}/seq' \(success at "
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+\)",
        summary,
    ), summary
