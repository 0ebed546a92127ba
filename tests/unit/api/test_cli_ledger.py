"""The ledger commands' pure parts: timeline, tail and poll lines, and their command tree."""

from __future__ import annotations

from click.testing import CliRunner

from api.cli.ledger import poll_lines, tail_line, timeline_rows
from api.cli.main import cli
from api.stream import comment, event_view, frame
from tests.support.events import four
from tests.support.ledger import Message, parse_sse

A = "0" * 12 + "a" * 20


def views() -> list[dict]:
    return [
        event_view(e, 2, 10 + i, e.at_ms) for i, e in enumerate(four(A, at_ms=1_700_000_000_000))
    ]


def test_sse_frames_round_trip_through_the_parser() -> None:
    raw = (
        comment("subscribed", "0:1", retry_ms=2000)
        + frame('{"a":1}', "0:2")
        + comment("heartbeat")
        + frame("two\nlines", "0:3", event="error")
        + comment("heartbeat", "0:9")
    ).decode()
    messages = parse_sse(raw.split("\n"))
    assert messages == [
        Message("message", "0:1", "", 2000),
        Message("message", "0:2", '{"a":1}'),
        Message("error", "0:3", "two\nlines"),
        Message("message", "0:9", ""),
    ]


def test_the_timeline_shows_state_time_gap_invoker_and_container() -> None:
    rows = timeline_rows(views())
    assert [r[0] for r in rows] == ["accepted", "scheduled", "started", "completed"]
    assert rows[0][1] == "2023-11-14T22:13:20.000Z"
    assert [r[2] for r in rows] == ["", "+1 ms", "+1 ms", "+8 ms"]
    assert [r[3] for r in rows] == ["", "0", "0", "0"]
    assert rows[2][4] == "warm"
    assert rows[3][5] == "success, 8 ms"


def test_a_stem_cell_start_is_named_so() -> None:
    started = views()[2]
    started["fields"]["start"] = "prewarm"
    assert timeline_rows([started])[0][4] == "stem cell"


def test_tail_lines_name_the_action_of_every_event() -> None:
    names: dict[str, str] = {}
    lines = [tail_line(v, names) for v in views()]
    assert all(f"hello  {A}" in line for line in lines)
    assert lines[2].endswith("started    invoker 0, warm c1")
    # A completion seen without its acceptance is named from its path annotation.
    assert f"hello  {A}  completed" in tail_line(views()[3], {})


def test_poll_prints_header_logs_and_result() -> None:
    lines = poll_lines(views()[3])
    assert lines[0] == f"Activation: 'hello' ({A})  success, 8 ms"
    assert lines[1] == "  l1"
    assert lines[2] == '{\n    "ok": true\n}'  # wsk's 4-space indent


def test_the_commands_and_their_first_names_are_registered() -> None:
    runner = CliRunner()
    for words in (
        ["activation", "tail", "--help"],
        ["activation", "replay", "--help"],  # the first name of rerun
        ["admin", "replay", "--help"],  # the first name of rebuild
        ["activation", "list", "--help"],
    ):
        done = runner.invoke(cli, words)
        assert done.exit_code == 0, (words, done.output)
    assert "--action-version" in runner.invoke(cli, ["activation", "replay", "-h"]).output
    assert "--verify" in runner.invoke(cli, ["admin", "replay", "-h"]).output
