"""``lwsk ... get --summary`` as wsk prints it (commands/util.go printEntitySummary)."""

from __future__ import annotations

import pytest

from api.cli.entities import show_list, summary_lines
from api.cli.output import Output


def test_an_entity_without_a_description_is_described_by_its_parameters() -> None:
    two = {
        "namespace": "ns",
        "name": "p",
        "parameters": [{"key": "b", "value": 1}, {"key": "a", "value": 2}],
    }
    assert summary_lines("package", two)[0] == (
        "package /ns/p: Returns a result based on parameters a and b"
    )
    one = {
        "namespace": "ns",
        "name": "t",
        "parameters": [{"key": "only", "value": 1}],
        "annotations": [{"key": "final", "value": True}],
    }
    assert summary_lines("trigger", one) == [
        "trigger /ns/t: Returns a result based on parameter only",
        "   (parameters: **only)",
    ]
    described = {**one, "annotations": [{"key": "description", "value": "mine"}]}
    assert summary_lines("trigger", described)[0] == "trigger /ns/t: mine"
    assert summary_lines("trigger", {"namespace": "ns", "name": "t"}) == [
        "trigger /ns/t",
        "   (parameters: none defined)",
    ]


def test_lists_have_client_gos_fixed_columns(capsys: pytest.CaptureFixture[str]) -> None:
    rules = [{"namespace": "ns", "name": "r", "publish": False, "status": "active"}]
    show_list(Output(), "rules", rules, "rule")
    assert capsys.readouterr().out.splitlines() == [
        "rules",
        f"{'/ns/r':<70} {'private':<20} active",
    ]
    packages = [{"namespace": "ns", "name": "p", "publish": True}]
    show_list(Output(), "packages", packages, "package")
    assert capsys.readouterr().out.splitlines() == ["packages", f"{'/ns/p':<70} shared"]
