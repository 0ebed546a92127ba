"""Run the API server in the foreground."""

from __future__ import annotations

import logging
import os

from aiohttp import web

from api import server
from api.app import create_app
from streams import eventloop
from streams.settings import get_settings


def main() -> None:
    settings = get_settings()
    logging.basicConfig(
        level=os.environ.get("LEDGERWHISK_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    server.install()
    eventloop.install()
    web.run_app(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        access_log=None,
        **server.handler_args(),
        print=lambda *_: logging.getLogger("ledgerwhisk.api").info(
            "listening on http://%s:%d", settings.api_host, settings.api_port
        ),
    )


if __name__ == "__main__":
    main()
