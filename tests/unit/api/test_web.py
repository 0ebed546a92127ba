"""Web actions: request to arguments, result to response (pure decisions)."""

from __future__ import annotations

import base64

import pytest

from api.auth import Identity
from api.errors import APIError
from api.web import (
    WebRequest,
    action_args,
    answer_for,
    answer_http,
    authorized,
    overrides_allowed,
    request_body,
    split_extension,
)


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


def test_bodies() -> None:
    assert request_body("application/json", b'{"a": 1}', False) == {"a": 1}
    assert request_body("application/x-www-form-urlencoded", b"a=1&b=", False) == {
        "a": "1",
        "b": "",
    }
    assert request_body("text/plain", b"hi", False) == "hi"
    assert request_body("image/png", b"\x89P", False) == base64.b64encode(b"\x89P").decode()
    assert (
        request_body("application/json", b'{"a": 1}', True)
        == base64.b64encode(b'{"a": 1}').decode()
    )
    with pytest.raises(APIError):
        request_body("application/json", b"{nope", False)


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
    assert (answer.status, answer.body, answer.content_type) == (201, b"<p>", "text/html")
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
