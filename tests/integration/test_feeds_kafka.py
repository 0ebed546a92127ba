"""The Kafka feed on the real stack: each offset fires once, across a ``kill -9``.

The topic lives on the stack's own Kafka; the feed service reads it as any
user's broker. Deliveries are read back from the ledger: the rule's action's
``accepted`` events carry the fire's ``messages``.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from feeds import messaging
from feeds import registration as reg
from feeds.firing import HEADER, FeedFire
from feeds.messaging import Message
from feeds.store import FeedStore, system_secret
from store.couch import Couch
from streams.ids import new_activation_id, now_ms
from streams.settings import Settings
from tests.support.client import Client
from tests.support.feeds import (
    ALARM,
    INTERVAL,
    KAFKA_FEED,
    LOG,
    accepted_events,
    invoke_feed,
    kill_service,
    registration_state,
    runs,
    start_service,
    with_rule,
)
from tests.support.waits import eventually

pytestmark = pytest.mark.integration
DEADLINE_S = 90.0
Delivered = tuple[int, int]  # (partition, offset)


@pytest.fixture
async def topic(stack: Settings) -> AsyncIterator[str]:
    name = f"{stack.prefix}.feedtest.{os.urandom(4).hex()}"
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 2, 1)])
        yield name
        await admin.delete_topics([name])
    finally:
        await admin.close()


async def produce(stack: Settings, topic: str, first: int, count: int) -> list[Message]:
    """``count`` messages ``{"n": first..}`` with keys, spread over the partitions."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap)
    await producer.start()
    out = []
    try:
        for n in range(first, first + count):
            key, value = f"k{n}".encode(), f'{{"n": {n}}}'.encode()
            meta = await producer.send_and_wait(topic, value, key=key, partition=n % 2)
            out.append(Message(topic, meta.partition, meta.offset, key, value))
    finally:
        await producer.stop()
    return out


async def delivered(stack: Settings, client: Client) -> list[dict]:
    """Every message the rule's action was given, in ledger order (duplicates included)."""
    out: list[dict] = []
    for run in await runs(stack, client.namespace, "echo"):
        out.extend(run.params.get("messages", []))
    return out


async def until_delivered(stack: Settings, client: Client, count: int) -> list[dict]:
    async def enough() -> list[dict] | None:
        got = await delivered(stack, client)
        return got if len({(m["partition"], m["offset"]) for m in got}) >= count else None

    return await eventually(enough, DEADLINE_S, f"{count} messages delivered", 0.5)


def positions(messages: list[dict]) -> Counter[Delivered]:
    return Counter((m["partition"], m["offset"]) for m in messages)


async def create_feed(stack: Settings, client: Client, topic: str, **flags: object) -> None:
    await with_rule(client, "onmessage", "echo", KAFKA_FEED)
    status, result = await invoke_feed(
        client,
        KAFKA_FEED,
        "CREATE",
        "onmessage",
        brokers=[stack.kafka_bootstrap],
        topic=topic,
        **flags,
    )
    assert status == 200 and len(result["uuid"]) == 32, result


async def test_each_offset_fires_once_even_across_a_kill_9(
    stack: Settings, client: Client, topic: str
) -> None:
    before = await produce(stack, topic, 0, 6)  # before the feed: never delivered
    await create_feed(stack, client, topic, isJSONData=True)
    first = await produce(stack, topic, 100, 50)
    await until_delivered(stack, client, 1)
    await kill_service(signal.SIGKILL)  # in the middle of the stream
    second = await produce(stack, topic, 150, 50)
    await start_service()

    got = await until_delivered(stack, client, 100)
    counts = positions(got)
    expected = {(m.partition, m.offset) for m in first + second}
    assert set(counts) == expected
    assert all(n == 1 for n in counts.values()), [p for p, n in counts.items() if n > 1]
    assert not expected & {(m.partition, m.offset) for m in before}
    one = next(m for m in got if m["value"] == {"n": 100})
    assert one == {"value": {"n": 100}, "topic": topic, "partition": 0, "offset": 3, "key": "k100"}
    status, read = await invoke_feed(client, KAFKA_FEED, "READ", "onmessage")
    assert status == 200 and read["config"] == {
        "triggerName": f"/{client.namespace}/onmessage",
        "topic": topic,
        "isJSONData": True,
        "isBinaryValue": False,
        "isBinaryKey": False,
        "brokers": [stack.kafka_bootstrap],
    }
    assert read["status"]["active"] is True
    status, result = await invoke_feed(client, KAFKA_FEED, "DELETE", "onmessage")
    assert status == 200, result


async def test_a_fire_accepted_just_before_a_crash_is_not_fired_again(
    stack: Settings, client: Client, topic: str
) -> None:
    """The window exactly-once closes: the service stored the batch as pending, its fire was
    accepted, and it died before committing. On return it fires the same id again; the API
    recognises it and starts nothing, and the offsets are committed."""
    await create_feed(stack, client, topic)
    await produce(stack, topic, 0, 4)
    await until_delivered(stack, client, 4)
    await kill_service(signal.SIGKILL)
    batch = await produce(stack, topic, 4, 5)

    # What the dead service had done: stored the batch as pending, fired it, been accepted.
    couch = Couch(stack)
    try:
        store = FeedStore(couch, stack)
        registration = await store.registration(f"{client.namespace}/onmessage")
        assert registration is not None
        entries = [messaging.shaped(m, registration["config"]) for m in batch]
        fire = FeedFire(new_activation_id(), registration["cause"], KAFKA_FEED)
        state = reg.current_state(registration, await store.state(registration["uuid"]))
        pending = {"fire_id": fire.fire_id, "ranges": messaging.ranges_of(entries)}
        await store.put_state(reg.with_pending(state, pending))
        secret = await system_secret(couch, stack)
        assert secret is not None
    finally:
        await couch.close()
    async with aiohttp.ClientSession() as session:
        async with session.post(
            client.url("triggers/onmessage"),
            json={"messages": entries},
            headers={
                "Authorization": client.auth,
                HEADER: fire.header(secret, f"{client.namespace}/onmessage"),
            },
        ) as resp:
            assert resp.status == 202, await resp.text()
            assert (await resp.json())["activationId"] == fire.fire_id

    await start_service()
    more = await produce(stack, topic, 9, 3)  # after the recovery: the feed goes on

    got = await until_delivered(stack, client, 12)
    counts = positions(got)
    assert all(n == 1 for n in counts.values()), [p for p, n in counts.items() if n > 1]
    assert {(m.partition, m.offset) for m in batch + more} <= set(counts)

    # The service tried the same id again (two ``accepted`` of it in the ledger), and the
    # API started the rule for the first only.
    tries = [
        e for e in await accepted_events(stack, client.namespace) if e.activation_id == fire.fire_id
    ]
    assert len(tries) == 2
    assert tries[0].cause is not None and tries[0].cause.kind == "feed"
    assert tries[0].cause.activation_id == registration["cause"]
    status, _ = await invoke_feed(client, KAFKA_FEED, "DELETE", "onmessage")
    assert status == 200


async def test_a_forged_fire_header_is_refused(stack: Settings, client: Client) -> None:
    await with_rule(client, "t", "echo", KAFKA_FEED)
    forged = FeedFire(new_activation_id(), new_activation_id(), KAFKA_FEED)
    async with aiohttp.ClientSession() as session:
        async with session.post(
            client.url("triggers/t"),
            json={},
            headers={"Authorization": client.auth, HEADER: forged.header("guess", "x/t")},
        ) as resp:
            assert resp.status == 403


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"brokers": ["127.0.0.1:1"], "topic": "t"}, "None of the brokers ['127.0.0.1:1']"),
        ({"brokers": ["127.0.0.1:1"]}, "You must supply a 'topic' parameter."),
        ({"topic": "t"}, "You must supply a 'brokers' parameter."),
        ({"brokers": 5, "topic": "t"}, "You must supply a 'brokers' parameter as an array of"),
        # Addresses no Kafka client can read: a clear refusal naming the parameter.
        ({"brokers": "garbage::::", "topic": "t"}, "The 'brokers' parameter has 'garbage::::'"),
        (
            {"brokers": ["localhost:notaport"], "topic": "t"},
            "The 'brokers' parameter has 'localhost:notaport'",
        ),
    ],
)
async def test_bad_parameters_answer_openwhisks_error_and_register_nothing(
    stack: Settings, client: Client, params: dict, message: str
) -> None:
    await with_rule(client, "k", "echo", KAFKA_FEED)
    status, result = await invoke_feed(client, KAFKA_FEED, "CREATE", "k", **params)
    assert status == 502 and result["error"].startswith(message), result
    assert await registration_state(stack, client.namespace, "k") is None


async def test_a_broker_address_no_client_reads_is_a_400_from_the_feeds_api(
    stack: Settings, client: Client
) -> None:
    await with_rule(client, "kg", "echo", KAFKA_FEED)
    api = client.url("").split("/namespaces/")[0]
    for brokers in ("garbage::::", "localhost:notaport"):
        body = {
            "feed": KAFKA_FEED,
            "lifecycleEvent": "CREATE",
            "triggerName": "/_/kg",
            "topic": "t",
            "brokers": brokers,
        }
        async with client.session.post(
            f"{api}/feeds", json=body, headers={"Authorization": client.auth}
        ) as resp:
            assert resp.status == 400, await resp.text()
            answer = await resp.json()
        assert answer["error"].startswith(f"The 'brokers' parameter has '{brokers}'")
    assert await registration_state(stack, client.namespace, "kg") is None


async def test_create_again_replaces_the_feed_and_reads_from_then(
    stack: Settings, client: Client, topic: str
) -> None:
    """A CREATE over the trigger's registration replaces it (OpenWhisk's recordTrigger on
    409): a new uuid and consumer group, the new flags, each message delivered once."""
    await with_rule(client, "onmessage", "echo", KAFKA_FEED)
    brokers = [stack.kafka_bootstrap]
    status, first = await invoke_feed(
        client, KAFKA_FEED, "CREATE", "onmessage", brokers=brokers, topic=topic
    )
    assert status == 200, first
    running = f"feeds: running /{client.namespace}/onmessage"
    await eventually(lambda: running in LOG.read_text(), DEADLINE_S, "the first feed to run", 0.5)
    status, second = await invoke_feed(
        client, KAFKA_FEED, "CREATE", "onmessage", brokers=brokers, topic=topic, isJSONData=True
    )
    assert status == 200 and len(second["uuid"]) == 32 and second["uuid"] != first["uuid"]
    replaced = f"feeds: /{client.namespace}/onmessage was replaced"
    await eventually(
        lambda: replaced in LOG.read_text(), DEADLINE_S, "the first feed's runner to stop", 0.5
    )
    status, read = await invoke_feed(client, KAFKA_FEED, "READ", "onmessage")
    assert status == 200 and read["config"]["isJSONData"] is True
    assert read["status"]["active"] is True
    sent = await produce(stack, topic, 0, 4)
    got = await until_delivered(stack, client, 4)
    counts = positions(got)
    assert set(counts) == {(m.partition, m.offset) for m in sent}
    assert all(n == 1 for n in counts.values()), counts
    assert all(isinstance(m["value"], dict) for m in got)  # the second CREATE's isJSONData
    status, _ = await invoke_feed(client, KAFKA_FEED, "DELETE", "onmessage")
    assert status == 200


async def test_a_kafka_registration_is_unknown_to_the_alarms_feed_actions(
    stack: Settings, client: Client, topic: str
) -> None:
    """READ through an alarms action was a 500 (KeyError); DELETE through one deleted
    the Kafka feed. Now both answer OpenWhisk's "could not find trigger" and touch nothing."""
    await create_feed(stack, client, topic, isJSONData=True)
    unknown = {"error": f"could not find trigger /{client.namespace}/onmessage in the database"}
    for action in (ALARM, INTERVAL):
        for event, params in (
            ("READ", {}),
            ("UPDATE", {"cron": "* * * * *"}),
            ("PAUSE", {}),
            ("DELETE", {}),
        ):
            status, result = await invoke_feed(client, action, event, "onmessage", **params)
            assert (status, result) == (502, unknown), (action, event)
    status, read = await invoke_feed(client, KAFKA_FEED, "READ", "onmessage")
    assert status == 200 and read["status"]["active"] is True
    assert read["config"]["isJSONData"] is True
    status, _ = await invoke_feed(client, KAFKA_FEED, "DELETE", "onmessage")
    assert status == 200


async def test_stored_brokers_no_client_reads_end_the_feed_with_a_reason(
    stack: Settings, client: Client
) -> None:
    """A registration stored before CREATE refused such brokers ends once, with the reason
    READ shows, instead of failing and starting again for ever."""
    await with_rule(client, "garbled", "echo", KAFKA_FEED)
    config = {
        "kind": "kafka",
        "topic": "t",
        "brokers": ["garbage::::"],
        "isJSONData": False,
        "isBinaryValue": False,
        "isBinaryKey": False,
        "start_offsets": {},
    }
    doc = reg.new_registration(
        KAFKA_FEED, "kafka", client.namespace, "garbled", client.key, config, None, now_ms()
    )
    couch = Couch(stack)
    try:
        await FeedStore(couch, stack).put_registration(doc)
    finally:
        await couch.close()

    async def ended() -> dict | None:
        code, answer = await invoke_feed(client, KAFKA_FEED, "READ", "garbled")
        assert code == 200, answer
        return answer if not answer["status"]["active"] else None

    read = await eventually(ended, DEADLINE_S, "the feed to end", 0.5)
    reason = read["status"]["reason"]
    assert reason["kind"] == "AUTO"
    assert reason["message"].startswith(
        "Automatically disabled after receiving error on trigger creation: "
        "The 'brokers' parameter has 'garbage::::'"
    )
    assert f"/{client.namespace}/garbled failed; starting it again" not in LOG.read_text()
    status, _ = await invoke_feed(client, KAFKA_FEED, "DELETE", "garbled")
    assert status == 200
