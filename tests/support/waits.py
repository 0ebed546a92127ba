"""The one way tests wait: poll a condition until it holds, with a deadline, never a sleep."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(
    probe: Callable[[], Any] | Callable[[], Awaitable[Any]],
    deadline_s: float = 30.0,
    what: str = "condition",
    interval_s: float = 0.1,
) -> Any:
    """The first truthy value ``probe`` returns (sync or async) before the deadline.

    Raises ``AssertionError`` naming ``what`` after ``deadline_s``; one async
    check that hangs past the deadline fails too.
    """
    end = time.monotonic() + deadline_s
    while True:
        value = probe()
        if inspect.isawaitable(value):
            try:
                value = await asyncio.wait_for(value, max(1.0, end - time.monotonic()))
            except TimeoutError as exc:
                raise AssertionError(f"one check for {what} hung past {deadline_s} s") from exc
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"{what} did not happen within {deadline_s} s")
        await asyncio.sleep(interval_s)
