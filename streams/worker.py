"""The entry point every Faust worker of the platform shares: settings, app, foreground run."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any

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
