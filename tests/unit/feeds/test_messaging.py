"""feeds/messaging.py: the Kafka feed's parameters, its messages and batches."""

from __future__ import annotations

import base64

import pytest

from feeds import messaging
from feeds.alarms import BadParameters
from feeds.messaging import Message


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "You must supply a 'topic' parameter."),
        ({"topic": "t"}, "You must supply a 'brokers' parameter."),
        (
            {"topic": "t", "brokers": "b:9092", "isJSONData": True, "isBinaryValue": "true"},
            "isJSONData and isBinaryValue cannot both be enabled.",
        ),
        (
            {"topic": "t", "brokers": 42},
            "You must supply a 'brokers' parameter as an array of Message Hub brokers.",
        ),
    ],
)
def test_bad_parameters_get_openwhisks_error(params: dict, message: str) -> None:
    with pytest.raises(BadParameters) as caught:
        messaging.create_config(params)
    assert str(caught.value) == message


def test_brokers_are_an_array_or_a_comma_separated_string() -> None:
    config = messaging.create_config({"topic": "t", "brokers": "a:1, b:2", "isJSONData": "TRUE"})
    assert config["brokers"] == ["a:1", "b:2"]
    assert config["isJSONData"] is True and config["isBinaryKey"] is False


def test_update_changes_only_the_flags() -> None:
    config = messaging.create_config({"topic": "t", "brokers": ["a:1"]})
    assert messaging.update_config(config, {"isBinaryKey": True})["isBinaryKey"] is True
    with pytest.raises(BadParameters, match="At least one of isJsonData"):
        messaging.update_config(config, {"topic": "other"})


def test_messages_are_shaped_as_openwhisks_provider_does() -> None:
    raw = Message("t", 1, 7, b"k\xff", b'{"a": [1, 2]}')
    plain = messaging.shaped(raw, {})
    assert plain == {
        "value": '{"a": [1, 2]}',
        "topic": "t",
        "partition": 1,
        "offset": 7,
        "key": "k\ufffd",
    }
    as_json = messaging.shaped(raw, {"isJSONData": True, "isBinaryKey": True})
    assert as_json["value"] == {"a": [1, 2]}
    assert as_json["key"] == base64.b64encode(b"k\xff").decode()
    binary = messaging.shaped(raw, {"isBinaryValue": True})
    assert base64.b64decode(binary["value"]) == b'{"a": [1, 2]}'
    not_json = messaging.shaped(Message("t", 0, 0, None, b"NaN"), {"isJSONData": True})
    assert not_json["value"] == "NaN" and not_json["key"] is None


def test_batches_fill_up_to_the_payload_limit_and_skip_a_message_too_big_alone() -> None:
    limit = messaging.PAYLOAD_LIMIT_BYTES
    assert messaging.take(0, 0, 100) == messaging.Take(add=True, close=False)
    assert messaging.take(limit - 100, 5, 100) == messaging.Take(add=True, close=False)
    assert messaging.take(limit - 100, 5, 101) == messaging.Take(add=False, close=True)
    assert messaging.take(0, 0, limit + 1) == messaging.Take(add=False, close=True, skip=True)


def test_commits_and_pending_ranges_follow_the_batch() -> None:
    entries = [
        {"partition": 0, "offset": 4},
        {"partition": 1, "offset": 9},
        {"partition": 0, "offset": 5},
    ]
    assert messaging.next_offsets(entries) == {0: 6, 1: 10}
    ranges = messaging.ranges_of(entries)
    assert ranges == {"0": [4, 5], "1": [9, 9]}
    assert messaging.pending_left(ranges, {0: 4, 1: 9})
    assert not messaging.pending_left(ranges, {0: 6, 1: 10})


@pytest.mark.parametrize(
    "brokers",
    ["garbage::::", "localhost:notaport", ["ok:9092", "h:"], "host:99999", "a b:1", ":9092"],
)
def test_a_broker_no_client_can_connect_to_is_refused_naming_the_parameter(
    brokers: object,
) -> None:
    with pytest.raises(BadParameters) as caught:
        messaging.create_config({"topic": "t", "brokers": brokers})
    assert str(caught.value).startswith("The 'brokers' parameter has '")
    assert "not a Kafka broker address (host:port" in str(caught.value)


@pytest.mark.parametrize(
    "broker", ["kafka1:9092", "127.0.0.1:9092", "localhost", "[::1]:9092", "::1", "[fe80::1]"]
)
def test_broker_addresses_kafka_clients_read(broker: str) -> None:
    assert messaging.create_config({"topic": "t", "brokers": [broker]})["brokers"] == [broker]
