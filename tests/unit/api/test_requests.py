"""Query parsing with OpenWhisk's messages, the activation list query, the API description."""

from __future__ import annotations

import pytest

from api.activations import ListQuery
from api.app import create_app
from api.errors import APIError
from api.lookup import check_overrides, immutable_params, merge_params
from api.openapi import document
from api.requests import parse_flag, parse_paging, unsupported_type
from streams.settings import Settings


def test_paging() -> None:
    assert parse_paging(None, None, "actions") == (30, 0)
    assert parse_paging("0", "5", "actions") == (200, 5)
    with pytest.raises(APIError) as bad:
        parse_paging("-1", None, "actions")
    assert "The value '-1' is not in the range of 0 to 200 for actions." in bad.value.message
    with pytest.raises(APIError) as nan:
        parse_paging("x", None, "actions")
    assert "The value 'x' is not an integer for actions." in nan.value.message
    with pytest.raises(APIError):
        parse_paging(None, "-2", "actions")


def test_flags() -> None:
    assert parse_flag("b", "true") and not parse_flag("b", "no") and not parse_flag("b", None)
    with pytest.raises(APIError):
        parse_flag("b", "maybe")


def test_activation_list_query() -> None:
    q = ListQuery.parse({"name": "pkg/a", "since": "10", "upto": "20", "limit": "5"})
    assert q.view("ns") == ("byName", ["ns", "pkg/a", 10], ["ns", "pkg/a", 20])
    assert ListQuery.parse({}).view("ns") == ("byNamespace", ["ns"], ["ns", {}])
    with pytest.raises(APIError) as epoch:
        ListQuery.parse({"since": "abc"})
    assert "Parameter is not a valid value for epoch seconds: abc" in epoch.value.message
    with pytest.raises(APIError) as both:
        ListQuery.parse({"docs": "true", "count": "true"})
    assert both.value.message == "The parameter 'docs' is not permitted with 'count'."
    with pytest.raises(APIError):
        ListQuery.parse({"name": "a/b/c"})


def test_final_parameters() -> None:
    merged = merge_params(
        [{"key": "a", "value": 1}], [{"key": "a", "value": 2}, {"key": "n", "value": None}]
    )
    assert merged == {"a": 2, "n": None}
    final = {"annotations": [{"key": "final", "value": True}]}
    assert immutable_params(final, merged) == frozenset({"a"})
    assert immutable_params({"annotations": []}, merged) == frozenset()
    with pytest.raises(APIError) as refused:
        check_overrides({"a": 3}, frozenset({"a"}))
    assert refused.value.message.startswith("Request defines parameters that are not allowed")
    check_overrides({"n": 3}, frozenset({"a"}))


def test_the_description_covers_every_route() -> None:
    app = create_app(Settings())
    described = document()["paths"]
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if "/web/" in path or route.method == "HEAD":
            continue
        if path.startswith("/dashboard"):  # the dashboard's page and views: not API v1
            continue
        openapi_path = path.removeprefix("/api/v1").replace(
            "{name}", "{actionName}" if "/actions/" in path else "{x}"
        )
        if openapi_path in ("", "/"):
            continue
        # A trailing slash on a collection or a record is the same operation
        # (OpenWhisk's pathEndOrSingleSlash): described without it.
        shapes = {openapi_path, openapi_path.rstrip("/") if path.endswith("/") else openapi_path}
        assert any(
            _same_shape(shape, p) and route.method.lower() in described[p]
            for shape in shapes
            for p in described
        ), (route.method, path)


def _same_shape(a: str, b: str) -> bool:
    pa, pb = a.strip("/").split("/"), b.strip("/").split("/")
    return (
        len(pa) == len(pb)
        and all(
            x == y or (x.startswith("{") and y.startswith("{")) for x, y in zip(pa, pb, strict=True)
        )
        and a.endswith("/") == b.endswith("/")
    )


@pytest.mark.parametrize(
    ("content_type", "has_body", "required", "refused"),
    [
        ("application/json", True, True, None),
        ("application/json; charset=utf-8", True, False, None),
        ("Application/JSON", True, True, None),
        ("text/plain", True, False, "text/plain"),
        ("text/plain; charset=utf-8", True, True, "text/plain; charset=UTF-8"),
        ("application/x-www-form-urlencoded", True, True, "application/x-www-form-urlencoded"),
        (None, True, False, "application/octet-stream"),
        ("not a type", True, True, "application/octet-stream"),
        # No body and no type: nothing to check; an empty optional body's type is ignored.
        (None, False, True, None),
        ("application/octet-stream", False, False, None),
        # An empty required body must still claim JSON (ActionsApiTests: Put(path, "") is 415).
        ("text/plain", False, True, "text/plain"),
    ],
)
def test_a_body_is_json_as_pekko_reads_its_type(
    content_type: str | None, has_body: bool, required: bool, refused: str | None
) -> None:
    assert unsupported_type(content_type, has_body, required) == refused
