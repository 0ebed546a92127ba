"""Activation ids: 32 hex characters, time-ordered so the log can be searched by time."""

from __future__ import annotations

import os
import time


def new_activation_id(now_ms: int | None = None) -> str:
    """A new id: 12 hex digits of milliseconds since the epoch, then 20 random ones.

    OpenWhisk ids are 32 hex characters; ours keep that shape and add an order,
    so a reader can seek the ledger to the moment an activation was accepted.
    """
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    return f"{ms:012x}{os.urandom(10).hex()}"


def accepted_at_ms(activation_id: str) -> int | None:
    """When the activation was accepted, read back from its id (None if not ours)."""
    if len(activation_id) != 32:
        return None
    try:
        return int(activation_id[:12], 16)
    except ValueError:
        return None


def is_activation_id(value: str) -> bool:
    """True for 32 lower-case hex characters."""
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def now_ms() -> int:
    """Milliseconds since the epoch."""
    return int(time.time() * 1000)


def iso_ms(ms: int) -> str:
    """``2024-05-01T12:00:00.123Z``: an epoch-milliseconds moment in UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"
