"""Helpers for the invoker's integration tests: the ledger, Docker, and an invoker of their own.

``own_invoker`` runs the real ``Invoker`` class in the test's event loop,
against the real Docker engine, Kafka and CouchDB of the test stack, with
settings of the test's choosing (a small memory budget, short idle times).
It has an id of its own (9) and sends no heartbeats, so the stack's
controller never schedules anything to it: the test hands it dispatches
itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import docker
from aiokafka import AIOKafkaProducer

from api.accept import Runnable, accepted_event
from api.auth import Identity
from invoker.activation import Invoker
from invoker.containers import LABEL_OWNER, Docker
from invoker.lease import Assignment
from store.couch import Couch
from streams import constants
from streams.events import (
    ActivationCompleted,
    ActivationStarted,
    encode,
    headers_of,
)
from streams.history import read_activation
from streams.ids import now_ms
from streams.placement import Placement
from streams.settings import Settings
from tests.support.client import Client
from tests.support.stack import PREFIX

OWN_INVOKER_ID = 9


def annotations_of(record: dict[str, Any]) -> dict[str, Any]:
    return {a["key"]: a["value"] for a in record.get("annotations", [])}


async def started_event(settings: Settings, activation_id: str) -> ActivationStarted:
    """The ``started`` event of a completed activation, read back from the ledger."""
    events = await read_activation(settings, activation_id)
    found = [e.event for e in events if isinstance(e.event, ActivationStarted)]
    assert found, f"no started event for {activation_id}: {[e.event.type for e in events]}"
    return found[0]


# -- Docker ---------------------------------------------------------------------
_docker: list[docker.DockerClient] = []


def docker_client() -> docker.DockerClient:
    if not _docker:
        _docker.append(docker.from_env())
    return _docker[0]


async def container_state(name: str) -> dict[str, Any] | None:
    """``State`` of a container by name, or None once it is gone."""

    def inspect() -> dict[str, Any] | None:
        try:
            return dict(docker_client().api.inspect_container(name)["State"])
        except docker.errors.NotFound:
            return None

    return await asyncio.to_thread(inspect)


async def container_info(name: str) -> dict[str, Any]:
    return dict(await asyncio.to_thread(docker_client().api.inspect_container, name))


async def owned_containers(owner: str) -> dict[str, str]:
    """Name -> id of every container labelled for ``owner``."""
    found = await asyncio.to_thread(
        docker_client().api.containers, all=True, filters={"label": f"{LABEL_OWNER}={owner}"}
    )
    return {c["Names"][0].lstrip("/"): c["Id"] for c in found}


async def gone(name: str) -> bool:
    return await container_state(name) is None


# -- an invoker of the test's own -----------------------------------------------
class OwnInvoker:
    """A real ``Invoker`` driven by the test, recording the events it appends."""

    def __init__(self, invoker: Invoker, settings: Settings):
        self.invoker = invoker
        self.settings = settings
        self.events: list[ActivationStarted | ActivationCompleted] = []
        self.faults = 0  # failures the invoker counted as its own

    @property
    def pool(self) -> Any:
        return self.invoker.pool

    def started(self, activation_id: str) -> ActivationStarted | None:
        for e in self.events:
            if isinstance(e, ActivationStarted) and e.activation_id == activation_id:
                return e
        return None

    def start_of(self, activation_id: str) -> str | None:
        """How the activation got its container: cold, prewarm or warm."""
        started = self.started(activation_id)
        return started.start if started else None

    def completed(self, activation_id: str) -> ActivationCompleted | None:
        for e in self.events:
            if isinstance(e, ActivationCompleted) and e.activation_id == activation_id:
                return e
        return None

    async def action(self, client: Client, name: str) -> dict[str, Any]:
        """The stored document of an action the test created through the API."""
        couch = Couch(self.settings)
        try:
            doc = await couch.get(
                self.settings.database(constants.DB_WHISKS), f"{client.namespace}/{name}"
            )
        finally:
            await couch.close()
        assert doc is not None, name
        return doc

    def dispatch(
        self,
        doc: dict[str, Any],
        params: dict[str, Any] | None = None,
        grace_ms: int = 10_000,
    ) -> Assignment:
        """What the ledger would place on this invoker for one invocation of ``doc``."""
        at = now_ms()
        namespace = doc["namespace"]
        runnable = Runnable.of(doc, doc["_id"], doc["name"])
        accepted = accepted_event(
            runnable,
            Identity(namespace, namespace, "u", "k"),
            params or {},
            source="test",
            blocking=False,
            grace_ms=grace_ms,
            placement=Placement(OWN_INVOKER_ID, "home"),
        )
        assert accepted.at_ms >= at
        return Assignment(accepted, 0, 0, 0)

    async def run(self, assignment: Assignment) -> ActivationCompleted:
        """Carry one placement through and return its ``completed`` event."""
        await self.invoker.activate(assignment)
        done = self.completed(assignment.activation_id)
        assert done is not None
        return done


@asynccontextmanager
async def own_invoker(
    stack: Settings, reap: bool = False, **overrides: Any
) -> AsyncIterator[OwnInvoker]:
    """An ``Invoker`` (id 9) with ``overrides`` on the test stack; its containers go after.

    With ``reap`` its idle handling runs as the agent's timer runs it.
    """
    settings = stack.model_copy(
        update={"invoker_id": OWN_INVOKER_ID, "stem_cells": False, **overrides}
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        linger_ms=0,
        max_request_size=constants.LEDGER_MESSAGE_MAX_BYTES,
    )
    await producer.start()
    own: OwnInvoker | None = None

    async def append(event: ActivationStarted | ActivationCompleted) -> None:
        assert own is not None
        own.events.append(event)
        await producer.send_and_wait(
            settings.topic(constants.TOPIC_EVENTS),
            encode(event),
            key=event.activation_id.encode(),
            headers=headers_of(event),
        )

    def fault(_message: str) -> None:
        assert own is not None
        own.faults += 1

    owner = f"{settings.prefix}-invoker{OWN_INVOKER_ID}"
    docker = Docker(owner, settings.docker_socket)
    invoker = Invoker(settings, append, fault, docker, Couch(settings))
    own = OwnInvoker(invoker, settings)
    reaper: asyncio.Task[None] | None = None
    try:
        await invoker.start()
        if reap:
            reaper = asyncio.create_task(_reap_every(invoker, 0.2))
        yield own
    finally:
        if reaper is not None:
            reaper.cancel()
            await asyncio.gather(reaper, return_exceptions=True)
        await invoker.stop()
        await producer.stop()
        # Whatever a failing test left behind.
        for container_id in (await owned_containers(owner)).values():
            await asyncio.to_thread(docker_client().api.remove_container, container_id, force=True)


async def _reap_every(invoker: Invoker, interval_s: float) -> None:
    while True:
        await invoker.reap_idle()
        await asyncio.sleep(interval_s)


__all__ = ["PREFIX"]
