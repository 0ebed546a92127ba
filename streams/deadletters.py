"""Dead letters: records no reader could decode, kept where an operator can find them.

A record of the ledger (or of a dispatch topic) that does not decode is never
a crash: its reader skips it, counts it, and the one reader that owns the
record's partition (the controller for the ledger, the invoker for its
dispatch topic) writes a dead letter to ``<prefix>.dead-letters``, so the
record can be found and read by hand. Whether the activation could be ended
is in the letter (``ended``).
"""

from __future__ import annotations

import base64
import logging
from collections import Counter
from typing import Any

from streams import jsoncodec
from streams.events import Unreadable

log = logging.getLogger("ledgerwhisk.deadletters")

# The part of an unreadable value a letter keeps.
VALUE_KEPT_BYTES = 64 * 1024

# Unreadable records met by this process, by reader ("controller", "projection", ...).
SEEN: Counter[str] = Counter()


def seen(reader: str, record: Unreadable, where: str) -> None:
    """Count and log one unreadable record ``reader`` met at ``where`` (topic:partition:offset)."""
    SEEN[reader] += 1
    log.warning(
        "%s: unreadable record at %s (activation %s, type %s) skipped: %s",
        reader,
        where,
        record.activation_id or "unknown",
        record.type or "unknown",
        record.error,
    )


def letter(
    record: Unreadable,
    *,
    reader: str,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    ended: bool,
    at_ms: int,
) -> bytes:
    """The dead letter for one unreadable record: JSON with its place, error and raw bytes.

    Shape: ``{topic, partition, offset, reader, error, activation_id, namespace,
    type, ended, at_ms, key, value_bytes, value_base64}`` (the first 64 KiB of
    the value; ``key`` as text, with bytes that are not UTF-8 replaced).
    """
    raw = value or b""
    body: dict[str, Any] = {
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "reader": reader,
        "error": record.error,
        "activation_id": record.activation_id,
        "namespace": record.namespace,
        "type": record.type,
        "ended": ended,
        "at_ms": at_ms,
        "key": key.decode("utf-8", "replace") if key is not None else None,
        "value_bytes": len(raw),
        "value_base64": base64.b64encode(raw[:VALUE_KEPT_BYTES]).decode(),
    }
    return jsoncodec.dumps(body).encode()
