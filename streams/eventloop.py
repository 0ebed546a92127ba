"""The event loop every service runs on: uvloop, unless LEDGERWHISK_EVENT_LOOP=asyncio."""

from __future__ import annotations

import asyncio
import os

import uvloop


def install() -> None:
    """Make new event loops uvloop's (before the service creates its loop).

    uvloop implements the same asyncio interface in C over libuv; the services
    spend most of their CPU in the event loop's machinery (transports, call_soon,
    selectors) around each Kafka request and HTTP exchange, which it makes
    cheaper. ``LEDGERWHISK_EVENT_LOOP=asyncio`` keeps the standard loop (to
    compare, or to debug with asyncio's debug mode).
    """
    if os.environ.get("LEDGERWHISK_EVENT_LOOP", "uvloop") != "asyncio":
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
