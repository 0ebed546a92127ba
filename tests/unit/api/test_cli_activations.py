"""``lwsk activation list|get|logs|result`` as wsk's: argument checks, rows, times (no API)."""

from __future__ import annotations

import re

import click
import pytest

from api.cli.activations import (
    entity_of,
    go_duration,
    go_time,
    list_name_filter,
    list_row,
    truncated,
)
from api.cli.main import main

ROW = {
    "activationId": "a" * 32,
    "namespace": "guest",
    "name": "inner",
    "version": "0.0.1",
    "annotations": [
        {"key": "path", "value": "guest/pkg/inner"},
        {"key": "kind", "value": "sequence"},
    ],
    "start": 1_700_000_000_000,
    "end": 1_700_000_000_019,
    "duration": 4,  # a sequence's: the sum of its components'
    "statusCode": 0,
}


@pytest.mark.parametrize("command", ["get", "logs", "result"])
def test_a_missing_id_exits_1_with_the_usage_as_wsk_check_args(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["activation", command, "--apihost", "http://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert f"Usage: lwsk activation {command}" in err
    assert "Invalid argument(s). An activation ID is required." in err


def test_a_bad_time_exits_1_with_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["activation", "list", "--since", "bogus", "--apihost", "http://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert "Usage: lwsk activation list" in err and "'bogus' is not a time" in err


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("/guest", None),  # a namespace: every activation
        ("/other", None),  # wsk's client lists under _ whatever it names
        ("guest/pkg/inner", "pkg/inner"),  # addLeadSlash
        ("/guest/pkg/inner", "pkg/inner"),
        ("/guest/hello", "hello"),
        ("pkg/inner", "pkg/inner"),
        ("hello", "hello"),
    ],
)
def test_list_reads_a_namespace_or_a_name_as_wsks_qualified_name(
    given: str, name: str | None
) -> None:
    assert list_name_filter(given) == name


@pytest.mark.parametrize("given", ["", ".", "/", "/guest/", "/a/b/c/d", "//x", "/guest/./x"])
def test_list_refuses_what_wsk_calls_no_valid_qualified_name(given: str) -> None:
    with pytest.raises(click.UsageError) as refused:
        list_name_filter(given)
    assert refused.value.message == (
        f"'{given}' is not a valid qualified name: A valid qualified name must be specified."
    )


def test_a_row_is_wsks_summary_row() -> None:
    row = list_row(ROW)
    assert row[1:] == ["a" * 32, "sequence", "warm", "19ms", "success", "guest/inner:0.0.1"]
    trigger = {k: v for k, v in ROW.items() if k not in ("end", "duration")}
    assert list_row(trigger)[4] == "0s"


def test_the_entity_column_truncates_as_wsk() -> None:
    assert truncated("abcdefghij", 10) == "abcdefghij"
    assert truncated("abcdefghijk", 10) == "abcde...jk"  # Go: str[0:5] + "..." + str[9:]
    assert truncated("abcdefghijk", 9) == "abcde...k"
    long = {"namespace": "n" * 25, "name": "x" * 40, "version": "0.0.1"}
    assert entity_of(long) == f"{'n' * 10}...{'n' * 7}/{'x' * 15}...{'x' * 12}:0.0.1"


def test_durations_read_as_gos() -> None:
    assert [go_duration(ms) for ms in (0, 4, 999, 1000, 1500, 61_000, 3_600_000)] == [
        "0s",
        "4ms",
        "999ms",
        "1s",
        "1.5s",
        "1m1s",
        "1h0m0s",
    ]


def test_the_summary_time_reads_as_gos_time_string() -> None:
    shown = go_time(1_700_000_000_999)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+", shown), shown
