"""The platform API, reachable from inside an action container that has no network.

Action containers run with ``--network none``, yet an OpenWhisk action may call
the API at ``__OW_API_HOST`` with its ``__OW_API_KEY`` (invoke another action,
fire a trigger). For every container the invoker listens on
``127.0.0.1:DOOR_PORT`` inside the container's own network namespace (a socket
made there keeps its namespace; see ``invoker/netns.py``) and pipes each
connection to the API on the invoker's host. User code reaches the API and
nothing else: no bridge, no address beyond loopback, and every request still
needs the subject's key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from invoker import netns

log = logging.getLogger("ledgerwhisk.invoker.apidoor")

# The port an action sees the API on (OpenWhisk's standalone port), whatever
# port the API itself listens on.
DOOR_PORT = 3233
CHUNK = 64 * 1024
CONNECT_TIMEOUT_S = 5.0


def api_host_inside() -> str:
    """``__OW_API_HOST`` as an action sees it."""
    return f"http://127.0.0.1:{DOOR_PORT}"


class ApiDoor:
    """One listener per container, each piping connections to ``target_host:target_port``."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self._servers: dict[str, asyncio.Server] = {}
        self._pipes: dict[str, set[asyncio.Task[None]]] = {}

    async def open(self, name: str, pid: int) -> None:
        """Listen inside the network namespace of container ``name`` (init pid ``pid``)."""
        listener = await netns.listen(pid, DOOR_PORT)
        try:
            server = await asyncio.start_server(
                lambda r, w: self._accepted(name, r, w), sock=listener
            )
        except BaseException:
            listener.close()
            raise
        self._servers[name] = server
        self._pipes[name] = set()

    def close(self, name: str) -> None:
        """Stop listening for ``name`` and cut its open connections."""
        server = self._servers.pop(name, None)
        if server is not None:
            server.close()
        for task in self._pipes.pop(name, set()):
            task.cancel()

    def close_all(self) -> None:
        for name in list(self._servers):
            self.close(name)

    def _accepted(
        self, name: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        pipes = self._pipes.get(name)
        if pipes is None:  # closed meanwhile
            writer.close()
            return
        task = asyncio.ensure_future(self._carry(reader, writer))
        pipes.add(task)
        task.add_done_callback(pipes.discard)

    async def _carry(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Pipe one connection to the API and back until either side is done."""
        try:
            api_reader, api_writer = await asyncio.wait_for(
                asyncio.open_connection(*self.target), CONNECT_TIMEOUT_S
            )
        except (OSError, TimeoutError) as exc:
            log.warning("an action could not be put through to the API at %s: %r", self.target, exc)
            writer.close()
            return
        try:
            await asyncio.gather(_pump(reader, api_writer), _pump(api_reader, writer))
        finally:
            for w in (writer, api_writer):
                w.close()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy ``reader`` to ``writer``; at the end of it, end the writer's half too."""
    try:
        while chunk := await reader.read(CHUNK):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        with contextlib.suppress(OSError):
            writer.close()
