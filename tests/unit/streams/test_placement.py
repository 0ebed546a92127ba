"""The sharding walk: home invoker, co-prime steps, full invokers."""

from __future__ import annotations

from streams.placement import InvokerCapacity, Placement, action_hash, coprimes, place


def test_coprimes() -> None:
    assert coprimes(1) == (1,)
    assert coprimes(3) == (1, 2)
    assert coprimes(6) == (1, 5)


def test_home_invoker_is_stable_and_preferred() -> None:
    invokers = [InvokerCapacity(i, 1024) for i in range(3)]
    first = place(invokers, "guest", "hello", 256)
    assert first is not None and first.decision == "home"
    assert first.invoker == action_hash("guest", "hello") % 3
    assert place(list(reversed(invokers)), "guest", "hello", 256) == first


def test_full_home_steps_to_the_next_with_room() -> None:
    h = action_hash("guest", "hello")
    home = h % 3
    step = coprimes(3)[h % 2]
    invokers = [InvokerCapacity(i, 0 if i == home else 512) for i in range(3)]
    placed = place(invokers, "guest", "hello", 256)
    assert placed == Placement((home + step) % 3, "step")


def test_every_invoker_full_gives_none() -> None:
    assert place([InvokerCapacity(i, 128) for i in range(4)], "ns", "a", 256) is None
    assert place([], "ns", "a", 128) is None


def test_walk_visits_every_invoker_once() -> None:
    for n in range(1, 8):
        for name in ("a", "b", "c", "d"):
            only = n - 1  # only the last invoker has room
            invokers = [InvokerCapacity(i, 256 if i == only else 0) for i in range(n)]
            placed = place(invokers, "ns", name, 256)
            assert placed is not None and placed.invoker == only


def test_shares_follow_the_partitions_owned() -> None:
    from streams.placement import share_of

    assert share_of(4, 4) == 1.0 and share_of(2, 4) == 0.5 and share_of(0, 4) == 0.0


def test_capacity_is_the_share_less_the_reservations_with_one_slot_always() -> None:
    from streams.placement import capacities

    caps = capacities([(0, 1024), (1, 1024)], {0: 256}, 0.5)
    assert caps == [InvokerCapacity(0, 256), InvokerCapacity(1, 512)]
    # A quarter of 256 MB is less than one activation: an idle share still admits one.
    assert capacities([(0, 256)], {}, 0.25) == [InvokerCapacity(0, 256)]
    assert capacities([(0, 256)], {0: 128}, 0.25) == [InvokerCapacity(0, -64)]
