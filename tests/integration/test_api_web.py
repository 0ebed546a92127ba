"""Web actions: extensions, __ow_ fields, binary bodies, require-whisk-auth, raw-http, CORS."""

from __future__ import annotations

import asyncio
import base64
import json
from urllib.parse import quote, urlsplit

import pytest

from tests.support.api import kv
from tests.support.client import Client, basic
from tests.support.stack import API

pytestmark = pytest.mark.integration

WEB = """
import base64
def main(args):
    kind = args.get('kind')
    if kind == 'png':
        return {'headers': {'Content-Type': 'image/png'},
                'body': base64.b64encode(bytes([137, 80, 78, 71])).decode()}
    if kind == 'fail':
        return {'error': {'statusCode': 418, 'body': 'teapot'}}
    if kind == 'crash':
        import os
        os._exit(3)
    if kind == 'raise':
        raise Exception('boom')
    return {'statusCode': 201, 'headers': {'X-Seen': args['__ow_method']},
            'body': '<p>' + args.get('name', '?') + args['__ow_path'] + '</p>'}
"""
ECHO = "def main(args):\n    return args\n"


def web_url(client: Client, name: str, package: str = "default") -> str:
    return f"{API}/api/v1/web/{client.namespace}/{package}/{name}"


async def put_web(client: Client, name: str, code: str, **annotations: object) -> None:
    status, body = await client.put_action(
        name, code, annotations=kv(**{"web-export": True, **annotations})
    )
    assert status == 200, body


async def test_http_results(client: Client) -> None:
    await put_web(client, "page", WEB)
    async with client.session.get(web_url(client, "page") + ".http/a/b?name=Ada") as resp:
        assert resp.status == 201
        assert await resp.text() == "<p>Ada/a/b</p>"
        assert resp.headers["X-Seen"] == "get"
        assert resp.headers["Content-Type"].startswith("text/html")
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert len(resp.headers["x-openwhisk-activation-id"]) == 32
    async with client.session.get(web_url(client, "page"), params={"kind": "png"}) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "image/png"
        assert await resp.read() == bytes([137, 80, 78, 71])
    async with client.session.get(web_url(client, "page"), params={"kind": "fail"}) as resp:
        assert (resp.status, await resp.text()) == (418, "teapot")
    async with client.session.get(web_url(client, "page"), params={"kind": "crash"}) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "There was an error processing your request."
    # A python exception is an application error ({"error": "boom"}): OpenWhisk
    # answers with its error field (WebActions.scala), not an HTTP response.
    async with client.session.get(web_url(client, "page"), params={"kind": "raise"}) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "Response is not valid 'message/http'."


async def test_extensions_and_arguments(client: Client) -> None:
    await put_web(client, "echo", ECHO)
    async with client.session.post(
        web_url(client, "echo") + ".json/x?q=1", json={"name": "Bo"}
    ) as resp:
        assert resp.status == 200
        args = await resp.json()
    assert args["__ow_method"] == "post" and args["__ow_path"] == "/x"
    assert args["q"] == "1" and args["name"] == "Bo"
    assert args["__ow_headers"]["content-type"] == "application/json"
    assert "__ow_user" not in args
    async with client.session.post(
        web_url(client, "echo") + ".json",
        data="a=1&b=2",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": client.auth},
    ) as resp:
        args = await resp.json()
    assert args["a"] == "1" and args["b"] == "2" and args["__ow_user"] == client.namespace
    async with client.session.put(
        web_url(client, "echo") + ".json",
        data=b"\x00\x01",
        headers={"Content-Type": "application/octet-stream"},
    ) as resp:
        args = await resp.json()
    assert args["__ow_body"] == base64.b64encode(b"\x00\x01").decode()
    async with client.session.get(web_url(client, "echo") + ".text?text=hi") as resp:
        assert (resp.status, await resp.text()) == (200, "hi")
    async with client.session.get(web_url(client, "echo") + ".html?html=<b>x</b>") as resp:
        assert (resp.status, await resp.text()) == (200, "<b>x</b>")
        assert resp.headers["Content-Type"].startswith("text/html")
    async with client.session.get(web_url(client, "echo") + ".html") as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "Response is not valid 'text/html'."
    async with client.session.get(web_url(client, "echo") + ".json?__ow_method=put") as resp:
        assert resp.status == 400
        assert "not allowed" in (await resp.json())["error"]
    async with client.session.post(
        web_url(client, "echo") + ".json",
        data=b"{bad",
        headers={"Content-Type": "application/json"},
    ) as resp:
        assert resp.status == 400
    async with client.session.options(
        web_url(client, "echo") + ".json", headers={"Access-Control-Request-Headers": "X-Mine"}
    ) as resp:
        assert resp.status == 200
        assert resp.headers["Access-Control-Allow-Headers"] == "X-Mine"


async def test_raw_http(client: Client) -> None:
    await put_web(client, "raw", ECHO, **{"raw-http": True})
    async with client.session.post(
        web_url(client, "raw") + ".json?a=1&b=2",
        data="plain text",
        headers={"Content-Type": "text/plain"},
    ) as resp:
        args = await resp.json()
    assert args["__ow_query"] == "a=1&b=2" and args["__ow_body"] == "plain text"
    assert "a" not in args


HEADERS = """
import json
def main(args):
    return {'statusCode': 200, 'headers': json.loads(args['h']), 'body': 'hi'}
"""


async def raw_get(url: str, extra: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """One GET over a connection of its own, read to its close: what a client gets."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        writer.write(
            f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode() + extra + b"\r\n"
        )
        data = await asyncio.wait_for(reader.read(), 60)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(": ")
        headers.setdefault(name.lower(), value)
    return int(lines[0].split()[1]), headers, body


async def test_an_action_cannot_frame_the_answer_or_break_its_headers(client: Client) -> None:
    """A web action's Content-Length, Transfer-Encoding, Connection, Date and Server are
    dropped, as akka-http's renderer drops them in OpenWhisk: the answer's framing is
    the server's. A header HTTP cannot carry (CR, LF, NUL, a name that is no token)
    makes the answer OpenWhisk's 400, not a broken or empty reply."""
    await put_web(client, "hdr", HEADERS)
    url = web_url(client, "hdr") + ".http?h="
    for framing in (
        {"Content-Length": "5000"},
        {"Transfer-Encoding": "chunked", "X-Kept": "1"},
        {"Connection": "keep-alive", "Date": "never", "Server": "mine"},
    ):
        status, headers, body = await raw_get(url + quote(json.dumps(framing)))
        assert (status, body) == (200, b"hi"), (framing, headers)
        assert headers["content-length"] == "2" and "transfer-encoding" not in headers
        assert headers.get("server") != "mine" and headers.get("date") != "never"
        assert headers.get("x-kept") == framing.get("X-Kept")  # the others are kept
    for broken in ({"X-A": "a\r\nSet-Cookie: evil=1"}, {"X-N": "a\u0000b"}, {"X A:": "v"}):
        status, headers, body = await raw_get(url + quote(json.dumps(broken)))
        assert status == 400, (broken, body)
        assert json.loads(body)["error"] == "Response is not valid 'message/http'."
        assert "set-cookie" not in headers


async def test_credentials_that_are_not_ascii_are_no_credentials(client: Client) -> None:
    """``Authorization: Basic \xc3\xa9`` is no credentials (as garbage base64): the REST API
    answers 401, not a 500, and a public web action runs."""
    await put_web(client, "open", ECHO)
    bad = "Authorization: Basic \u00e9\r\n".encode()
    status, _, body = await raw_get(f"{API}/api/v1/namespaces/_/actions", bad)
    assert status == 401, body
    assert json.loads(body)["error"] == "The supplied authentication is invalid."
    status, _, body = await raw_get(web_url(client, "open") + ".json", bad)
    assert status == 200, body


async def test_the_rest_api_answers_browsers_as_openwhisk(client: Client) -> None:
    """RestAPIs.scala: CORS headers on every REST answer, 200 to any OPTIONS (a preflight
    carries no credentials); web actions keep their own (with PATCH and OPTIONS)."""
    rest_methods = "GET, DELETE, POST, PUT, HEAD"
    async with client.session.options(
        f"{API}/api/v1/namespaces/_/actions/anything",
        headers={"Origin": "http://x", "Access-Control-Request-Method": "PUT"},
    ) as resp:
        assert resp.status == 200 and await resp.text() == "OK"
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert resp.headers["Access-Control-Allow-Methods"] == rest_methods
        assert "Authorization" in resp.headers["Access-Control-Allow-Headers"]
    async with client.session.get(
        f"{API}/api/v1/namespaces/_/actions", headers={"Authorization": client.auth}
    ) as resp:
        assert resp.status == 200 and resp.headers["Access-Control-Allow-Origin"] == "*"
    async with client.session.get(f"{API}/api/v1/namespaces/_/actions") as resp:
        assert resp.status == 401 and resp.headers["Access-Control-Allow-Origin"] == "*"
    await put_web(client, "corsy", ECHO)
    async with client.session.options(web_url(client, "corsy") + ".json") as resp:
        assert resp.status == 200
        assert "PATCH" in resp.headers["Access-Control-Allow-Methods"]


async def test_require_whisk_auth(client: Client) -> None:
    await put_web(client, "secret", ECHO, **{"require-whisk-auth": "s3cret"})
    async with client.session.get(web_url(client, "secret") + ".json") as resp:
        assert resp.status == 401
    async with client.session.get(
        web_url(client, "secret") + ".json", headers={"X-Require-Whisk-Auth": "s3cret"}
    ) as resp:
        assert resp.status == 200
    await put_web(client, "authed", ECHO, **{"require-whisk-auth": True})
    async with client.session.get(web_url(client, "authed") + ".json") as resp:
        assert resp.status == 401
    async with client.session.get(
        web_url(client, "authed") + ".json", headers={"Authorization": client.auth}
    ) as resp:
        assert resp.status == 200
    async with client.session.get(
        web_url(client, "authed") + ".json", headers={"Authorization": basic("x:y")}
    ) as resp:
        assert resp.status == 401


async def test_only_exported_actions_answer(client: Client) -> None:
    await client.put_action("hidden", ECHO)
    await client.request("PUT", "packages/site", json={})
    await client.request(
        "PUT",
        "actions/site/page",
        json={
            "exec": {"kind": "python:3.11", "code": ECHO},
            "annotations": kv(**{"web-export": True}),
        },
    )
    for url in (
        web_url(client, "hidden") + ".json",
        web_url(client, "nosuch") + ".json",
        f"{API}/api/v1/web/nobody{client.namespace}/default/hidden.json",
    ):
        async with client.session.get(url) as resp:
            assert resp.status == 404, url
    async with client.session.get(web_url(client, "page", "site") + ".json?x=1") as resp:
        assert resp.status == 200 and (await resp.json())["x"] == "1"
    async with client.session.post(
        web_url(client, "page", "site") + ".json", data=b"a" * (1024 * 1024 + 1)
    ) as resp:
        assert resp.status == 413


RESULT = "import json\ndef main(args):\n    return json.loads(args['r'])\n"


async def test_the_request_reaches_the_action_as_pekko_reads_it(client: Client) -> None:
    """WebActions.scala over pekko-http: the unmatched path and the raw query keep their
    encoding, a JSON null body is ``__ow_body: null``, the framing headers are not the
    action's, and the body of an unregistered type without a charset is base64."""
    await put_web(client, "echo2", ECHO)
    await put_web(client, "raw2", ECHO, **{"raw-http": True})
    status, _, body = await raw_get(web_url(client, "echo2") + ".json/")
    assert status == 200 and json.loads(body)["__ow_path"] == "/"
    status, _, body = await raw_get(web_url(client, "echo2") + ".json/a%2Fb/c%20d")
    assert json.loads(body)["__ow_path"] == "/a%2Fb/c%20d"
    status, _, body = await raw_get(web_url(client, "raw2") + ".json?q=%2541&s=a%20b&u=%C3%A9")
    assert json.loads(body)["__ow_query"] == "q=%2541&s=a+b&u=%C3%A9"
    async with client.session.post(
        web_url(client, "echo2") + ".json",
        data=b"null",
        headers={"Content-Type": "application/json; charset=utf-8"},
    ) as resp:
        args = await resp.json()
    assert "__ow_body" in args and args["__ow_body"] is None
    assert args["__ow_headers"]["content-type"] == "application/json"
    assert "content-length" not in args["__ow_headers"]
    async with client.session.post(
        web_url(client, "echo2") + ".json", data=b"<x/>", headers={"Content-Type": "text/x-foo"}
    ) as resp:
        assert (await resp.json())["__ow_body"] == base64.b64encode(b"<x/>").decode()


async def test_methods_and_errors_answer_as_openwhisk(client: Client) -> None:
    """Only OpenWhisk's seven methods run a web action (pekko's 405 otherwise), and an
    error about a run activation carries the CORS headers and its activation id."""
    await put_web(client, "ret", RESULT)
    url = web_url(client, "ret")
    async with client.session.request("PROPFIND", url + ".json?r=%7B%7D") as resp:
        assert resp.status == 405
        assert (await resp.json())["error"].startswith("HTTP method not allowed")
    for ext, result, status in ((".json", '"text"', 400), (".text", "{}", 404)):
        async with client.session.get(url + ext, params={"r": result}) as resp:
            assert resp.status == status, await resp.text()
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            assert len(resp.headers["x-openwhisk-activation-id"]) == 32
    svg = {"headers": {"Content-Type": "image/svg+xml"}, "body": "PHN2Zy8+"}
    async with client.session.get(url + ".http", params={"r": json.dumps(svg)}) as resp:
        assert resp.status == 200 and await resp.read() == b"<svg/>"
    text = {"headers": {"Content-Type": "text/html; charset=iso-8859-1"}, "body": "caf\u00e9"}
    async with client.session.get(url + ".http", params={"r": json.dumps(text)}) as resp:
        assert resp.headers["Content-Type"] == "text/html; charset=UTF-8"
        assert await resp.text() == "caf\u00e9"
