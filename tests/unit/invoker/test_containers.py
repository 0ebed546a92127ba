"""Docker's errors at the invoker's boundary: an engine that is gone is a Docker error."""

from __future__ import annotations

import docker.errors
import pytest
import requests

from invoker.containers import Docker


async def test_an_engine_gone_raises_a_docker_error_not_a_connection_error() -> None:
    engine = Docker(owner="unit", socket_path="/nonexistent/docker.sock")

    def call() -> None:
        raise requests.exceptions.ConnectionError("Connection aborted.")

    with pytest.raises(docker.errors.DockerException, match=r"/nonexistent/docker\.sock"):
        await engine._call(call)


async def test_other_answers_pass_through() -> None:
    engine = Docker(owner="unit", socket_path="/nonexistent/docker.sock")
    assert await engine._call(lambda x: x + 1, 1) == 2
