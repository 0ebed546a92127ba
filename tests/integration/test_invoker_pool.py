"""The pool under a small memory budget: eviction, the FIFO queue, pause and removal.

Each test runs an invoker of its own (id 9, see invoker_support.own_invoker)
with the settings it needs, on the real Docker, Kafka and CouchDB.
"""

from __future__ import annotations

import asyncio

import pytest

from streams import constants
from streams.messages import NO_CAPACITY
from streams.settings import Settings
from tests.support.client import Client
from tests.support.invoker import container_state, gone, own_invoker
from tests.support.waits import eventually

pytestmark = pytest.mark.integration

ECHO_PY = "def main(args):\n    return {'echo': args}\n"
HOLD_PY = (
    "import time\n"
    "def main(args):\n"
    "    time.sleep(args.get('hold', 0))\n"
    "    return {'n': args.get('n')}\n"
)


async def test_idle_containers_are_evicted_least_recently_used_first(
    client: Client, stack: Settings
) -> None:
    for name in ("a", "b", "c"):
        await client.put_action(name, ECHO_PY)
    async with own_invoker(stack, invoker_user_memory_mb=512) as own:
        a = await own.run(own.dispatch(await own.action(client, "a")))
        b = await own.run(own.dispatch(await own.action(client, "b")))
        started_a, started_b = own.started(a.activation_id), own.started(b.activation_id)
        assert started_a and started_b
        assert (started_a.start, started_b.start) == ("cold", "cold")
        # Use a again: b is now the least recently used.
        again = await own.run(own.dispatch(await own.action(client, "a")))
        assert own.start_of(again.activation_id) == "warm"

        c = await own.run(own.dispatch(await own.action(client, "c")))
        assert c.response.status_code == 0
        started_c = own.started(c.activation_id)
        assert started_c is not None and started_c.start == "cold"
        await eventually(lambda: gone(started_b.container), 20.0, "b's container to be removed")
        assert await container_state(started_a.container) is not None
        assert set(own.pool.entries) == {started_a.container, started_c.container}
        # And the budget holds: 512 MB is two containers of 256 MB.
        assert sum(e.memory_mb for e in own.pool.entries.values()) == 512


async def test_activations_queue_in_arrival_order_and_the_queue_is_bounded(
    client: Client, stack: Settings
) -> None:
    await client.put_action("hold", HOLD_PY)
    async with own_invoker(stack, invoker_user_memory_mb=256, invoker_queue_max=2) as own:
        doc = await own.action(client, "hold")
        pool = own.pool
        first = own.dispatch(doc, {"hold": 1.5, "n": 1})
        tasks = [asyncio.create_task(own.run(first))]
        await eventually(
            lambda: own.started(first.accepted.activation_id), 20.0, "the first to start"
        )
        queued = [own.dispatch(doc, {"n": n}) for n in (2, 3)]
        for position, dispatch in enumerate(queued, start=1):
            tasks.append(asyncio.create_task(own.run(dispatch)))
            await eventually(lambda p=position: len(pool.queue) == p, 20.0, f"{position} queued")
        # The queue is full: the next one is turned away at once, as a whisk error.
        rejected = await own.run(own.dispatch(doc, {"n": 4}))
        assert rejected.response.status_code == constants.STATUS_WHISK_ERROR
        assert rejected.response.result == {"error": NO_CAPACITY}
        assert own.started(rejected.activation_id) is None

        done = await asyncio.gather(*tasks)
        assert [d.response.result for d in done] == [{"n": 1}, {"n": 2}, {"n": 3}]
        order = [
            e.activation_id
            for e in own.events
            if e.type == "activation.started"
            and e.activation_id in {d.accepted.activation_id for d in [first, *queued]}
        ]
        assert order == [d.accepted.activation_id for d in [first, *queued]]
        # One container at a time, reused in turn: never over the budget.
        containers = {own.started(d.accepted.activation_id).container for d in queued}  # type: ignore[union-attr]
        assert len(containers) == 1


async def test_a_queued_activation_gives_up_when_it_could_no_longer_finish_in_time(
    client: Client, stack: Settings
) -> None:
    await client.put_action("hold", HOLD_PY)
    async with own_invoker(stack, invoker_user_memory_mb=256) as own:
        doc = await own.action(client, "hold")
        first = own.dispatch(doc, {"hold": 3, "n": 1})
        task = asyncio.create_task(own.run(first))
        await eventually(
            lambda: own.started(first.accepted.activation_id), 20.0, "the first to start"
        )
        # Its deadline leaves it 300 ms of waiting: it ends without running.
        late = await own.run(own.dispatch(doc, {"n": 2}, grace_ms=300))
        assert late.response.status_code == constants.STATUS_WHISK_ERROR
        assert own.started(late.activation_id) is None
        assert own.pool.queue == type(own.pool.queue)()
        assert (await task).response.result == {"n": 1}


async def test_an_action_larger_than_the_budget_fails_at_once(
    client: Client, stack: Settings
) -> None:
    await client.put_action("huge", ECHO_PY, limits={"memory": 512})
    async with own_invoker(stack, invoker_user_memory_mb=256) as own:
        done = await own.run(own.dispatch(await own.action(client, "huge")))
        assert done.response.status_code == constants.STATUS_WHISK_ERROR
        assert "512 MB" in done.response.result["error"]  # type: ignore[index]


async def test_idle_containers_are_paused_unpaused_on_reuse_and_removed_later(
    client: Client, stack: Settings
) -> None:
    await client.put_action("idle", ECHO_PY)
    async with own_invoker(
        # Removal late enough that a slow pause on a loaded machine still leaves
        # the container there to be reused.
        stack,
        reap=True,
        container_idle_pause_s=0.5,
        container_idle_remove_s=10.0,
    ) as own:
        doc = await own.action(client, "idle")
        done = await own.run(own.dispatch(doc, {"n": 1}))
        started = own.started(done.activation_id)
        assert started is not None and started.start == "cold"
        name = started.container

        async def paused() -> bool:
            # The pool marks it once Docker has answered the pause.
            state = await container_state(name)
            return bool(state and state["Paused"]) and own.pool.entries[name].paused

        await eventually(paused, 20.0, "the idle container to be paused")

        # Reuse unpauses it: still warm, no /init.
        again = await own.run(own.dispatch(doc, {"n": 2}))
        assert again.response.result == {"echo": {"n": 2}}
        started = own.started(again.activation_id)
        assert started is not None and started.start == "warm"
        assert started.container == name
        assert "initTime" not in {a["key"] for a in again.annotations}
        state = await container_state(name)
        assert state is not None and state["Running"]

        # Idle past the timeout: removed (paused or not), and the pool forgets it.
        await eventually(lambda: gone(name), 30, "the idle container to be removed")
        assert name not in own.pool.entries
        third = await own.run(own.dispatch(doc, {"n": 3}))
        assert own.start_of(third.activation_id) == "cold"


async def test_a_paused_container_gives_way_to_a_missing_stem_cell(
    client: Client, stack: Settings
) -> None:
    await client.put_action("a", ECHO_PY)
    # 768 MB is exactly the manifest's three stem cells.
    async with own_invoker(
        stack,
        reap=True,
        stem_cells=True,
        invoker_user_memory_mb=768,
        container_idle_pause_s=0.5,
    ) as own:
        pool = own.pool

        def free_python_cells() -> int:
            return sum(
                1
                for e in pool.entries.values()
                if e.action is None and e.kind == "python:3.11" and e.container is not None
            )

        assert free_python_cells() == 2
        done = await own.run(own.dispatch(await own.action(client, "a")))
        started = own.started(done.activation_id)
        assert started is not None and started.start == "prewarm"
        # Budget full (a + two stem cells): no refill while a is merely idle...
        assert free_python_cells() == 1
        # ...but once a is paused, it makes room for the missing stem cell.
        await eventually(lambda: gone(started.container), 20.0, "the paused container to go")
        await eventually(lambda: free_python_cells() == 2, 20.0, "the stem cell to be refilled")
