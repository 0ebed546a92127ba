"""Run the API server in the foreground."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from typing import TextIO

from aiohttp import web

from api import server
from api.app import create_app
from streams import eventloop
from streams.settings import Settings, get_settings

# One line per request: time, client, request line, status, bytes, seconds (aiohttp's
# AccessLogger).
ACCESS_FORMAT = '%t %a "%r" %s %b %Tf'
ACCESS_FLUSH_S = 1.0


class BatchedLines(logging.Handler):
    """Keeps each access line in memory; ``run`` writes them out once a second in one write.

    A request pays only for its line's formatting and an append: no lock
    taken by a writer thread, no system call per request.
    """

    def __init__(self, stream: TextIO):
        super().__init__()
        self.stream = stream
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def write(self) -> None:
        if self.lines:
            lines, self.lines = self.lines, []
            self.stream.write("access " + "\naccess ".join(lines) + "\n")
            self.stream.flush()

    async def run(self, _app: web.Application) -> AsyncIterator[None]:
        async def every_second() -> None:
            while True:
                await asyncio.sleep(ACCESS_FLUSH_S)
                self.write()

        task = asyncio.create_task(every_second())
        yield
        task.cancel()
        self.write()


def access_log(settings: Settings) -> tuple[logging.Logger, BatchedLines] | None:
    """The access log, written to stdout (``.state/logs/api.log`` under ``make up``) off the
    hot path; None when ``LEDGERWHISK_API_ACCESS_LOG=false``."""
    if not settings.api_access_log:
        return None
    logger = logging.getLogger("ledgerwhisk.api.access")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    lines = BatchedLines(sys.stdout)
    logger.addHandler(lines)
    return logger, lines


def main() -> None:
    settings = get_settings()
    logging.basicConfig(
        level=os.environ.get("LEDGERWHISK_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    server.install()
    eventloop.install()
    app = create_app(settings)
    access = access_log(settings)
    if access is not None:
        app.cleanup_ctx.append(access[1].run)
    web.run_app(
        app,
        host=settings.api_host,
        port=settings.api_port,
        access_log=access[0] if access is not None else None,
        access_log_format=ACCESS_FORMAT,
        **server.handler_args(),
        print=lambda *_: logging.getLogger("ledgerwhisk.api").info(
            "listening on http://%s:%d", settings.api_host, settings.api_port
        ),
    )


if __name__ == "__main__":
    main()
