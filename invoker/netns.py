"""Reach an action container's port 8080 from inside the container's own network namespace.

Action containers run with ``--network none``: they have a loopback interface
and nothing else, so user code reaches no network and no traffic ever crosses
a bridge. The invoker opens each TCP connection from within the container's
namespace (``setns(2)`` in one dedicated thread, which switches back at once);
the socket keeps its namespace, and aiohttp uses it like any other connection,
keep-alive included.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
from aiohttp.client_proto import ResponseHandler

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL("libc.so.6", use_errno=True)
# setns changes the calling thread only: all switching happens on this one thread.
_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netns")
_home: dict[str, int] = {}
# Keep idle connections to a container as long as the container may live idle:
# a stem cell's first activation then finds its connection open (opening one
# costs a trip through the namespace thread). The action proxies keep idle
# connections open; one a container closed is dropped from the pool on close.
KEEPALIVE_S = 3600.0


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns failed: {os.strerror(err)}")


def connect_blocking(pid: int, port: int, timeout_s: float) -> socket.socket:
    """A blocking socket connected to ``127.0.0.1:port`` in the namespace of ``pid``."""
    sock = _socket_in(pid)
    try:
        sock.settimeout(timeout_s)
        sock.connect(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        sock.close()
        raise
    return sock


def _socket_in(pid: int) -> socket.socket:
    """A new TCP socket of the network namespace of ``pid`` (call in the netns thread)."""
    if "fd" not in _home:
        _home["fd"] = os.open(f"/proc/self/task/{threading.get_native_id()}/ns/net", os.O_RDONLY)
    target = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    try:
        _setns(target)
        try:
            return socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        finally:
            _setns(_home["fd"])
    finally:
        os.close(target)


def listen_blocking(pid: int, port: int) -> socket.socket:
    """A socket listening on ``127.0.0.1:port`` in the namespace of ``pid``."""
    sock = _socket_in(pid)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(64)
    except OSError:
        sock.close()
        raise
    return sock


async def listen(pid: int, port: int) -> socket.socket:
    """A non-blocking socket listening on ``127.0.0.1:port`` inside the namespace of ``pid``."""
    loop = asyncio.get_running_loop()
    sock = await loop.run_in_executor(_thread, listen_blocking, pid, port)
    sock.setblocking(False)
    return sock


async def connect(pid: int, port: int, connect_timeout_s: float = 5.0) -> socket.socket:
    """A connected socket to ``127.0.0.1:port`` inside the namespace of process ``pid``."""
    loop = asyncio.get_running_loop()
    sock = await loop.run_in_executor(_thread, connect_blocking, pid, port, connect_timeout_s)
    sock.setblocking(False)
    return sock


class NetnsConnector(aiohttp.BaseConnector):
    """An aiohttp connector whose hosts are container names mapped to their init pid."""

    def __init__(self, port: int, pids: dict[str, int], **kwargs: Any) -> None:
        kwargs.setdefault("keepalive_timeout", KEEPALIVE_S)
        super().__init__(**kwargs)
        self.port = port
        self.pids = pids

    async def _create_connection(
        self,
        req: aiohttp.ClientRequest,
        _traces: object,
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109
    ) -> ResponseHandler:
        host = req.url.host or ""
        pid = self.pids.get(host)
        if pid is None:
            raise aiohttp.ClientConnectionError(f"no container named {host}")
        try:
            sock = await connect(pid, self.port, timeout.sock_connect or 5.0)
            _, proto = await self._loop.create_connection(self._factory, sock=sock)
        except OSError as exc:
            raise aiohttp.ClientConnectionError(f"{host}: {exc}") from exc
        return proto
