"""One real stack for the whole integration run, started by the project's own scripts.

It runs beside any dev stack: its own state folder, ports and topic/database
prefix. Each test gets its own namespace (a fresh subject).
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from api.setup import new_key, put_subject
from store.couch import Couch
from streams.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
# Several checkouts may test at once on one machine: each picks its own ports
# and prefix (containers are labelled with the prefix too).
PORT_BASE = int(os.environ.get("LEDGERWHISK_TEST_PORT_BASE", "19000"))
PREFIX = os.environ.get("LEDGERWHISK_TEST_PREFIX", "lwtest")
TEST_ENV = {
    "LEDGERWHISK_STATE_DIR": str(ROOT / ".state" / "test"),
    "LEDGERWHISK_KAFKA_PORT": str(PORT_BASE + 92),
    "LEDGERWHISK_COUCHDB_PORT": str(PORT_BASE + 84),
    "LEDGERWHISK_API_PORT": str(PORT_BASE + 33),
    "LEDGERWHISK_PREFIX": PREFIX,
    # Short idle times so pause and removal happen within a test.
    "LEDGERWHISK_CONTAINER_IDLE_PAUSE_S": "3",
    "INVOKERS": "1",
}
API = f"http://127.0.0.1:{TEST_ENV['LEDGERWHISK_API_PORT']}"


def _stack(command: str) -> None:
    env = {**os.environ, **TEST_ENV}
    subprocess.run([str(ROOT / "scripts" / "stack.sh"), command], env=env, check=True)


@pytest.fixture(scope="session")
def stack() -> Iterator[Settings]:
    """The running test stack's settings; the stack stops when the run ends."""
    if os.environ.get("LEDGERWHISK_TEST_REUSE_STACK") != "1":
        # Every run starts from an empty ledger and empty databases, so no
        # record left by an earlier run (or an earlier version) is compared.
        _stack("down")
        state = Path(TEST_ENV["LEDGERWHISK_STATE_DIR"])
        for data in ("kafka", "couchdb"):
            shutil.rmtree(state / data, ignore_errors=True)
        try:
            _stack("up")
        except subprocess.CalledProcessError:
            _stack("down")  # stop what did start: a failed run leaves nothing behind
            raise
    settings = Settings(
        kafka_bootstrap=f"127.0.0.1:{TEST_ENV['LEDGERWHISK_KAFKA_PORT']}",
        couchdb_url=f"http://127.0.0.1:{TEST_ENV['LEDGERWHISK_COUCHDB_PORT']}",
        prefix=TEST_ENV["LEDGERWHISK_PREFIX"],
        api_port=int(TEST_ENV["LEDGERWHISK_API_PORT"]),
    )
    try:
        yield settings
    finally:
        if os.environ.get("LEDGERWHISK_TEST_REUSE_STACK") != "1":
            _stack("down")


def basic(auth: str) -> str:
    """The ``Authorization`` header value for ``uuid:key``."""
    return "Basic " + base64.b64encode(auth.encode()).decode()


class Client:
    """A small OpenWhisk API client bound to one namespace's key."""

    def __init__(self, session: aiohttp.ClientSession, auth: str, namespace: str):
        self.session = session
        self.auth = basic(auth)
        self.key = auth
        self.namespace = namespace

    def url(self, path: str) -> str:
        return f"{API}/api/v1/namespaces/_/{path.lstrip('/')}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        data: bytes | None = None,
        params: dict[str, str] | None = None,
        auth: str | bool = True,
    ) -> tuple[int, object]:
        headers = {}
        if auth:
            headers["Authorization"] = self.auth if auth is True else basic(str(auth))
        async with self.session.request(
            method, self.url(path), json=json, data=data, params=params, headers=headers
        ) as resp:
            text = await resp.text()
            try:
                import json as _json

                body: object = _json.loads(text) if text else None
            except ValueError:
                body = text
            return resp.status, body

    async def put_action(
        self, name: str, code: str, kind: str = "python:3.11", **extra: object
    ) -> tuple[int, object]:
        return await self.request(
            "PUT",
            f"actions/{name}",
            json={"exec": {"kind": kind, "code": code}, **extra},
            params={"overwrite": "true"},
        )

    async def invoke(
        self,
        name: str,
        params: dict[str, object] | None = None,
        blocking: bool = True,
        result: bool = False,
    ) -> tuple[int, object]:
        query = {"blocking": str(blocking).lower(), "result": str(result).lower()}
        return await self.request("POST", f"actions/{name}", json=params or {}, params=query)

    async def activation(self, activation_id: str, deadline_s: float = 20.0) -> dict:
        """The projected record, waiting for the projection writer to store it."""
        end = time.monotonic() + deadline_s
        while True:
            status, body = await self.request("GET", f"activations/{activation_id}")
            if status == 200:
                assert isinstance(body, dict)
                return body
            assert status == 404, (status, body)
            if time.monotonic() > end:
                raise AssertionError(f"activation {activation_id} never appeared")
            await asyncio.sleep(0.05)


@pytest.fixture
async def client(stack: Settings, request: pytest.FixtureRequest) -> AsyncIterator[Client]:
    """A client for a fresh namespace of its own."""
    name = "t" + os.urandom(4).hex()
    auth = new_key()
    couch = Couch(stack)
    try:
        await put_subject(couch, stack, name, auth)
    finally:
        await couch.close()
    async with aiohttp.ClientSession() as session:
        yield Client(session, auth, name)
