"""The entry points the platform's processes share: a Faust worker (``run``) or a plain
asyncio service (``serve``), each with the environment's settings, in the foreground."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import faust

from streams import eventloop
from streams.settings import Settings, get_settings


def run(
    build: Callable[[Settings], faust.App],
    before: Callable[[Settings], Coroutine[Any, Any, object]] | None = None,
) -> None:
    """Build the app from the environment's settings and run its worker in the foreground.

    ``before`` runs first, to completion (creating topics, say). The log level
    comes from ``LEDGERWHISK_LOG_LEVEL`` (default INFO).
    """
    settings = get_settings()
    eventloop.install()
    if before is not None:
        asyncio.run(before(settings))
    app = build(settings)
    worker = faust.Worker(app, loglevel=os.environ.get("LEDGERWHISK_LOG_LEVEL", "INFO"))
    worker.execute_from_commandline()


class Service(Protocol):
    """A plain asyncio service: ``run`` until ``closing`` is set."""

    closing: asyncio.Event

    async def run(self) -> None: ...


def serve(build: Callable[[Settings], Service]) -> None:
    """Build the service from the environment's settings and run it in the foreground on
    uvloop until SIGTERM or SIGINT sets its ``closing``.

    The log level comes from ``LEDGERWHISK_LOG_LEVEL`` (default INFO); aiokafka's own
    log is kept to errors (its reconnect warnings repeat what the service logs).
    """
    logging.basicConfig(
        level=os.environ.get("LEDGERWHISK_LOG_LEVEL", "INFO"),
        format="[%(asctime)s] %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("aiokafka").setLevel(logging.ERROR)

    async def main() -> None:
        service = build(get_settings())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, service.closing.set)
        await service.run()

    eventloop.install()
    asyncio.run(main())
