"""The settings an invoker on a host of its own reads: its Docker engine."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from streams.settings import Settings


def test_the_invokers_engine_is_docker_host_else_the_socket() -> None:
    assert Settings().docker_socket_path() == "/var/run/docker.sock"
    assert Settings(docker_socket="/x.sock").docker_socket_path() == "/x.sock"
    own = Settings(docker_host="unix:///srv/engine/docker.sock", docker_socket="/x.sock")
    assert own.docker_socket_path() == "/srv/engine/docker.sock"


def test_an_engine_on_another_host_is_refused() -> None:
    with pytest.raises(ValidationError, match="unix:///"):
        Settings(docker_host="tcp://10.0.0.5:2375")
