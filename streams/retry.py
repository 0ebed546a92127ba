"""Retrying what must not be given up: exponential back-off until it succeeds (tenacity).

For writes of facts that must not be lost (a decision, an outcome, a batch of
records) and reads the platform cannot go on without: while Kafka or CouchDB
is away the caller waits, logging each failure, rather than drops anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

T = TypeVar("T")

FIRST_S: Final = 0.2
MAX_S: Final = 5.0


def _logger(log: logging.Logger, what: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning("%s failed (%r); again in %.1f s", what, exc, wait)

    return before_sleep


async def until_done(
    attempt: Callable[[], Awaitable[T]],
    *,
    what: str,
    retry_on: type[BaseException] | tuple[type[BaseException], ...],
    log: logging.Logger,
) -> T:
    """``await attempt()`` until it returns; retried (0.2 s, doubling to 5 s) on ``retry_on``.

    Any other exception leaves at once. The first try runs without tenacity's
    machinery (it costs more than a Kafka write; most writes succeed at once).
    """
    try:
        return await attempt()
    except retry_on as exc:
        log.warning("%s failed (%r); again in %.1f s", what, exc, FIRST_S)
    await asyncio.sleep(FIRST_S)
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(retry_on),
        wait=wait_exponential(multiplier=FIRST_S, max=MAX_S),
        before_sleep=_logger(log, what),
        reraise=True,
    )
    async for trying in retrying:
        with trying:
            return await attempt()
    raise AssertionError("unreachable: tenacity retries until it returns")  # pragma: no cover
