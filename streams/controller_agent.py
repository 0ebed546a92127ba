"""The controller process: a Faust agent turning ``accepted`` into ``scheduled``."""

from __future__ import annotations

import logging
import os
from typing import Any, cast

import faust
from faust.types import StreamT

from streams import constants
from streams.app import Appends, make_app
from streams.controller import Complete, ControllerState, Output, Schedule
from streams.events import (
    ACCEPTED,
    COMPLETED,
    STARTED,
    ActivationAccepted,
    ActivationCompleted,
    ActivationStarted,
    Dispatch,
    InvokerHealth,
    decode_event,
    encode,
)
from streams.ids import now_ms
from streams.registry import HeartbeatRegistry
from streams.settings import Settings, get_settings

log = logging.getLogger("ledgerwhisk.controller")


def build(settings: Settings) -> faust.App:
    """The controller app: agents on the ledger and on invoker heartbeats, and a ticker."""
    app = make_app("controller", settings)
    events_topic = app.topic(settings.topic(constants.TOPIC_EVENTS), value_type=bytes)
    health_topic = app.topic(settings.topic(constants.TOPIC_HEALTH), value_type=bytes)
    source = f"controller@{os.getpid()}"
    state = ControllerState(
        registry=HeartbeatRegistry(offline_after_ms=int(settings.invoker_offline_after_s * 1000)),
        source=source,
        grace_ms=int(settings.completion_grace_s * 1000),
    )
    ledger = settings.topic(constants.TOPIC_EVENTS)

    async def perform(outputs: list[Output]) -> None:
        producer = app.producer
        for out in outputs:
            if isinstance(out, Schedule):
                key = out.accepted.activation_id.encode()
                # The ledger first: an invoker may only see what the log already holds.
                await producer.send_and_wait(ledger, key, encode(out.scheduled), None, None, None)
                dispatch = Dispatch(accepted=out.accepted, scheduled=out.scheduled)
                await producer.send_and_wait(
                    settings.dispatch_topic(out.scheduled.invoker),
                    key,
                    encode(dispatch),
                    None,
                    None,
                    None,
                )
            elif isinstance(out, Complete):
                key = out.completed.activation_id.encode()
                await producer.send_and_wait(ledger, key, encode(out.completed), None, None, None)

    # Decide on each event at once; its appends run behind (see Appends).
    appends = Appends()

    @app.agent(events_topic)
    async def schedule(stream: StreamT[Any]) -> None:
        async for message in cast(faust.Stream[Any], stream).noack().events():
            event = decode_event(message.value)
            now = now_ms()
            outputs: list[Output] = []
            if event.type == ACCEPTED:
                assert isinstance(event, ActivationAccepted)
                outputs = state.on_accepted(event, now)
            elif event.type == STARTED:
                assert isinstance(event, ActivationStarted)
                state.on_started(event)
            elif event.type == COMPLETED:
                assert isinstance(event, ActivationCompleted)
                outputs = state.on_completed(event, now)
            appends.ack_after(message, perform(outputs))

    @app.agent(health_topic)
    async def heartbeats(stream: StreamT[Any]) -> None:
        async for raw in stream:
            health = InvokerHealth.model_validate_json(raw)
            if health.invoker not in state.registry.records:
                log.info("invoker %d is up (pid %d on %s)", health.invoker, health.pid, health.host)
            await perform(state.on_health(health, now_ms()))

    @app.timer(interval=0.5)
    async def tick() -> None:
        await perform(state.tick(now_ms()))

    return app


def main() -> None:
    """Run the controller worker in the foreground."""
    settings = get_settings()
    app = build(settings)
    worker = faust.Worker(app, loglevel=os.environ.get("LEDGERWHISK_LOG_LEVEL", "INFO"))
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
