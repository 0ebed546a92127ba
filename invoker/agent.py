"""The invoker process: a Faust agent over this invoker's dispatch topic, plus heartbeats."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.types import StreamT

from invoker.containers import Docker
from invoker.service import Invoker
from projections.couch import Couch
from streams import constants
from streams.app import make_app
from streams.events import Dispatch, encode
from streams.settings import Settings, get_settings
from streams.topics import ensure_topics, ledger_topics

log = logging.getLogger("ledgerwhisk.invoker")


async def dispatch_high_water(settings: Settings) -> int:
    """The end of this invoker's dispatch topic before it starts consuming.

    Dispatches below it may have been taken by a previous run of this invoker,
    so each of them is checked against the ledger before it runs.
    """
    topic = settings.dispatch_topic(settings.invoker_id)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        return int((await consumer.end_offsets([tp]))[tp])
    finally:
        await consumer.stop()


def build(settings: Settings, high_water: int) -> faust.App:
    app = make_app(f"invoker{settings.invoker_id}", settings)
    dispatch_topic = app.topic(settings.dispatch_topic(settings.invoker_id), value_type=bytes)
    health_topic = settings.topic(constants.TOPIC_HEALTH)
    ready = asyncio.Event()

    async def send(topic: str, key: bytes, value: bytes) -> None:
        await app.producer.send_and_wait(topic, key, value, None, None, None)

    invoker = Invoker(
        settings,
        send,
        Docker(
            owner=f"{settings.prefix}-invoker{settings.invoker_id}",
            socket_path=settings.docker_socket,
        ),
        Couch(settings),
    )

    @app.task
    async def boot() -> None:
        await invoker.start()
        ready.set()
        log.info(
            "invoker %s ready (user memory %d MB)",
            settings.invoker_id,
            settings.invoker_user_memory_mb,
        )

    @app.agent(dispatch_topic)
    async def run(stream: StreamT[Any]) -> None:
        async for event in stream.events():
            await ready.wait()
            dispatch = Dispatch.model_validate_json(event.value)
            invoker.submit(dispatch, recheck=event.message.offset < high_water)

    @app.timer(interval=settings.invoker_heartbeat_s)
    async def heartbeat() -> None:
        if ready.is_set():
            await send(health_topic, str(settings.invoker_id).encode(), encode(invoker.health()))

    @app.timer(interval=1.0)
    async def idle() -> None:
        if ready.is_set():
            await invoker.reap_idle()

    @app.on_before_shutdown.connect
    async def shutdown(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        await invoker.stop()

    return app


def main() -> None:
    """Run one invoker in the foreground (id from LEDGERWHISK_INVOKER_ID)."""
    settings = get_settings()
    asyncio.run(ensure_topics(settings, ledger_topics(settings, [settings.invoker_id])))
    high_water = asyncio.run(dispatch_high_water(settings))
    app = build(settings, high_water)
    worker = faust.Worker(app, loglevel=os.environ.get("LEDGERWHISK_LOG_LEVEL", "INFO"))
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
