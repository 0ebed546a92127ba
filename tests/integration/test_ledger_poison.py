"""Records no reader can decode, appended to the ledger directly: every reader goes on.

A corrupt write or an older schema must never stop a reader or cost another
activation its record. Each test appends such records beside ordinary work and
checks every reader: the controller (it ends the activation), the projection
writer (the others' records are all there), the API's tail (blocking invokes
are answered), the event history, a live event stream, the invoker (a corrupt
placement), and the rebuild (``admin rebuild --verify`` is clean).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from store.couch import Couch
from streams import constants
from streams.ids import new_activation_id
from streams.settings import Settings
from tests.support.api import admin_key, call
from tests.support.client import Client, new_client
from tests.support.ledger import event_stream, lwsk, stack_env, writer_caught_up
from tests.support.waits import eventually

pytestmark = pytest.mark.integration

ECHO = "def main(args):\n    return args\n"
UNREADABLE = "whisk internal error"
COMPLETED = "activation.completed"


def deep_accepted(activation_id: str, namespace: str, depth: int, memory_mb: int = 128) -> bytes:
    """An ``accepted`` event that is JSON but nested past what the readers decode
    (``depth`` 1: one that decodes; ``memory_mb`` its limit)."""
    value = json.loads("[" * depth + "]" * depth)
    event = {
        "v": 1,
        "activation_id": activation_id,
        "seq": 1,
        "at_ms": int(time.time() * 1000),
        "namespace": namespace,
        "source": "poison",
        "type": "activation.accepted",
        "action": f"{namespace}/echo",
        "action_name": "echo",
        "action_version": "0.0.1",
        "action_rev": "1-x",
        "kind": "python:3.11",
        "params": {"a": value},
        "limits": {"timeout_ms": 1000, "memory_mb": memory_mb, "logs_mb": 1, "concurrency": 1},
        "subject": namespace,
        "blocking": False,
        "deadline_ms": int(time.time() * 1000) + 60_000,
        "reply_to": "api0",
    }
    return json.dumps(event).encode()


def headers(kind: str, namespace: str) -> list[tuple[str, bytes]]:
    return [("type", kind.encode()), ("namespace", namespace.encode())]


async def produce(
    settings: Settings, topic: str, records: list[tuple[bytes | None, bytes, Any]]
) -> list[int]:
    """Write ``(key, value, headers)`` records to ``topic``; their offsets."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, max_request_size=4 * 1024 * 1024
    )
    await producer.start()
    try:
        offsets = []
        for key, value, hdrs in records:
            meta = await producer.send_and_wait(topic, value, key=key, headers=hdrs)
            offsets.append(meta.offset)
        return offsets
    finally:
        await producer.stop()


async def dead_letters(settings: Settings) -> list[dict[str, Any]]:
    """Every dead letter of the stack so far."""
    tp = TopicPartition(settings.topic(constants.TOPIC_DEAD_LETTERS), 0)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None)
    await consumer.start()
    try:
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        await consumer.seek_to_beginning(tp)
        out: list[dict[str, Any]] = []
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=500)
            out.extend(json.loads(r.value) for r in batch.get(tp, []))
        return out
    finally:
        await consumer.stop()


async def whisk_error_record(client: Client, activation_id: str) -> dict[str, Any]:
    record = await client.activation(activation_id, deadline_s=60)
    assert record["response"]["status"] == UNREADABLE, record
    assert "cannot be read" in record["response"]["result"]["error"]
    return record


async def test_every_reader_goes_on_past_records_that_do_not_decode(
    client: Client, stack: Settings
) -> None:
    ledger = stack.topic(constants.TOPIC_EVENTS)
    await client.put_action("echo", ECHO)
    async with event_stream(client, {"since": "now"}) as stream:
        await stream.subscribed()
        before = []
        for n in range(3):
            status, answer = await client.invoke("echo", {"n": n}, blocking=False)
            assert status == 202 and isinstance(answer, dict)
            before.append(answer["activationId"])
        deep, garbled = new_activation_id(), new_activation_id()
        poison = [
            # An accepted event nested past the decoders' limit (the issue's input).
            (
                deep.encode(),
                deep_accepted(deep, client.namespace, 230),
                headers("activation.accepted", client.namespace),
            ),
            # Bytes that are not JSON at all, of a completion.
            (
                garbled.encode(),
                b"\xff\xfe{not json",
                headers("activation.completed", client.namespace),
            ),
            # Neither key nor headers: nobody can tell whose it is.
            (None, b'{"type": "activation.accepted"}', None),
            # A key that is not an activation id.
            (b"not-an-id", b"[]", headers("activation.started", client.namespace)),
        ]
        offsets = await produce(stack, ledger, poison)
        after = []
        for n in range(3):
            status, answer = await client.invoke("echo", {"after": n}, blocking=True)
            assert status == 200 and isinstance(answer, dict), answer  # the API's tail answered
            assert answer["response"]["result"] == {"after": n}
            after.append(answer["activationId"])

        # The projection writer lost nobody's record.
        for aid in before + after:
            record = await client.activation(aid, deadline_s=60)
            assert record["response"]["success"] is True
        # The controller ended each activation it could tell, with a readable whisk error.
        for aid in (deep, garbled):
            await whisk_error_record(client, aid)
            status, history = await client.request("GET", f"activations/{aid}/events")
            assert status == 200 and isinstance(history, list)
            assert [e["type"] for e in history] == ["activation.completed"]

        # The live stream went on: it delivers the work after the poison.
        def completed(got: list[Any]) -> set[str]:
            return {r.view["activationId"] for r in got if r.view["type"] == COMPLETED}

        await stream.until(
            lambda got: completed(got) >= {*before, *after, deep, garbled}, timeout_s=60
        )

    # Every record is kept as a dead letter, found by where it sits.
    async def lettered() -> list[dict[str, Any]] | None:
        letters = [
            d for d in await dead_letters(stack) if d["topic"] == ledger and d["offset"] in offsets
        ]
        return letters if len(letters) >= len(poison) else None

    letters = await eventually(lettered, 60, "a dead letter for every unreadable record")
    by_key = {d["key"]: d for d in letters}
    assert by_key[deep]["ended"] is True and by_key[deep]["activation_id"] == deep
    assert "recursion" in by_key[deep]["error"].lower() or "depth" in by_key[deep]["error"]
    assert by_key[garbled]["ended"] is True
    assert by_key[None]["ended"] is False and by_key[None]["activation_id"] is None
    assert by_key["not-an-id"]["ended"] is False


async def test_a_placement_that_does_not_decode_ends_its_activation_and_the_invoker_goes_on(
    client: Client, stack: Settings
) -> None:
    await client.put_action("echo", ECHO)
    poisoned = new_activation_id()
    placing = [*headers("activation.scheduled", client.namespace), ("invoker", b"0")]
    await produce(
        stack,
        stack.topic(constants.TOPIC_EVENTS),
        [
            (poisoned.encode(), b'{"accepted": {"truncated', placing),
            (None, b"\x00\x01", [("invoker", b"0")]),
        ],
    )
    await whisk_error_record(client, poisoned)
    status, answer = await client.invoke("echo", {"still": "here"}, result=True)
    assert (status, answer) == (200, {"still": "here"})


SLOW = "import time\ndef main(args):\n    time.sleep(3)\n    return {'slept': True}\n"


async def test_a_corrupt_record_of_a_running_activation_ends_it_in_its_own_namespace(
    client: Client, stack: Settings
) -> None:
    """A record keyed by a running activation that does not decode, its namespace header
    naming another tenant: the activation ends in its own namespace's records (the
    controller knows it from its accepted), never in the other's."""
    other = await new_client(stack, client.session)
    await client.put_action("slow", SLOW)
    status, answer = await client.invoke("slow", blocking=False)
    assert status == 202 and isinstance(answer, dict), answer
    running = answer["activationId"]
    await produce(
        stack,
        stack.topic(constants.TOPIC_EVENTS),
        [(running.encode(), b"garbage", headers("activation.started", other.namespace))],
    )
    record = await client.activation(running, deadline_s=60)
    assert record["namespace"] == client.namespace
    status, _ = await other.request("GET", f"activations/{running}")
    assert status == 404
    status, listed = await other.request("GET", "activations", params={"limit": "200"})
    assert status == 200 and running not in [a["activationId"] for a in listed]


async def next_heartbeat(
    settings: Settings, invoker: int, after_ms: int, before_ms: int | None = None
) -> dict[str, Any]:
    """The first heartbeat of ``invoker`` stamped after ``after_ms`` (and before
    ``before_ms``, when given)."""
    tp = TopicPartition(settings.topic(constants.TOPIC_HEALTH), 0)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None)
    await consumer.start()
    try:
        consumer.assign([tp])
        found = (await consumer.offsets_for_times({tp: after_ms})).get(tp)
        if found is None:
            await consumer.seek_to_end(tp)
        else:
            consumer.seek(tp, found.offset)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            for record in batch.get(tp, []):
                beat = json.loads(record.value)
                at = beat.get("at_ms", 0)
                if beat.get("invoker") == invoker and at > after_ms:
                    if before_ms is None or at < before_ms:
                        return dict(beat)
        raise AssertionError(f"no heartbeat of invoker {invoker} after {after_ms} within 60 s")
    finally:
        await consumer.stop()


async def test_placements_with_limits_no_api_wrote_end_as_whisk_errors_and_cost_no_health(
    client: Client, stack: Settings
) -> None:
    """An ``accepted`` that decodes but asks for -4096 MB: a whisk error naming the limit,
    before any container is asked for; Docker's refusal is not the invoker's fault, so
    five of them leave it healthy for every tenant."""
    await client.put_action("echo", ECHO)
    ids = [new_activation_id() for _ in range(5)]
    placed = [*headers("activation.accepted", client.namespace), ("invoker", b"0")]
    await produce(
        stack,
        stack.topic(constants.TOPIC_EVENTS),
        [(i.encode(), deep_accepted(i, client.namespace, 1, memory_mb=-4096), placed) for i in ids],
    )
    for activation_id in ids:
        record = await client.activation(activation_id, deadline_s=60)
        assert record["response"]["status"] == UNREADABLE, record
        assert "memory_mb of -4096" in record["response"]["result"]["error"], record
    done_ms = max(int(r["end"]) for r in [await client.activation(i) for i in ids])
    beat = await next_heartbeat(stack, 0, done_ms)
    assert beat["state"] == "healthy", beat
    status, answer = await client.invoke("echo", {"still": "here"}, result=True)
    assert (status, answer) == (200, {"still": "here"})


async def test_a_heartbeat_stamped_far_ahead_hides_no_real_one(
    client: Client, stack: Settings
) -> None:
    """A copy of invoker 0's heartbeat (its own run) stamped 35 s ahead and saying 777
    queued: not believed, so the real heartbeats after it stay current and the invoker
    serves everyone (it had been dropped as offline until the forged stamp passed)."""
    await client.put_action("echo", ECHO)
    real = await next_heartbeat(stack, 0, int(time.time() * 1000))
    forged_at = int(time.time() * 1000)
    forged = {**real, "at_ms": forged_at + 35_000, "queued": 777}
    await produce(
        stack, stack.topic(constants.TOPIC_HEALTH), [(None, json.dumps(forged).encode(), [])]
    )
    # A real one after the forged one (not the forged one itself).
    await next_heartbeat(stack, 0, forged_at + 1, before_ms=forged_at + 35_000)
    await next_heartbeat(stack, 0, int(time.time() * 1000))  # and one the API has heard
    key = await admin_key(stack)
    status, rows, _ = await call(client.session, "GET", "admin/invokers", auth=key)
    assert status == 200, rows
    [row] = [r for r in rows if r["id"] == 0]
    assert row["queued"] != 777 and row["state"] == "healthy", row
    status, answer = await client.invoke("echo", {"still": "here"}, result=True)
    assert (status, answer) == (200, {"still": "here"})


# The rebuild reads the whole test stack's ledger, poison included.
@pytest.mark.timeout(900)
async def test_the_rebuild_skips_what_does_not_decode_and_matches_the_live_projection(
    client: Client, stack: Settings
) -> None:
    aid = new_activation_id()
    await produce(
        stack,
        stack.topic(constants.TOPIC_EVENTS),
        [(aid.encode(), b"{{{", headers("activation.accepted", client.namespace))],
    )
    await whisk_error_record(client, aid)
    await writer_caught_up(stack)
    scratch = f"{stack.prefix}_poison_{os.urandom(3).hex()}"
    env = stack_env(stack)
    try:
        ran = await lwsk("admin", "rebuild", "--into", scratch, "--verify", env=env, timeout_s=600)
        assert ran.status == 0, ran.out + ran.err
        assert "is identical to" in ran.out
    finally:
        couch = Couch(stack)
        try:
            await couch.drop(scratch)
        finally:
            await couch.close()
