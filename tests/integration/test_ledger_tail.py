"""Live event streams (SSE): delivery, the seam between history and live, resumption, tenancy,
heartbeats, slow readers, and ``lwsk activation tail|poll``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import time
from collections import Counter

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from streams import constants
from streams.events import ACCEPTED, COMPLETED, SCHEDULED, STARTED, ActivationCompleted
from streams.history import read_activation
from streams.ids import new_activation_id, now_ms
from streams.positions import decode_cursor
from streams.settings import Settings
from tests.support import events
from tests.support.client import Client, new_client
from tests.support.ledger import EventStream, Received, append, event_stream, lwsk, stack_env
from tests.support.waits import eventually

pytestmark = pytest.mark.integration

ECHO = 'def main(args):\n    print("got", args)\n    return {"echo": args}\n'
# An activation the API placed names its invoker in ``accepted`` and has no
# ``scheduled``; one the controller placed (no room in the API's share) has.
PLACED_BY_API = [ACCEPTED, STARTED, COMPLETED]
PLACED_BY_CONTROLLER = [ACCEPTED, SCHEDULED, STARTED, COMPLETED]


def states_of(got: list[Received]) -> list[str]:
    """The states one activation's delivered events should be, judged by its ``accepted``."""
    assert got and got[0].view["type"] == ACCEPTED, [r.view["type"] for r in got]
    placed = got[0].view["fields"].get("invoker") is not None
    return PLACED_BY_API if placed else PLACED_BY_CONTROLLER


async def one_activation(stream: EventStream) -> list[Received]:
    """The next events up to and including the first completion."""
    return await stream.until(lambda g: bool(completed_ids(g)))


async def logged_counts(stack: Settings, ids: set[str]) -> dict[str, int]:
    """How many events the log holds for each of these activations."""
    return {aid: len(await read_activation(stack, aid)) for aid in ids}


def completed_ids(got: list[Received]) -> set[str]:
    return {r.view["activationId"] for r in got if r.view["type"] == COMPLETED}


def assert_no_gap_no_duplicate(got: list[Received]) -> None:
    """Every partition's offsets strictly increase: nothing twice, nothing out of order."""
    seen: dict[int, int] = {}
    for r in got:
        partition, offset = r.where
        assert offset > seen.get(partition, -1), f"duplicate or reordered at {r.where}"
        seen[partition] = offset


async def logged_places(stack: Settings, ids: set[str]) -> set[tuple[int, int]]:
    """Where the log holds every event of these activations."""
    places: set[tuple[int, int]] = set()
    for aid in ids:
        places |= {(e.partition, e.offset) for e in await read_activation(stack, aid)}
    return places


async def test_a_tail_subscribed_before_an_invocation_receives_its_events(
    client: Client, stack: Settings
) -> None:
    await client.put_action("echo", ECHO)
    await client.invoke("echo", {"warm": True})  # so the measured run is a warm one
    async with event_stream(client, {"heartbeat": "5"}) as stream:
        await stream.subscribed()
        # Read while invoking, so that arrival times are true.
        got, (status, body) = await asyncio.gather(
            one_activation(stream), client.invoke("echo", {"n": 1})
        )
        assert status == 200 and isinstance(body, dict)
    assert [r.view["type"] for r in got] == states_of(got)
    assert {r.view["activationId"] for r in got} == {body["activationId"]}
    assert got[-1].view["fields"]["response"]["result"] == {"echo": {"n": 1}}
    delays = [r.arrived_ms - r.view["logged_ms"] for r in got]
    print(
        "\nMEASURE tail delivery delay (append -> client), ms: "
        + ", ".join(
            f"{r.view['type'].split('.')[1]}={d:.1f}" for r, d in zip(got, delays, strict=True)
        )
    )


async def test_a_tail_since_the_past_delivers_history_then_live_without_gap_or_duplicate(
    client: Client, stack: Settings
) -> None:
    await client.put_action("echo", ECHO)
    before = now_ms() - 1
    history = set()
    for n in range(3):
        status, body = await client.invoke("echo", {"n": n})
        assert status == 200 and isinstance(body, dict)
        history.add(body["activationId"])
    async with event_stream(client, {"since": str(before), "heartbeat": "5"}) as stream:
        await stream.subscribed()
        # Appended after the subscription: these come through the live part.
        live = set()
        for n in range(3, 6):
            status, body = await client.invoke("echo", {"n": n}, blocking=False)
            assert status == 202 and isinstance(body, dict)
            live.add(body["activationId"])
        got = await stream.until(lambda g: completed_ids(g) >= history | live)
    assert_no_gap_no_duplicate(got)
    by_id = Counter(r.view["activationId"] for r in got)
    assert by_id == await logged_counts(stack, history | live)
    # History first: the invocations made before the subscription, then the live ones.
    first = sum(by_id[aid] for aid in history)
    assert completed_ids(got[:first]) == history
    assert {r.where for r in got} == await logged_places(stack, history | live)


async def test_a_stream_resumes_after_its_last_event_id(client: Client, stack: Settings) -> None:
    await client.put_action("echo", ECHO)
    before = now_ms() - 1
    first = set()
    for n in range(2):
        _, body = await client.invoke("echo", {"n": n})
        assert isinstance(body, dict)
        first.add(body["activationId"])
    async with event_stream(client, {"since": str(before)}) as stream:
        await stream.subscribed()
        head = await stream.events(5)
    resume_at = head[-1].id
    assert decode_cursor(resume_at) is not None
    _, body = await client.invoke("echo", {"n": 9})
    assert isinstance(body, dict)
    ids = first | {body["activationId"]}
    async with event_stream(client, last_id=resume_at) as stream:
        await stream.subscribed()
        tail = await stream.until(lambda g: completed_ids(head + g) >= ids)
    got = head + tail
    assert_no_gap_no_duplicate(got)
    assert Counter(r.view["activationId"] for r in got) == await logged_counts(stack, ids)
    assert {r.where for r in got} == await logged_places(stack, ids)


async def test_a_last_event_id_past_the_end_of_the_log_still_follows_new_events(
    client: Client,
) -> None:
    await client.put_action("echo", ECHO)
    forged = ",".join(f"{p}:999999999" for p in range(4))
    async with event_stream(client, last_id=forged) as stream:
        start = decode_cursor(await stream.subscribed()) or {}
        assert all(offset < 999999999 for offset in start.values())
        got, (_, body) = await asyncio.gather(one_activation(stream), client.invoke("echo", {}))
    assert isinstance(body, dict)
    assert [r.view["type"] for r in got] == states_of(got)


async def test_another_subjects_stream_sees_nothing_of_yours(
    client: Client, stack: Settings
) -> None:
    await client.put_action("echo", ECHO)
    stranger = await new_client(stack, client.session)
    async with (
        event_stream(stranger, {"since": "earliest", "heartbeat": "0.5"}) as theirs,
        event_stream(client, {"heartbeat": "5"}) as mine,
    ):
        await theirs.subscribed()
        await mine.subscribed()
        status, body = await client.invoke("echo", {"secret": 1})
        assert status == 200 and isinstance(body, dict)
        got = await one_activation(mine)
        done = got[-1].view
        # Wait until the stranger's stream has passed the completion (its heartbeats carry
        # its cursor); it must have delivered nothing on the way.
        async with asyncio.timeout(30):
            while True:
                message = await theirs.message()
                assert message.data == "", f"a stranger received {message.data[:200]}"
                cursor = decode_cursor(message.id or "") or {}
                if cursor.get(done["partition"], 0) > done["offset"]:
                    break
    # Nor may the stranger ask for it explicitly.
    async with event_stream(
        stranger, {"since": "earliest", "activation": body["activationId"], "heartbeat": "0.5"}
    ) as theirs:
        await theirs.subscribed()
        message = await theirs.message()
        assert message.data == ""
    # Nor open a stream on someone else's namespace.
    async with stranger.session.get(
        stranger.url("events").replace("/_/", f"/{client.namespace}/"),
        headers={"Authorization": stranger.auth},
    ) as resp:
        assert resp.status == 403


async def test_filters_by_action_and_type(client: Client) -> None:
    await client.put_action("echo", ECHO)
    await client.put_action("other", ECHO)
    async with event_stream(client, {"action": "echo", "types": "started,completed"}) as stream:
        await stream.subscribed()
        await client.invoke("other", {})
        _, body = await client.invoke("echo", {})
        assert isinstance(body, dict)
        got = await stream.events(2)
    assert [(r.view["type"], r.view["activationId"]) for r in got] == [
        (STARTED, body["activationId"]),
        (COMPLETED, body["activationId"]),
    ]


async def test_heartbeats_keep_the_stream_alive_and_carry_the_cursor(client: Client) -> None:
    async with event_stream(client, {"heartbeat": "0.5"}) as stream:
        start = await stream.subscribed()
        beats = [await stream.message() for _ in range(2)]
    assert stream.comments[0] == "subscribed"
    assert stream.comments.count("heartbeat") >= 2
    assert all(b.data == "" and decode_cursor(b.id or "") is not None for b in beats)
    assert decode_cursor(start) is not None


async def test_bad_stream_requests_are_400(client: Client) -> None:
    for params in ({"since": "yesterday"}, {"types": "finished"}, {"heartbeat": "0"}):
        status, body = await client.request("GET", "events", params=params)
        assert status == 400 and isinstance(body, dict) and body["error"], params
    async with client.session.get(
        client.url("events"), headers={"Authorization": client.auth, "Last-Event-ID": "garbage"}
    ) as resp:
        assert resp.status == 400


def filler(namespace: str, count: int, log_bytes: int) -> list[ActivationCompleted]:
    """Completed events with bulky logs, well formed, for activations nobody invoked."""
    at = now_ms()
    return [
        events.completed(
            events.accepted(
                activation_id=new_activation_id(at),
                at_ms=at,
                namespace=namespace,
                action=f"{namespace}/filler",
            ),
            source="test-filler",
            result={"i": i},
            size=8,
            logs=["x" * log_bytes],
            start_ms=at,
            end_ms=at,
            annotations=[{"key": "path", "value": f"{namespace}/filler"}],
        )
        for i in range(count)
    ]


async def test_a_stalled_reader_blocks_nobody_and_then_gets_everything_in_order(
    client: Client, stack: Settings
) -> None:
    # ~9 MB of events: more than socket buffers hold and more than the live queue (1000).
    events = filler(client.namespace, 3000, 3000)
    wanted = {e.activation_id for e in events}
    async with (
        event_stream(client, {"heartbeat": "5"}) as slow,
        event_stream(client, {"heartbeat": "5"}) as fast,
    ):
        await slow.subscribed()
        await fast.subscribed()
        began = time.monotonic()
        await append(stack, events)  # type: ignore[arg-type]
        # The platform is not blocked by the stalled reader: another one gets it all...
        fast_got = await fast.until(lambda g: len(g) >= len(events), timeout_s=90)
        fast_s = time.monotonic() - began
        # ...and an invocation completes meanwhile.
        await client.put_action("echo", ECHO)
        status, echo = await client.invoke("echo", {})
        assert status == 200 and isinstance(echo, dict)
        # Now the stalled reader reads: everything, once, in order.
        echoed = len(await read_activation(stack, echo["activationId"]))
        slow_got = await slow.until(lambda g: len(g) >= len(events) + echoed, timeout_s=90)
    assert_no_gap_no_duplicate(slow_got)
    assert_no_gap_no_duplicate(fast_got)
    assert len(slow_got) == len(events) + echoed  # and the echo invocation's events
    assert completed_ids(slow_got) == wanted | {echo["activationId"]}
    assert {r.where for r in fast_got} <= {r.where for r in slow_got}
    print(
        f"\nMEASURE stalled reader: {len(events)} events of ~3 kB; fast reader had them all in "
        f"{fast_s:.1f} s; the stalled one fell back to the log "
        f"{slow.comments.count('falling behind: reading from the log')} time(s)"
    )


async def test_history_arrives_in_time_order_across_partitions(
    client: Client, stack: Settings
) -> None:
    await client.put_action("echo", ECHO)
    before = now_ms() - 1
    # Eight activations at once: their events interleave in time across the partitions.
    answers = await asyncio.gather(*(client.invoke("echo", {"n": n}) for n in range(8)))
    ids = {body["activationId"] for _, body in answers if isinstance(body, dict)}
    assert len(ids) == 8
    places = await logged_places(stack, ids)  # 3 events each placed by the API, 4 otherwise
    assert len({p for p, _ in places}) > 1, "all in one partition: nothing to merge"
    async with event_stream(client, {"since": str(before)}) as stream:
        await stream.subscribed()
        got = await stream.events(len(places))
    assert completed_ids(got) == ids
    # Each partition keeps its log order, whose timestamps (producers' clocks) may step
    # back a little; so time order is that of each partition's latest time so far.
    latest: dict[int, int] = {}
    keys = []
    for r in got:
        partition = r.where[0]
        latest[partition] = max(latest.get(partition, 0), r.view["logged_ms"])
        keys.append(latest[partition])
    assert keys == sorted(keys), [(r.where, r.view["logged_ms"]) for r in got]
    assert_no_gap_no_duplicate(got)


async def test_lwsk_tail_and_poll_follow_the_stream(client: Client, stack: Settings) -> None:
    await client.put_action("echo", ECHO)
    _, body = await client.invoke("echo", {"who": "tail"})
    assert isinstance(body, dict)
    env = stack_env(stack, WSK_AUTH=client.key)
    states = [e.event.type for e in await read_activation(stack, body["activationId"])]
    tail = await lwsk(
        "activation", "tail", "echo", "--since", "10m", "--limit", str(len(states)), env=env
    )
    assert tail.status == 0, tail.err
    lines = tail.out.splitlines()
    assert [line.split()[3] for line in lines] == [t.split(".", 1)[1] for t in states]
    assert states in (PLACED_BY_API, PLACED_BY_CONTROLLER)
    assert all(body["activationId"] in line and "echo" in line for line in lines)
    as_json = await lwsk(
        "--json",
        "activation",
        "tail",
        "--since",
        "10m",
        "--limit",
        "1",
        "--type",
        "completed",
        env=env,
    )
    assert as_json.status == 0 and '"activation.completed"' in as_json.out
    poll = await lwsk("activation", "poll", "--since", "10m", "--limit", "1", env=env)
    assert poll.status == 0, poll.err
    assert poll.out.startswith(f"Activation: 'echo' ({body['activationId']})  success")
    assert "got {'who': 'tail'}" in poll.out and '"who": "tail"' in poll.out


async def test_measure_hub_delivery_against_a_raw_consumer(client: Client, stack: Settings) -> None:
    """Reports delivery delays, the hub's SSE path beside a dedicated consumer (the alternative
    design: one Kafka consumer per subscriber), for the note. Asserts only completeness."""
    await client.put_action("echo", ECHO)
    await client.invoke("echo", {})
    topic = stack.topic(constants.TOPIC_EVENTS)
    began = time.monotonic()
    raw = AIOKafkaConsumer(
        bootstrap_servers=stack.kafka_bootstrap, group_id=None, fetch_max_wait_ms=100
    )
    await raw.start()
    tps = [TopicPartition(topic, p) for p in range(stack.ledger_partitions)]
    raw.assign(tps)
    await raw.seek_to_end(*tps)
    for tp in tps:
        await raw.position(tp)
    consumer_start_ms = (time.monotonic() - began) * 1000
    raw_delays: dict[tuple[int, int], float] = {}
    arrived = asyncio.Event()

    async def consume() -> None:
        while True:
            batches = await raw.getmany(timeout_ms=500)
            now = time.time() * 1000
            for records in batches.values():
                for r in records:
                    raw_delays[(r.partition, r.offset)] = now - r.timestamp
            arrived.set()

    consuming = asyncio.create_task(consume())
    delays: list[float] = []
    places: list[tuple[int, int]] = []
    try:
        async with event_stream(client, {"heartbeat": "5"}) as stream:
            await stream.subscribed()
            for n in range(20):
                got, (_, body) = await asyncio.gather(
                    one_activation(stream), client.invoke("echo", {"n": n})
                )
                assert isinstance(body, dict)
                assert {r.view["activationId"] for r in got} == {body["activationId"]}
                delays += [r.arrived_ms - r.view["logged_ms"] for r in got]
                places += [r.where for r in got]
        async with asyncio.timeout(10):
            while not all(p in raw_delays for p in places):
                arrived.clear()
                await arrived.wait()
    finally:
        consuming.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consuming
        await raw.stop()
    direct = sorted(raw_delays[p] for p in places)
    delays.sort()

    def summary(values: list[float]) -> str:
        return (
            f"p50 {statistics.median(values):.1f} ms, p90 {values[int(len(values) * 0.9)]:.1f} ms,"
            f" max {values[-1]:.1f} ms"
        )

    print(
        f"\nMEASURE append -> delivery over {len(delays)} events:"
        f" SSE via the hub {summary(delays)}; dedicated consumer {summary(direct)};"
        f" starting a dedicated consumer took {consumer_start_ms:.0f} ms"
    )


async def test_the_action_filter_names_package_actions_and_bindings_as_the_list_does(
    client: Client, stack: Settings
) -> None:
    before = now_ms() - 1
    await client.request("PUT", "packages/pkg", json={})
    status, _ = await client.put_action("pkg/echo", ECHO)
    assert status == 200
    binding = {"binding": {"namespace": client.namespace, "name": "pkg"}}
    status, _ = await client.request("PUT", "packages/bind", json=binding)
    assert status == 200
    ids = {}
    for via in ("pkg/echo", "bind/echo"):
        status, body = await client.invoke(via, {"via": via})
        assert status == 200 and isinstance(body, dict), body
        ids[via] = body["activationId"]
    for wanted in ("pkg/echo", "bind/echo"):
        expected = ids[wanted]

        async def listed(name: str = wanted) -> list:
            _, found = await client.request("GET", "activations", params={"name": name})
            return found if isinstance(found, list) and found else []

        assert [a["activationId"] for a in await eventually(listed, what=wanted)] == [expected]
        # The same name, and the full path, select every event of it and none of the other's
        # (the binding's invocation came second: by its completion both were read).
        for name in (wanted, f"/{client.namespace}/{wanted}"):
            async with event_stream(client, {"action": name, "since": str(before)}) as stream:
                await stream.subscribed()
                got = await one_activation(stream)
            assert {r.view["activationId"] for r in got} == {expected}, name
            assert [r.view["type"] for r in got] == states_of(got), name
    # A bare name is an action outside packages, as the list's name filter says.
    await client.put_action("echo", ECHO)
    async with event_stream(client, {"action": "echo", "since": str(before)}) as stream:
        await stream.subscribed()
        _, plain = await client.invoke("echo", {})
        got = await one_activation(stream)
    assert isinstance(plain, dict)
    assert {r.view["activationId"] for r in got} == {plain["activationId"]}
    # lwsk activation tail names it the same way.
    states = [e.event.type for e in await read_activation(stack, ids["pkg/echo"])]
    env = stack_env(stack, WSK_AUTH=client.key)
    tail = await lwsk(
        "--json",
        "activation",
        "tail",
        "pkg/echo",
        "--since",
        str(before),
        "--limit",
        str(len(states)),
        env=env,
    )
    assert tail.status == 0, tail.err
    views = [json.loads(line) for line in tail.out.splitlines() if line.strip()]
    assert [(v["type"], v["activationId"]) for v in views] == [(t, ids["pkg/echo"]) for t in states]


async def test_a_resume_with_an_action_filter_keeps_what_follows_an_earlier_acceptance(
    client: Client, stack: Settings
) -> None:
    await client.put_action("echo", ECHO)
    async with event_stream(client, {"action": "echo", "types": "accepted"}) as stream:
        await stream.subscribed()
        accepted, (_, body) = await asyncio.gather(stream.events(1), client.invoke("echo", {}))
    assert isinstance(body, dict)
    activation_id = body["activationId"]
    assert accepted[0].view["activationId"] == activation_id
    logged = await read_activation(stack, activation_id)
    types = [e.event.type for e in logged]
    # Resuming just after the acceptance: the rest of that activation, nothing lost.
    async with event_stream(client, {"action": "echo"}, last_id=accepted[0].id) as stream:
        await stream.subscribed()
        rest = await one_activation(stream)
    assert [r.view["type"] for r in rest] == types[1:]
    assert {r.view["activationId"] for r in rest} == {activation_id}
    # From a moment after the acceptance was logged (when the log's times tell one apart).
    after = logged[0].timestamp_ms + 1
    if logged[-2].timestamp_ms >= after:
        async with event_stream(client, {"action": "echo", "since": str(after)}) as stream:
            await stream.subscribed()
            rest = await one_activation(stream)
        assert [r.view["type"] for r in rest][-2:] == [STARTED, COMPLETED]
