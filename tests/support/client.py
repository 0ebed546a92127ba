"""The one API client of the tests: a namespace's key, OpenWhisk's paths, and new subjects."""

from __future__ import annotations

import base64
import json as _json
import os

import aiohttp

from api.setup import new_key, put_subject
from store.couch import Couch
from streams.settings import Settings
from tests.support.stack import API
from tests.support.waits import eventually


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
        content_type: str | None = "application/json",
    ) -> tuple[int, object]:
        """One request; raw ``data`` goes as ``content_type`` (None: no Content-Type)."""
        headers = {}
        if data is not None and content_type is not None:
            headers["Content-Type"] = content_type
        if auth:
            headers["Authorization"] = self.auth if auth is True else basic(str(auth))
        async with self.session.request(
            method, self.url(path), json=json, data=data, params=params, headers=headers
        ) as resp:
            text = await resp.text()
            try:
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

        async def record() -> dict | None:
            status, body = await self.request("GET", f"activations/{activation_id}")
            assert status in (200, 404), (status, body)
            return body if status == 200 and isinstance(body, dict) else None

        return await eventually(record, deadline_s, f"the record of {activation_id}", 0.05)


async def new_client(
    stack: Settings,
    session: aiohttp.ClientSession,
    limits: dict[str, int] | None = None,
    admin: bool = False,
) -> Client:
    """A client for a fresh subject and namespace (its own throttle ``limits`` when given)."""
    name = "t" + os.urandom(4).hex()
    auth = new_key()
    couch = Couch(stack)
    try:
        await put_subject(couch, stack, name, auth, limits, admin=admin)
    finally:
        await couch.close()
    return Client(session, auth, name)
