"""Helpers for the ledger tests: an SSE reader, the lwsk command, more subjects, raw appends."""

from __future__ import annotations

import asyncio
import json
import os
import ssl as ssl_
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from streams import constants
from streams.events import LedgerEvent, encode, headers_of
from streams.history import LedgerReader
from streams.settings import Settings
from tests.support.client import Client
from tests.support.stack import API, ROOT


@dataclass(frozen=True)
class Message:
    """One SSE message: its event name, id and data (empty for comments)."""

    event: str
    id: str | None
    data: str
    retry_ms: int | None = None


def parse_sse(lines: list[str]) -> list[Message]:
    """Messages from SSE lines (the tests read comments too, which SSE clients drop)."""
    out: list[Message] = []
    event, event_id, data, retry, seen = "message", None, [], None, False
    for line in lines:
        if line == "":
            if seen:
                out.append(Message(event, event_id, "\n".join(data), retry))
            event, data, retry, seen = "message", [], None, False
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        seen = True
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id":
            event_id = value
        elif name == "retry" and value.isdigit():
            retry = int(value)
    return out


@dataclass
class Received:
    """One event as a stream delivered it, with when it arrived (epoch ms)."""

    view: dict[str, Any]
    id: str
    arrived_ms: float

    @property
    def where(self) -> tuple[int, int]:
        return (self.view["partition"], self.view["offset"])


@dataclass
class EventStream:
    """An open ``GET .../events`` response, read message by message."""

    response: aiohttp.ClientResponse
    comments: list[str] = field(default_factory=list)
    last_id: str | None = None
    _pending: list[str] = field(default_factory=list)

    async def message(self, timeout_s: float = 20.0) -> Message:
        """The next message (comment-only blocks that carry an id count; pure comments not)."""
        async with asyncio.timeout(timeout_s):
            while True:
                raw = await self.response.content.readline()
                if not raw:
                    raise EOFError("the stream ended")
                line = raw.decode().rstrip("\r\n")
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                if line:
                    self._pending.append(line)
                    continue
                block, self._pending = self._pending, []
                for message in parse_sse([*block, ""]):
                    self.last_id = message.id or self.last_id
                    return message

    async def subscribed(self) -> str:
        """Wait for the first message (the subscription point); returns its cursor."""
        message = await self.message()
        assert message.data == "" and message.id, message
        return message.id

    async def events(self, count: int, timeout_s: float = 30.0) -> list[Received]:
        """The next ``count`` events (heartbeats skipped)."""
        out: list[Received] = []
        end = time.monotonic() + timeout_s
        while len(out) < count:
            message = await self.message(max(0.1, end - time.monotonic()))
            if message.event == "error":
                raise AssertionError(f"the stream failed: {message.data}")
            if message.data:
                assert message.id
                out.append(Received(json.loads(message.data), message.id, time.time() * 1000))
        return out

    async def until(self, predicate: Any, timeout_s: float = 30.0) -> list[Received]:
        """Events until ``predicate(received_so_far)`` holds."""
        out: list[Received] = []
        async with asyncio.timeout(timeout_s):
            while not predicate(out):
                out.extend(await self.events(1, timeout_s))
        return out


@asynccontextmanager
async def event_stream(
    client: Client,
    query: dict[str, str] | None = None,
    last_id: str | None = None,
    namespace: str = "_",
    api: str = API,
    ssl: ssl_.SSLContext | None = None,
) -> AsyncIterator[EventStream]:
    """``GET .../events`` at ``api`` (the API itself, or nginx's HTTPS with ``ssl``)."""
    headers = {"Authorization": client.auth, "Accept": "text/event-stream"}
    if last_id:
        headers["Last-Event-ID"] = last_id
    url = f"{api}/api/v1/namespaces/{namespace}/events"
    timeout = aiohttp.ClientTimeout(total=None, sock_read=60)
    async with client.session.get(
        url, params=query, headers=headers, timeout=timeout, ssl=ssl if ssl else True
    ) as resp:
        if resp.status != 200:
            raise AssertionError(f"GET events: {resp.status} {await resp.text()}")
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        yield EventStream(resp)


def stack_env(stack: Settings, **extra: str) -> dict[str, str]:
    """The environment ``lwsk`` (and the platform's processes) need for the test stack."""
    return {
        **os.environ,
        "LEDGERWHISK_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
        "LEDGERWHISK_COUCHDB_URL": stack.couchdb_url,
        "LEDGERWHISK_PREFIX": stack.prefix,
        "WSK_APIHOST": API,
        "WSK_CONFIG_FILE": str(ROOT / ".state" / "test" / "no-wskprops"),
        **extra,
    }


@dataclass(frozen=True)
class Ran:
    status: int
    out: str
    err: str


async def lwsk(*args: str, env: dict[str, str], timeout_s: float = 120.0) -> Ran:
    """Run the installed ``lwsk`` command in a subprocess, as a user does."""
    proc = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv" / "bin" / "lwsk"),
        *args,
        env=env,
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout_s):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Ran(proc.returncode, out.decode(), err.decode())


async def append(settings: Settings, events: list[LedgerEvent]) -> None:
    """Append events to a ledger topic directly, as the platform's producers do."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=5)
    await producer.start()
    try:
        topic = settings.topic(constants.TOPIC_EVENTS)
        sent = [
            await producer.send(
                topic, encode(e), key=e.activation_id.encode(), headers=headers_of(e)
            )
            for e in events
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def writer_caught_up(settings: Settings, timeout_s: float = 90.0) -> None:
    """Wait until the projection writer's group has committed every offset of the ledger.

    The writer acknowledges a batch only after CouchDB stored it, so then every
    event appended so far is in the projection.
    """
    async with LedgerReader(settings) as reader:
        _, end = await reader.bounds()
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            committed = await admin.list_consumer_group_offsets(f"{settings.prefix}-projection")
            at = {tp.partition: meta.offset for tp, meta in committed.items()}
            # A partition the writer never committed on holds nothing it had to read.
            if all(at.get(p, 0) >= offset for p, offset in end.items()):
                return
            assert time.monotonic() < deadline, f"projection writer at {at}, log at {end}"
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
