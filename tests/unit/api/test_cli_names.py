"""``lwsk``'s names as wsk's ``NewQualifiedName`` and ``getQualifiedName`` read them."""

from __future__ import annotations

import click
import pytest

from api.cli.actioncode import components
from api.cli.entities import entity_path
from api.cli.names import QualifiedName, fully_qualified, parse_name


@pytest.mark.parametrize(
    ("given", "parsed"),
    [
        ("hello", QualifiedName("_", "", "hello", "hello")),
        ("pkg/hello", QualifiedName("_", "pkg", "hello", "pkg/hello")),
        ("/ns/hello", QualifiedName("ns", "", "hello", "hello")),
        ("/ns/pkg/hello", QualifiedName("ns", "pkg", "hello", "pkg/hello")),
        # addLeadSlash: three parts without a slash name a namespace first.
        ("ns/pkg/hello", QualifiedName("ns", "pkg", "hello", "pkg/hello")),
        ("/_/hello", QualifiedName("_", "", "hello", "hello")),
    ],
)
def test_names_parse_as_wsks_new_qualified_name(given: str, parsed: QualifiedName) -> None:
    assert parse_name(given) == parsed


def test_a_three_part_name_is_looked_up_in_its_own_namespace() -> None:
    assert entity_path("actions", "guest/pkg/inner") == "namespaces/guest/actions/pkg/inner"
    assert entity_path("actions", "pkg/inner") == "namespaces/_/actions/pkg/inner"


@pytest.mark.parametrize("given", ["/guest/a/b/c", "", ".", "/", "/guest/", "//x", "/ns/./x"])
def test_names_wsk_refuses_are_refused_before_any_request(given: str) -> None:
    with pytest.raises(click.UsageError) as refused:
        entity_path("actions", given)
    assert refused.value.message == (
        f"'{given}' is not a valid qualified name: A valid qualified name must be specified."
    )


def test_sequence_components_and_rule_names_get_wsks_lead_slash() -> None:
    assert components("a,pkg/b,guest/pkg/inner,/ns/d") == [
        "/_/a",
        "/_/pkg/b",
        "/guest/pkg/inner",
        "/ns/d",
    ]
    assert fully_qualified("guest/pkg/inner") == "/guest/pkg/inner"
    assert fully_qualified("t") == "/_/t"


def test_full_is_what_wsk_says_it_invoked() -> None:
    assert parse_name("hello").full == "/_/hello"
    assert parse_name("guest/pkg/a").full == "/guest/pkg/a"
