"""The Kafka feed's parameters, READ answer, message shape and batches (pure).

Copies OpenWhisk's messaging package (apache/openwhisk-package-kafka:
``action/lib/common.js`` and ``action/kafkaFeedWeb.js`` for parameters and
errors, ``provider/consumer.py`` for the fire's body and its batches): a fire
carries ``{"messages": [{"value", "topic", "partition", "offset", "key"}, ...]}``;
a batch grows while messages keep coming, for at most 2 s, and up to 900,000
bytes of payload; one message larger than that alone is skipped.

Differences, on purpose: a value ``isJSONData`` cannot parse is passed as the
plain string (OpenWhisk wraps it in quotes), and every message is delivered,
however long the platform takes to accept its fire (OpenWhisk skips a batch
after 6 failed tries).
"""

from __future__ import annotations

import base64
import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from feeds.alarms import BadParameters
from streams import jsoncodec
from streams import messages as m

JsonDict = dict[str, Any]
PAYLOAD_LIMIT_BYTES = 900_000
BATCH_WINDOW_S = 2.0
FLAGS = ("isJSONData", "isBinaryValue", "isBinaryKey")


def flag(params: JsonDict, name: str) -> bool:
    """OpenWhisk's ``getBooleanFromArgs``: true, or the string "true" in any case."""
    value = params.get(name)
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def brokers_of(value: object) -> list[str] | None:
    """``brokers``: a non-empty array, or a comma-separated string; None otherwise."""
    if isinstance(value, list) and value and all(isinstance(b, str) and b for b in value):
        return list(value)
    if isinstance(value, str) and value.strip():
        return [b.strip() for b in value.split(",") if b.strip()]
    return None


def is_broker(address: str) -> bool:
    """Whether ``address`` is a broker a Kafka client can connect to: ``host``,
    ``host:port``, ``[v6]:port`` or a bare IPv6 address, the port 1-65535 (the forms
    aiokafka's ``collect_hosts`` reads; it raises on ``garbage::::``)."""
    text = address.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not _is_v6(host):
            return False
        return rest == "" or (rest.startswith(":") and _is_port(rest[1:]))
    if text.count(":") > 1:
        return _is_v6(text)
    host, _, port = text.partition(":")
    if not host or any(c.isspace() or c in "/@?#[]" for c in host):
        return False
    return ":" not in text or _is_port(port)


def _is_v6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _is_port(text: str) -> bool:
    return text.isascii() and text.isdigit() and 1 <= int(text) <= 65_535


def checked_brokers(value: object) -> list[str]:
    """``brokers`` as a list of addresses, or ``BadParameters`` naming the parameter
    (OpenWhisk's text for a value that is no array nor string; Ledgerwhisk's for an
    address no client can connect to, which OpenWhisk accepts and its consumer fails on)."""
    brokers = brokers_of(value)
    if brokers is None:
        raise BadParameters(m.KAFKA_BAD_BROKERS)
    for broker in brokers:
        if not is_broker(broker):
            raise BadParameters(m.KAFKA_BROKER_INVALID.format(broker=broker))
    return brokers


def create_config(params: JsonDict) -> JsonDict:
    """A new Kafka feed's config: ``topic``, ``brokers`` (list), the three flags;
    ``BadParameters`` with OpenWhisk's texts in its order."""
    topic = params.get("topic")
    if not isinstance(topic, str) or not topic:
        raise BadParameters(m.KAFKA_NO_TOPIC)
    config: JsonDict = {"kind": "kafka", "topic": topic}
    config.update({name: flag(params, name) for name in FLAGS})
    if config["isJSONData"] and config["isBinaryValue"]:
        raise BadParameters(m.KAFKA_JSON_AND_BINARY)
    if not params.get("brokers"):
        raise BadParameters(m.KAFKA_NO_BROKERS)
    config["brokers"] = checked_brokers(params["brokers"])
    return config


def update_config(config: JsonDict, params: JsonDict) -> JsonDict:
    """Only the three flags change (OpenWhisk's ``performUpdateParameterValidation``)."""
    if all(params.get(name) is None for name in FLAGS):
        raise BadParameters(m.KAFKA_NOTHING_TO_UPDATE)
    new = dict(config)
    new.update({name: flag(params, name) for name in FLAGS if params.get(name) is not None})
    if new["isJSONData"] and new["isBinaryValue"]:
        raise BadParameters(m.KAFKA_JSON_AND_BINARY)
    return new


def read_config(registration: JsonDict) -> JsonDict:
    """READ's ``config`` as OpenWhisk's ``kafkaFeedWeb`` answers it."""
    config = registration["config"]
    return {
        "triggerName": f"/{registration['namespace']}/{registration['trigger']}",
        "topic": config["topic"],
        "isJSONData": config["isJSONData"],
        "isBinaryValue": config["isBinaryValue"],
        "isBinaryKey": config["isBinaryKey"],
        "brokers": config["brokers"],
    }


def group_id(prefix: str, registration_uuid: str) -> str:
    """The consumer group of one registration: its committed offsets are its position."""
    return f"{prefix}.feed.{registration_uuid}"


# -- what a fire carries -----------------------------------------------------------
@dataclass(frozen=True)
class Message:
    """One Kafka record as the feed reads it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", errors="replace")


def shaped(message: Message, config: JsonDict) -> JsonDict:
    """One entry of the fire's ``messages``: ``value`` parsed as JSON (``isJSONData``), in
    base64 (``isBinaryValue``) or as text; ``key`` in base64 (``isBinaryKey``) or as text."""
    value: Any = _text(message.value)
    if message.value is not None and config.get("isJSONData"):
        try:
            value = jsoncodec.loads(message.value)
        except (jsoncodec.InvalidJson, ValueError):
            value = _text(message.value)
    elif message.value is not None and config.get("isBinaryValue"):
        value = base64.b64encode(message.value).decode()
    key: str | None = _text(message.key)
    if message.key is not None and config.get("isBinaryKey"):
        key = base64.b64encode(message.key).decode()
    return {
        "value": value,
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        "key": key,
    }


def size_of(entry: JsonDict) -> int:
    """An entry's bytes in the fire's body, as OpenWhisk's ``__sizeMessage`` counts them."""
    return len(json.dumps(entry).encode())


@dataclass(frozen=True)
class Take:
    """What to do with the next message of a growing batch."""

    add: bool  # it joins the batch
    close: bool  # the batch is full: fire it (the message waits for the next one unless added)
    skip: bool = False  # it alone is over the limit: commit past it, never fire it


def take(batch_bytes: int, batch_len: int, entry_bytes: int) -> Take:
    """Whether one more message fits a batch of ``batch_len`` entries and ``batch_bytes``."""
    if batch_bytes + entry_bytes <= PAYLOAD_LIMIT_BYTES:
        return Take(add=True, close=False)
    if batch_len == 0:
        return Take(add=False, close=True, skip=True)
    return Take(add=False, close=True)


def next_offsets(entries: list[JsonDict]) -> dict[int, int]:
    """Per partition, the offset after the last one of ``entries``: what to commit."""
    out: dict[int, int] = {}
    for e in entries:
        out[e["partition"]] = max(out.get(e["partition"], 0), e["offset"] + 1)
    return out


def ranges_of(entries: list[JsonDict]) -> dict[str, list[int]]:
    """Per partition (as a JSON key), the first and last offset of ``entries``."""
    out: dict[str, list[int]] = {}
    for e in entries:
        p = str(e["partition"])
        first, last = out.get(p, [e["offset"], e["offset"]])
        out[p] = [min(first, e["offset"]), max(last, e["offset"])]
    return out


def pending_left(ranges: dict[str, list[int]], committed: dict[int, int]) -> bool:
    """True when a recorded batch is not covered by the committed offsets yet (its fire
    may or may not have been accepted: fire it again with the same fire id)."""
    return any(committed.get(int(p), 0) <= last for p, (_first, last) in ranges.items())
