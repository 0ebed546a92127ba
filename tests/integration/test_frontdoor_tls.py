"""nginx in front of the API (scripts/nginx.sh, api/frontdoor.py): HTTPS with the stack's own
certificate, the npm client and ``lwsk`` over it, an event stream through it, X-Forwarded-For."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
from pathlib import Path

import aiohttp
import pytest

from streams.events import COMPLETED
from streams.settings import Settings
from tests.integration.test_api_web import put_web
from tests.integration.test_openwhisk_npm import NPM_DIR, install_client, steps_of
from tests.support.client import Client, new_client
from tests.support.ledger import event_stream, lwsk, stack_env
from tests.support.stack import API_TLS, ROOT, TLS_CA

pytestmark = pytest.mark.integration

ECHO = "def main(args):\n    return {'echo': args.get('name')}\n"


def trusting_the_stack() -> ssl.SSLContext:
    """A client context that trusts only the stack's own CA (and checks the name)."""
    return ssl.create_default_context(cafile=str(TLS_CA))


def run_npm(key: str, *mode: str, extra_ca: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NODE_NO_WARNINGS": "1"}
    env.pop("NODE_EXTRA_CA_CERTS", None)
    if extra_ca:
        env["NODE_EXTRA_CA_CERTS"] = str(extra_ca)
    return subprocess.run(
        ["node", str(NPM_DIR / "tls.js"), API_TLS, key, *mode],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


async def test_https_answers_with_the_stacks_certificate(client: Client) -> None:
    async with client.session.get(
        f"{API_TLS}/api/v1/namespaces",
        headers={"Authorization": client.auth},
        ssl=trusting_the_stack(),
    ) as resp:
        assert resp.status == 200
        assert await resp.json() == [client.namespace]
    # A client that trusts only the system's CAs refuses the stack's own certificate.
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        async with client.session.get(f"{API_TLS}/api/v1", ssl=ssl.create_default_context()):
            pass


async def test_the_npm_client_invokes_blocking_over_https(stack: Settings) -> None:
    await asyncio.to_thread(install_client)
    async with aiohttp.ClientSession() as session:
        me = await new_client(stack, session)
    expected = {"status": "success", "result": {"greeting": "Hello TLS"}}

    checked = steps_of(await asyncio.to_thread(run_npm, me.key, extra_ca=TLS_CA))
    assert checked["invoke.blocking"] == expected

    ignoring = steps_of(await asyncio.to_thread(run_npm, me.key, "ignore_certs"))
    assert ignoring["invoke.blocking"] == expected

    refused = await asyncio.to_thread(run_npm, me.key)  # neither the CA nor ignore_certs
    assert refused.returncode != 0
    assert "certificate" in refused.stderr.lower(), refused.stderr


async def test_lwsk_invokes_blocking_over_https_with_the_ca_file_or_insecure(
    client: Client, stack: Settings, tmp_path: Path
) -> None:
    code = tmp_path / "echo.py"
    code.write_text(ECHO)
    auth = ("--apihost", API_TLS, "--auth", client.key)
    untrusting = {k: v for k, v in stack_env(stack).items() if k != "SSL_CERT_FILE"}
    # lwsk checks the certificate against the CA file SSL_CERT_FILE names ...
    trusting = {**untrusting, "SSL_CERT_FILE": str(TLS_CA)}
    created = await lwsk(*auth, "action", "create", "echo", str(code), env=trusting)
    assert created.status == 0, created.err
    invoked = await lwsk(*auth, "action", "invoke", "echo", "-p", "name", "Ada", "-r", env=trusting)
    assert invoked.status == 0, invoked.err
    assert json.loads(invoked.out) == {"echo": "Ada"}
    # ... or skips the check with -i, as wsk does.
    insecure = await lwsk(
        "-i", *auth, "action", "invoke", "echo", "-p", "name", "I", "-r", env=untrusting
    )
    assert insecure.status == 0, insecure.err
    assert json.loads(insecure.out) == {"echo": "I"}

    refused = await lwsk(*auth, "action", "invoke", "echo", "-r", env=untrusting)
    assert refused.status != 0
    assert "certificate" in refused.err.lower(), refused.err


async def test_an_event_stream_through_nginx_receives_an_activations_events(
    client: Client,
) -> None:
    await client.put_action("echo", ECHO)
    async with event_stream(client, api=API_TLS, ssl=trusting_the_stack()) as stream:
        await stream.subscribed()
        status, body = await client.invoke("echo", {"name": "tail"})
        assert status == 200, body
        assert isinstance(body, dict)
        got = await stream.until(
            lambda g: any(
                r.view["type"] == COMPLETED and r.view["activationId"] == body["activationId"]
                for r in g
            )
        )
    assert {r.view["activationId"] for r in got} == {body["activationId"]}
    assert [r.view["type"] for r in got][-1] == COMPLETED


async def test_the_api_sees_the_clients_address_in_x_forwarded_for(client: Client) -> None:
    await put_web(client, "headers", "def main(args):\n    return args['__ow_headers']\n")
    url = f"{API_TLS}/api/v1/web/{client.namespace}/default/headers.json"
    async with client.session.get(url, ssl=trusting_the_stack()) as resp:
        assert resp.status == 200, await resp.text()
        headers = await resp.json()
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "https"


def test_the_stack_made_its_certificate_under_its_state_folder(stack: Settings) -> None:
    """No LEDGERWHISK_TLS_CERT in the test stack: its own CA and key, the key private."""
    tls = ROOT / ".state" / "test" / "tls"
    assert (tls / "ca.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert (tls / "server-key.pem").stat().st_mode & 0o077 == 0


async def test_requests_over_the_apis_limits_get_the_apis_error_through_nginx(
    client: Client,
) -> None:
    """nginx's limits sit above the API's, so what exceeds the API's gets OpenWhisk's
    JSON error from the API, not nginx's HTML page; an HTTP/1.0 request without a Host
    is forwarded too."""
    long_uri = f"{API_TLS}/api/v1/namespaces/_/actions?x={'a' * 9000}"
    async with client.session.get(
        long_uri, headers={"Authorization": client.auth}, ssl=trusting_the_stack()
    ) as resp:
        assert resp.status == 414
        assert "error" in await resp.json()
    big_header = {"Authorization": client.auth, "X-Big": "b" * 17_000}
    async with client.session.get(
        f"{API_TLS}/api/v1", headers=big_header, ssl=trusting_the_stack()
    ) as resp:
        assert resp.status == 431
        assert "error" in await resp.json()
    host, port = API_TLS.removeprefix("https://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(
        host, int(port), ssl=trusting_the_stack(), server_hostname="localhost"
    )
    try:
        writer.write(b"GET /api/v1 HTTP/1.0\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), 60)
    finally:
        writer.close()
    assert answer.split(b"\r\n", 1)[0].split()[1] == b"200", answer[:200]
