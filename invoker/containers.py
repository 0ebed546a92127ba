"""The one place that talks to Docker: create, pause, remove containers and follow their logs."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import aiohttp
import docker
import docker.errors
from docker.types import LogConfig, Ulimit

from invoker.errors import ContainerError
from invoker.logs import LogCollector, docker_frames
from invoker.netns import NetnsConnector
from invoker.proxy import RuntimeClient
from streams.constants import PROTOCOL_PORT

log = logging.getLogger("ledgerwhisk.invoker.docker")

LABEL_OWNER = "org.ledgerwhisk.invoker"
LABEL_KIND = "org.ledgerwhisk.kind"
PIDS_LIMIT = 512
NOFILE_LIMIT = 1024


@dataclass
class Container:
    """A running action container and the handles the invoker needs for it."""

    id: str
    name: str
    kind: str
    image: str
    memory_mb: int
    pid: int
    client: RuntimeClient
    logs: LogCollector = field(default_factory=LogCollector)
    follower: asyncio.Task[None] | None = None


class Docker:
    """The container interface of one invoker.

    Lifecycle calls go through the Docker SDK in a worker thread; the log
    stream is read with aiohttp from the Docker socket, so following logs never
    ties up a thread.
    """

    def __init__(
        self,
        owner: str,
        socket_path: str = "/var/run/docker.sock",
        mounts: dict[str, str] | None = None,
    ):
        self.owner = owner
        # host path -> container path, bind-mounted into every container (tests only).
        self.mounts = mounts or {}
        self._socket = socket_path
        self._sdk: docker.DockerClient | None = None
        self._http: aiohttp.ClientSession | None = None
        self._proxy_http: aiohttp.ClientSession | None = None
        # Container name -> init pid, for connections into its network namespace.
        self.pids: dict[str, int] = {}
        self._counter = 0

    async def start(self) -> None:
        try:
            self._sdk = await self._call(docker.DockerClient, base_url=f"unix://{self._socket}")
            await self._call(self.sdk.ping)
        except docker.errors.DockerException as exc:
            raise ContainerError(
                f"Docker at {self._socket} did not answer ({exc}); start it with "
                "`scripts/docker.sh start` (or `make up`)"
            ) from exc
        self._http = aiohttp.ClientSession(
            connector=aiohttp.UnixConnector(path=self._socket),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=5),
        )
        self._proxy_http = aiohttp.ClientSession(
            connector=NetnsConnector(PROTOCOL_PORT, self.pids, limit=0)
        )

    async def close(self) -> None:
        for session in (self._http, self._proxy_http):
            if session is not None:
                await session.close()
        if self._sdk is not None:
            self._sdk.close()

    @property
    def sdk(self) -> docker.DockerClient:
        assert self._sdk is not None, "Docker.start() was not called"
        return self._sdk

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, partial(fn, *args, **kwargs))

    async def create(self, image: str, kind: str, memory_mb: int) -> Container:
        """Start a container of ``image`` with the action's memory limit; follow its logs."""
        self._counter += 1
        name = f"{self.owner}_{self._counter}_{os.urandom(3).hex()}"
        try:
            created = await self._call(
                self.sdk.containers.run,
                image,
                detach=True,
                name=name,
                labels={LABEL_OWNER: self.owner, LABEL_KIND: kind},
                mem_limit=f"{memory_mb}m",
                memswap_limit=f"{memory_mb}m",
                pids_limit=PIDS_LIMIT,
                ulimits=[Ulimit(name="nofile", soft=NOFILE_LIMIT, hard=NOFILE_LIMIT)],
                # No network at all: the invoker reaches port 8080 from inside the
                # container's namespace (see invoker/netns.py).
                network_mode="none",
                log_config=LogConfig(type="json-file", config={"max-size": "50m"}),
                volumes={h: {"bind": c, "mode": "rw"} for h, c in self.mounts.items()} or None,
            )
            await self._call(created.reload)
        except docker.errors.ImageNotFound as exc:
            raise ContainerError(
                f"image {image} is not on this host; build it with `runtimes/build.sh`"
            ) from exc
        except docker.errors.DockerException as exc:
            raise ContainerError(f"docker could not start {image}: {exc}") from exc
        pid = int(created.attrs["State"].get("Pid") or 0)
        if not pid:
            await self.remove_id(created.id)
            raise ContainerError(f"container {name} exited at once: {created.attrs['State']}")
        assert self._proxy_http is not None
        self.pids[name] = pid
        container = Container(
            id=created.id,
            name=name,
            kind=kind,
            image=image,
            memory_mb=memory_mb,
            pid=pid,
            client=RuntimeClient(self._proxy_http, f"http://{name}:{PROTOCOL_PORT}"),
        )
        container.follower = asyncio.create_task(self._follow(container))
        return container

    async def _follow(self, container: Container) -> None:
        assert self._http is not None
        url = (
            f"http://docker/containers/{container.id}/logs?follow=1&stdout=1&stderr=1&timestamps=1"
        )
        try:
            async with self._http.get(url) as resp:
                async for stream, line in docker_frames(resp.content.iter_any()):
                    container.logs.feed(stream, line)
        except (aiohttp.ClientError, OSError) as exc:
            log.debug("log stream of %s ended: %r", container.name, exc)

    async def pause(self, container: Container) -> None:
        await self._call(self.sdk.api.pause, container.id)

    async def unpause(self, container: Container) -> None:
        await self._call(self.sdk.api.unpause, container.id)

    async def oom_killed(self, container: Container) -> bool:
        try:
            info = await self._call(self.sdk.api.inspect_container, container.id)
        except docker.errors.DockerException:
            return False
        return bool(info["State"].get("OOMKilled"))

    async def remove(self, container: Container) -> None:
        if container.follower is not None:
            container.follower.cancel()
        self.pids.pop(container.name, None)
        await self.remove_id(container.id)

    async def remove_id(self, container_id: str) -> None:
        try:
            await self._call(self.sdk.api.remove_container, container_id, force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.DockerException as exc:
            log.warning("could not remove container %s: %s", container_id[:12], exc)

    async def remove_leftovers(self) -> int:
        """Remove the containers a previous run of this invoker left behind."""
        found = await self._call(
            self.sdk.containers.list, all=True, filters={"label": f"{LABEL_OWNER}={self.owner}"}
        )
        await asyncio.gather(*(self.remove_id(c.id) for c in found))
        return len(found)
