"""The one place that talks to Docker: create, pause, remove containers and follow their output."""

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
import requests
from docker.types import LogConfig, Ulimit

from invoker.apidoor import ApiDoor
from invoker.errors import ContainerError, ImageMissing, ImageUnusable
from invoker.logs import LogCollector, docker_frames
from invoker.netns import NetnsConnector
from invoker.proxy import RuntimeClient
from streams.constants import PROTOCOL_PORT

log = logging.getLogger("ledgerwhisk.invoker.docker")

LABEL_OWNER = "org.ledgerwhisk.invoker"
LABEL_KIND = "org.ledgerwhisk.kind"


@dataclass(frozen=True)
class ContainerLimits:
    """What Docker enforces on one container.

    ``tmp_mb``: the size of the tmpfs at ``/tmp``, the only writable place when
    ``read_only_root``; its pages count against ``memory_mb``, and a write past
    it fails with ENOSPC in user code (the host's disk is never touched).
    """

    memory_mb: int
    pids: int
    nofile: int
    tmp_mb: int = 64
    read_only_root: bool = True
    # /tmp allows executing files (a compiled Go binary, a native ``exec``).
    tmp_exec: bool = False


@dataclass(frozen=True)
class ExitState:
    """How a container stands after its proxy stopped answering."""

    exited: bool
    oom_killed: bool
    exit_code: int | None


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
    ties up a thread. Every container carries the label ``org.ledgerwhisk.invoker=<owner>``,
    so a restarted invoker finds and removes what its previous run left.
    """

    def __init__(
        self,
        owner: str,
        socket_path: str = "/var/run/docker.sock",
        mounts: dict[str, str] | None = None,
        api_door: ApiDoor | None = None,
    ):
        self.owner = owner
        # Where actions reach the platform API from inside their containers.
        self.api_door = api_door
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
        if self.api_door is not None:
            self.api_door.close_all()
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
        """``fn`` of the Docker SDK, in a thread.

        An engine that is gone (its socket removed, the daemon stopped) makes the
        SDK raise requests' ``ConnectionError`` rather than a ``DockerException``:
        it is raised as one here, so every caller's handling of Docker's errors
        applies to it (a whisk error of the invoker's own, never an escaped task).
        """
        try:
            return await asyncio.get_running_loop().run_in_executor(
                None, partial(fn, *args, **kwargs)
            )
        except requests.exceptions.ConnectionError as exc:
            raise docker.errors.DockerException(
                f"Docker at {self._socket} is unreachable ({exc})"
            ) from exc

    def new_name(self) -> str:
        """A fresh container name, known before the container exists."""
        self._counter += 1
        return f"{self.owner}_{self._counter}_{os.urandom(3).hex()}"

    def _create(
        self, name: str, image: str, kind: str, limits: ContainerLimits, binds: dict[str, str]
    ) -> str:
        """Create one container, not started yet (blocking: runs in a worker thread)."""
        api = self.sdk.api
        tmp_options = "rw,exec" if limits.tmp_exec else "rw"
        mounts = {**self.mounts, **binds}
        host_config = api.create_host_config(
            mem_limit=f"{limits.memory_mb}m",
            memswap_limit=f"{limits.memory_mb}m",  # no swap: the limit is the limit
            pids_limit=limits.pids,
            ulimits=[Ulimit(name="nofile", soft=limits.nofile, hard=limits.nofile)],
            # No network at all: the invoker reaches port 8080 from inside the
            # container's namespace (see invoker/netns.py).
            network_mode="none",
            # Docker keeps no log: the invoker reads stdout and stderr from the
            # attach stream as they are written (see ``create``).
            log_config=LogConfig(type="none"),
            read_only=limits.read_only_root,
            tmpfs={"/tmp": f"{tmp_options},nosuid,nodev,size={limits.tmp_mb}m,mode=1777"},
            binds={h: {"bind": c, "mode": "rw"} for h, c in mounts.items()} or None,
        )
        created = api.create_container(
            image,
            name=name,
            labels={LABEL_OWNER: self.owner, LABEL_KIND: kind},
            host_config=host_config,
        )
        return str(created["Id"])

    def _start(self, container_id: str) -> dict[str, Any]:
        """Start a created container and inspect it (blocking: runs in a worker thread)."""
        api = self.sdk.api
        api.start(container_id)
        info: dict[str, Any] = api.inspect_container(container_id)
        return info

    async def _attach(self, container_id: str) -> aiohttp.ClientResponse:
        """Docker's attach stream of a created container: its stdout and stderr from start.

        The stream is open before the container starts, so no line is missed; it
        ends when the container exits.
        """
        assert self._http is not None
        url = f"http://docker/containers/{container_id}/attach?stream=1&stdout=1&stderr=1"
        try:
            resp = await self._http.post(url)
        except (aiohttp.ClientError, OSError) as exc:
            raise docker.errors.DockerException(
                f"Docker at {self._socket} did not attach to {container_id[:12]} ({exc!r})"
            ) from exc
        if resp.status != 200:
            text = await resp.text()
            resp.release()
            raise docker.errors.DockerException(
                f"Docker refused to attach to {container_id[:12]}: {resp.status} {text.strip()}"
            )
        return resp

    async def _started(
        self, name: str, image: str, kind: str, limits: ContainerLimits, binds: dict[str, str]
    ) -> tuple[dict[str, Any], aiohttp.ClientResponse]:
        """Create, attach to and start one container: its inspection and its output stream.

        Whatever fails (or is cancelled) on the way, nothing is left behind.
        """
        created: str | None = None
        attached: aiohttp.ClientResponse | None = None
        try:
            created = await self._call(self._create, name, image, kind, limits, binds)
            attached = await self._attach(created)
            return await self._call(self._start, created), attached
        except BaseException:
            if attached is not None:
                attached.close()
            if created is not None:
                await self.remove_id(created)
            raise

    async def create(
        self,
        name: str,
        image: str,
        kind: str,
        limits: ContainerLimits,
        binds: dict[str, str] | None = None,
    ) -> Container:
        """Start a container of ``image`` under ``limits``; follow its output.

        ``binds``: host directory -> container path, mounted read-write in this
        container only (a kind's build cache).

        Output is read from Docker's attach stream, opened before the container
        starts, and stamped as it arrives; Docker keeps no log file of it. Against
        following a json-file log this halves dockerd's CPU per activation and
        takes 0.1-0.2 ms off each warm run (bench/README.md).
        """
        try:
            info, attached = await self._started(name, image, kind, limits, binds or {})
        except docker.errors.ImageNotFound as exc:
            raise ImageMissing(image) from exc
        except docker.errors.APIError as exc:
            if exc.is_client_error():
                # 4xx: Docker refuses the image or what it asks for (an
                # invalid reference, an entrypoint that does not exist).
                raise ImageUnusable(image, str(exc.explanation or exc)) from exc
            raise ContainerError(f"docker could not start {image}: {exc}") from exc
        except docker.errors.DockerException as exc:
            raise ContainerError(f"docker could not start {image}: {exc}") from exc
        pid = int(info["State"].get("Pid") or 0)
        if not pid:
            attached.close()
            await self.remove_id(info["Id"])
            state = info["State"]
            raise ImageUnusable(
                image, f"its container exited at once (exit code {state.get('ExitCode')})"
            )
        assert self._proxy_http is not None
        self.pids[name] = pid
        if self.api_door is not None:
            try:
                await self.api_door.open(name, pid)
            except OSError as exc:
                log.warning("%s: actions in it cannot reach the API (%r)", name, exc)
        container = Container(
            id=info["Id"],
            name=name,
            kind=kind,
            image=image,
            memory_mb=limits.memory_mb,
            pid=pid,
            client=RuntimeClient(self._proxy_http, f"http://{name}:{PROTOCOL_PORT}"),
        )
        container.follower = asyncio.create_task(self._follow(container, attached))
        return container

    async def _follow(self, container: Container, attached: aiohttp.ClientResponse) -> None:
        try:
            async for stream, line in docker_frames(attached.content.iter_any()):
                container.logs.feed(stream, line)
        except (aiohttp.ClientError, OSError) as exc:
            log.debug("output stream of %s ended: %r", container.name, exc)
        finally:
            attached.close()

    def alive(self, container: Container) -> bool:
        """Whether the container's init process still runs (a Docker restart or an
        outside ``docker kill`` ends it without the invoker hearing of it)."""
        return os.path.exists(f"/proc/{container.pid}")

    async def pause(self, container: Container) -> None:
        try:
            await self._call(self.sdk.api.pause, container.id)
        except docker.errors.DockerException as exc:
            raise ContainerError(f"could not pause {container.name}: {exc}") from exc

    async def unpause(self, container: Container) -> None:
        try:
            await self._call(self.sdk.api.unpause, container.id)
        except docker.errors.DockerException as exc:
            raise ContainerError(f"could not unpause {container.name}: {exc}") from exc

    async def exit_state(self, container: Container, wait_s: float) -> ExitState:
        """Whether the container exited (waiting up to ``wait_s``) and why.

        A proxy killed by the kernel's OOM killer drops its connection a moment
        before Docker records the exit: wait for it rather than guess.
        """
        try:
            result = await self._call(self.sdk.api.wait, container.id, timeout=wait_s)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            # A read time-out means it is still running.
            log.debug("container %s did not exit: %r", container.name, exc)
            return ExitState(False, False, None)
        try:
            info = await self._call(self.sdk.api.inspect_container, container.id)
        except docker.errors.DockerException:
            return ExitState(True, False, result.get("StatusCode"))
        state = info["State"]
        return ExitState(True, bool(state.get("OOMKilled")), state.get("ExitCode"))

    async def remove(self, container: Container) -> None:
        if container.follower is not None:
            container.follower.cancel()
        self.pids.pop(container.name, None)
        if self.api_door is not None:
            self.api_door.close(container.name)
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
            self.sdk.api.containers, all=True, filters={"label": f"{LABEL_OWNER}={self.owner}"}
        )
        await asyncio.gather(*(self.remove_id(c["Id"]) for c in found))
        return len(found)
