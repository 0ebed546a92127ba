"""Web actions: request to arguments, result to response (pure decisions)."""

from __future__ import annotations

import base64
import json

import pytest

from api.auth import Identity
from api.errors import APIError, unavailable
from api.mediatypes import parse
from api.web import (
    NO_BODY,
    WebRequest,
    action_args,
    answer_for,
    answer_http,
    authorized,
    entity_media,
    overrides_allowed,
    query_text,
    request_body,
    request_headers,
    split_extension,
    unmatched_path,
)
from store.couch import StoreUnavailable
from streams.errors import LedgerUnavailable


def test_extensions() -> None:
    assert split_extension("hello.json") == ("hello", ".json")
    assert split_extension("hello") == ("hello", ".http")
    assert split_extension("a.b.text") == ("a.b", ".text")


def test_arguments_plain_and_raw() -> None:
    req = WebRequest("POST", {"a": "b"}, "/x", "q=1", {"q": "1"}, {"name": "Ada"})
    user = Identity("s", "ns", "u", "k")
    args = action_args(req, user, raw_http=False)
    assert args["__ow_method"] == "post" and args["__ow_path"] == "/x"
    assert args["q"] == "1" and args["name"] == "Ada" and args["__ow_user"] == "ns"
    raw = action_args(req, None, raw_http=True)
    assert raw["__ow_query"] == "q=1" and raw["__ow_body"] == {"name": "Ada"}
    assert "q" not in raw and "__ow_user" not in raw


def body(content_type: str | None, raw: bytes, raw_http: bool = False) -> object:
    return request_body(entity_media(content_type, raw), raw, raw_http)


def test_bodies() -> None:
    assert body("application/json", b'{"a": 1}') == {"a": 1}
    assert body("application/x-www-form-urlencoded", b"a=1&b=") == {"a": "1", "b": ""}
    assert body("text/plain", b"hi") == "hi"
    assert body("image/png", b"\x89P") == base64.b64encode(b"\x89P").decode()
    assert body("application/json", b'{"a": 1}', True) == base64.b64encode(b'{"a": 1}').decode()
    with pytest.raises(APIError):
        body("application/json", b"{nope")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        # pekko-http's registry: registered binary types, and unregistered ones
        # without a charset, are base64; registered text types and unregistered
        # ones naming a charset are text.
        ("image/svg+xml", b64(b"<x/>")),
        ("text/x-foo", b64(b"<x/>")),
        ("application/foo+xml", b64(b"<x/>")),
        ("application/x-foo; charset=utf-8", "<x/>"),
        ("application/base64", "<x/>"),
        ("application/xml-dtd", "<x/>"),
        ("application/x-latex", "<x/>"),
        ("text/csv", "<x/>"),
        ("application/xml", "<x/>"),
        ("image/png; charset=utf-8", b64(b"<x/>")),
        ("multipart/form-data; boundary=x", b64(b"<x/>")),
        (None, b64(b"<x/>")),
        ("not a type", b64(b"<x/>")),
    ],
)
def test_binary_or_text_bodies_follow_pekko(content_type: str | None, expected: str) -> None:
    assert body(content_type, b"<x/>") == expected


def test_a_raw_action_gets_an_unregistered_json_type_as_base64() -> None:
    assert body("application/cloudevents+json", b'{"a":1}', True) == b64(b'{"a":1}')
    assert body("application/cloudevents+json", b'{"a":1}') == {"a": 1}  # not raw: parsed


def test_empty_and_null_bodies() -> None:
    # WebActionsApiTests: JSON null is passed as null; "" and {} add nothing.
    assert body("application/json", b"null") is None
    assert action_args(WebRequest("POST", {}, "", "", body=None), None, False)["__ow_body"] is None
    assert body("application/json", b"") is NO_BODY
    assert body(None, b"") is NO_BODY
    # An empty entity that has a type is an empty string (pekko's Strict entity).
    assert body("text/plain", b"") == ""
    args = action_args(WebRequest("GET", {}, "", "", body=NO_BODY), None, False)
    assert "__ow_body" not in args
    raw = action_args(WebRequest("GET", {}, "", "", body=NO_BODY), None, True)
    assert raw["__ow_body"] == ""


def test_headers_lose_framing_and_carry_the_entity_type() -> None:
    sent = {
        "Content-Length": "7",
        "Transfer-Encoding": "chunked",
        "Content-Type": "application/json; charset=utf-8",
        "X-Thing": "a",
    }
    media = entity_media(sent["Content-Type"], b"{}")
    assert request_headers(sent, media) == {"x-thing": "a", "content-type": "application/json"}
    plain = entity_media("text/plain; charset=utf-8", b"x")
    assert request_headers({}, plain) == {"content-type": "text/plain; charset=UTF-8"}
    assert request_headers({}, entity_media(None, b"x")) == {
        "content-type": "application/octet-stream"
    }
    assert request_headers({"Host": "h"}, entity_media(None, b"")) == {"host": "h"}


def test_the_unmatched_path_keeps_its_encoding_and_trailing_slash() -> None:
    base = "/api/v1/web/guest/default/echo.json"
    assert unmatched_path(base, 6) == ""
    assert unmatched_path(base + "/", 6) == "/"
    assert unmatched_path(base + "/a%2Fb/c%20d", 6) == "/a%2Fb/c%20d"
    assert unmatched_path(base + "//x", 6) == "//x"
    assert unmatched_path(base + "/%41%C3%A9", 6) == "/A%C3%A9"


def test_the_raw_query_parses_back_to_what_was_sent() -> None:
    sent = "p=1%2B1&q=%2541&s=a%20b&t=a+b&u=%C3%A9&flag&e="
    assert query_text(sent) == "p=1%2B1&q=%2541&s=a+b&t=a+b&u=%C3%A9&flag&e="
    assert query_text("") == ""
    assert query_text("a=b/c?d:e@f") == "a=b/c?d:e@f"


def test_media_types_are_written_as_pekko_writes_them() -> None:
    assert parse("text/html; charset=iso-8859-1").header("UTF-8") == "text/html; charset=UTF-8"
    assert parse("application/json; charset=utf-8").header("UTF-8") == "application/json"
    assert parse("image/png; charset=x").header("UTF-8") == "image/png"
    assert parse("xyzbar") is None


def test_reserved_and_final_parameters_may_not_be_set() -> None:
    assert not overrides_allowed(WebRequest("GET", {}, "", "", {"__ow_method": "x"}), frozenset())
    assert not overrides_allowed(WebRequest("GET", {}, "", "", {}, {"k": 1}), frozenset({"k"}))
    assert overrides_allowed(WebRequest("GET", {}, "", "", {"k": "1"}), frozenset())


def test_require_whisk_auth() -> None:
    doc = {"annotations": [{"key": "require-whisk-auth", "value": "s3cret"}]}
    assert authorized(doc, {"x-require-whisk-auth": "s3cret"}, None)
    assert not authorized(doc, {}, None)
    yes = {"annotations": [{"key": "require-whisk-auth", "value": True}]}
    assert not authorized(yes, {}, None)
    assert authorized(yes, {}, Identity("s", "ns", "u", "k"))
    assert authorized({"annotations": []}, {}, None)


def test_http_results() -> None:
    answer = answer_http({"statusCode": 201, "headers": {"x-a": ["1", 2]}, "body": "<p>"})
    assert (answer.status, answer.body, answer.content_type) == (
        201,
        b"<p>",
        "text/html; charset=UTF-8",
    )
    assert answer.headers == [("x-a", "1"), ("x-a", "2")]
    png = answer_http({"headers": {"Content-Type": "image/png"}, "body": "iVBO"})
    assert png.body == base64.b64decode("iVBO") and png.content_type == "image/png"
    assert answer_http({}).status == 204
    as_json = answer_http({"body": {"a": 1}})
    assert as_json.content_type == "application/json" and as_json.body == b'{"a": 1}'
    with pytest.raises(APIError):
        answer_http({"statusCode": "nope"})


def test_headers_that_frame_the_answer_are_dropped() -> None:
    # akka-http's renderer drops these from an action's answer ("illegal RawHeader"):
    # a Content-Length or Transfer-Encoding of the action's would split the stream.
    framing = {
        "Content-Length": "5000",
        "Transfer-Encoding": "chunked",
        "Connection": "close",
        "Date": "yesterday",
        "Server": "mine",
        "X-Kept": "yes",
    }
    answer = answer_http({"statusCode": 200, "headers": framing, "body": "hi"})
    assert answer.headers == [("X-Kept", "yes")] and answer.body == b"hi"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-A": "a\r\nSet-Cookie: evil=1"},
        {"X-A": "a\nb"},
        {"X-N": "a\u0000b"},
        {"X-L": ["ok", "bad\r"]},
        {"": "v"},
        {"X A:": "v"},
        {"X\u00e9": "v"},
    ],
)
def test_a_header_http_cannot_carry_is_a_bad_answer(headers: dict[str, object]) -> None:
    with pytest.raises(APIError) as failed:
        answer_http({"statusCode": 200, "headers": headers, "body": "hi"})
    assert failed.value.status == 400


@pytest.mark.parametrize("code", [200.7, " 200 ", "2e2", True, [200], "0x10"])
def test_a_status_code_java_would_not_read_is_a_bad_answer(code: object) -> None:
    # WebActions.scala resultAsHttp: JsNumber.toIntExact, JsString.toInt.
    with pytest.raises(APIError) as failed:
        answer_http({"statusCode": code, "body": "hi"})
    assert failed.value.status == 400


def test_status_codes_as_openwhisk_reads_them() -> None:
    assert answer_http({"statusCode": 200.0, "body": "x"}).status == 200
    assert answer_http({"statusCode": "201", "body": "x"}).status == 201
    assert answer_http({"statusCode": "+202", "body": "x"}).status == 202


def test_extensions_project_the_result() -> None:
    assert answer_for(".json", 0, {"a": 1}).body == b'{"a": 1}'
    assert answer_for(".html", 0, {"html": "<b>"}).body == b"<b>"
    assert answer_for(".text", 0, {"text": "hi"}).body == b"hi"
    app_error = answer_for(".http", 1, {"error": {"statusCode": 418, "body": "tea"}})
    assert app_error.status == 418 and app_error.body == b"tea"
    with pytest.raises(APIError) as failed:
        answer_for(".json", 2, {"error": "crash"})
    assert failed.value.status == 400
    with pytest.raises(APIError) as missing:
        answer_for(".text", 0, {"other": 1})
    assert missing.value.status == 404


@pytest.mark.parametrize("extension", [".json", ".http", ".text", ".html"])
def test_an_array_result_is_a_server_error(extension: str) -> None:
    # OpenWhisk's WebActions reads a result with asJsObject: an array fails the route.
    answer = answer_for(extension, 0, [1, 2])
    assert (answer.status, answer.body) == (500, b"There was an internal server error.")
    assert answer.content_type == "text/plain; charset=UTF-8"


def test_http_bodies_decode_by_pekkos_registry() -> None:
    svg = answer_http({"headers": {"Content-Type": "image/svg+xml"}, "body": b64(b"<svg/>")})
    assert (svg.body, svg.content_type) == (b"<svg/>", "image/svg+xml")
    for text_type in ("application/x-foo; charset=utf-8", "application/xml-dtd"):
        answer = answer_http({"headers": {"Content-Type": text_type}, "body": "hello"})
        assert answer.status == 200 and answer.body == b"hello"
        assert answer.content_type and answer.content_type.endswith("; charset=UTF-8")
    with pytest.raises(APIError) as refused:  # binary, and "hello" is no base64
        answer_http({"headers": {"Content-Type": "text/x-foo"}, "body": "hello"})
    assert refused.value.status == 400


def test_http_text_goes_out_in_utf8_and_says_so() -> None:
    declared = {"Content-Type": "text/html; charset=iso-8859-1"}
    answer = answer_http({"headers": declared, "body": "café"})
    assert answer.body == "café".encode() and answer.content_type == "text/html; charset=UTF-8"
    assert answer_http({"body": "café"}).content_type == "text/html; charset=UTF-8"


def test_a_numeric_secret_is_compared_as_its_text() -> None:
    doc = {"annotations": [{"key": "require-whisk-auth", "value": 12.5}]}
    assert authorized(doc, {"x-require-whisk-auth": "12.5"}, None)
    assert not authorized(doc, {"x-require-whisk-auth": "12"}, None)


def test_an_unreachable_store_or_ledger_is_a_503_naming_it() -> None:
    # Web actions add their CORS headers to it (api/web.py handle), as to every error.
    for exc, component in (
        (StoreUnavailable("down"), "CouchDB"),
        (LedgerUnavailable("x"), "Kafka"),
    ):
        response = unavailable(exc)
        assert response.status == 503
        assert response.text is not None
        assert json.loads(response.text)["error"].startswith(f"{component} is unavailable")
