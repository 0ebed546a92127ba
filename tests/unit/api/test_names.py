"""Entity names: OpenWhisk's resolution rules."""

from __future__ import annotations

import pytest

from api.errors import APIError
from api.names import EntityRef, activation_filter_name, check_name, parse


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hello", EntityRef("me", "hello")),
        ("pkg/hello", EntityRef("me", "hello", "pkg")),
        ("/ns/hello", EntityRef("ns", "hello")),
        ("/ns/pkg/hello", EntityRef("ns", "hello", "pkg")),
        ("ns/pkg/hello", EntityRef("ns", "hello", "pkg")),
        ("/_/hello", EntityRef("me", "hello")),
        ("/whisk.system/utils/echo", EntityRef("whisk.system", "echo", "utils")),
    ],
)
def test_names_resolve_like_openwhisk(raw: str, expected: EntityRef) -> None:
    assert parse(raw, "me") == expected


@pytest.mark.parametrize("raw", ["", "/hello", "/a/b/c/d", "a/b/c/d", "bad$name", 3, None])
def test_illegal_names_do_not_resolve(raw: object) -> None:
    assert parse(raw, "me") is None


def test_ref_shapes() -> None:
    ref = EntityRef("ns", "hello", "pkg")
    assert ref.doc_id == "ns/pkg/hello" and ref.path == "ns/pkg"
    assert ref.qualified == "/ns/pkg/hello" and ref.relative == "pkg/hello"
    assert ref.as_path_name() == {"path": "ns/pkg", "name": "hello"}


def test_check_name_messages() -> None:
    with pytest.raises(APIError) as long:
        check_name("a" * 257)
    assert long.value.status == 400 and "257 > 256" in long.value.message
    with pytest.raises(APIError) as bad:
        check_name("no!pe")
    assert bad.value.message == "The name of the entity contains illegal characters."
    assert check_name("a" * 256) == "a" * 256


def test_activation_name_filter() -> None:
    assert activation_filter_name("hello") == "hello"
    assert activation_filter_name("pkg/hello") == "pkg/hello"
    assert activation_filter_name("a/b/c") is None
