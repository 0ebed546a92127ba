"""The live fan-out: who sees which event, the seam snapshot, bounded queues."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from api.ledgerview import action_spec
from api.tail import Filter, Hub, Selector, Subscription, event_types
from streams.events import ACCEPTED, COMPLETED, LedgerEvent, encode
from tests.support.events import accepted, completed, four, scheduled, started

A = "0" * 12 + "a" * 20
B = "0" * 12 + "b" * 20


@dataclass
class Rec:
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


def recs(events: list[LedgerEvent], partition: int = 0, first: int = 0) -> list[Rec]:
    return [
        Rec(partition, first + i, e.at_ms, e.activation_id.encode(), encode(e))
        for i, e in enumerate(events)
    ]


def test_event_types_take_short_and_full_names() -> None:
    assert event_types(["accepted", "activation.completed"]) == {ACCEPTED, COMPLETED}
    assert event_types([]) == frozenset()
    assert event_types(["finished"]) is None


def test_a_subject_sees_only_its_own_namespace() -> None:
    mine = Selector(Filter(namespace="alice"))
    assert all(mine.admits(e) for e in four(A, "alice"))
    assert not any(mine.admits(e) for e in four(B, "bob"))
    # A package's events carry "alice/pkg": still alice's.
    assert mine.admits(four(A, "alice/pkg")[0])


def test_filters_by_id_and_type() -> None:
    sel = Selector(
        Filter(namespace="guest", activation_ids=frozenset({A}), types=frozenset({COMPLETED}))
    )
    assert [e.type for e in four(A) if sel.admits(e)] == [COMPLETED]
    assert not any(sel.admits(e) for e in four(B))


def test_the_action_filter_follows_an_activation_past_its_acceptance() -> None:
    sel = Selector(Filter(namespace="guest", actions=frozenset({"hello"})))
    assert all(sel.admits(e) for e in four(A, action="hello"))
    assert not any(sel.admits(e) for e in four(B, action="other"))


def test_the_action_filter_knows_a_completion_by_its_path_when_it_missed_the_acceptance() -> None:
    sel = Selector(Filter(namespace="guest", actions=frozenset({"hello"})))
    events = four(A, action="hello")
    # A started (or a scheduled without its acceptance) cannot tell: the session looks it up.
    assert [sel.admits(e) for e in events[1:]] == [None, None, True]
    full = Selector(Filter(namespace="guest", actions=frozenset({"guest/hello"})))
    assert full.admits(events[3])


def test_an_undecided_activation_is_decided_by_its_acceptance_read_back() -> None:
    sel = Selector(Filter(namespace="guest", actions=frozenset({"hello"})))
    mine, other = four(A, action="hello"), four(B, action="other")
    assert sel.admits(mine[2]) is None and sel.admits(other[2]) is None
    sel.learn(A, mine[0])  # type: ignore[arg-type]
    sel.learn(B, other[0])  # type: ignore[arg-type]
    assert sel.admits(mine[2]) is True
    assert sel.admits(other[2]) is False
    # Not found (retention, not ours): not delivered, and not asked again.
    sel.learn("0" * 12 + "c" * 20, None)
    assert sel.admits(four("0" * 12 + "c" * 20)[2]) is False


def test_an_undecided_event_of_a_type_filtered_out_needs_no_lookup() -> None:
    sel = Selector(
        Filter(namespace="guest", actions=frozenset({"hello"}), types=frozenset({COMPLETED}))
    )
    assert [sel.admits(e) for e in four(A)[1:]] == [False, False, True]


def _package_activation(aid: str, binding: str | None = None) -> list[LedgerEvent]:
    annotations = [{"key": "binding", "value": binding}] if binding else None
    a = accepted(
        activation_id=aid, namespace="guest", action="guest/pkg/hello", annotations=annotations
    )
    done = completed(a, annotations=[{"key": "path", "value": "guest/pkg/hello"}], with_head=True)
    return [a, scheduled(a, 0), started(a, 0), done]


@pytest.mark.parametrize(
    ("wanted", "direct", "bound"),
    [
        ("pkg/hello", True, False),  # as GET .../activations?name=pkg/hello
        ("bind/hello", False, True),  # through the binding: listed under the binding
        ("hello", False, False),  # the list's `name=hello` is an action outside packages
        ("guest/pkg/hello", True, True),  # the action's full path
        ("guest/bind/hello", False, True),  # the binding's
    ],
)
def test_the_action_filter_names_package_actions_as_the_list_does(
    wanted: str, direct: bool, bound: bool
) -> None:
    sel = Selector(Filter(namespace="guest", actions=frozenset({wanted})))
    assert [sel.admits(e) for e in _package_activation(A)] == [direct] * 4
    assert [sel.admits(e) for e in _package_activation(B, "guest/bind")] == [bound] * 4


def test_a_scheduled_that_carries_its_acceptance_decides_alone() -> None:
    a = _package_activation(A)[0]
    carried = scheduled(a, 0).model_copy(update={"accepted": a})
    sel = Selector(Filter(namespace="guest", actions=frozenset({"pkg/hello"})))
    assert sel.admits(carried) is True
    assert sel.admits(started(a, 0)) is True  # remembered from the scheduled


def test_a_completion_forgets_its_activation() -> None:
    sel = Selector(Filter(namespace="guest", actions=frozenset({"hello"})))
    events = four(A, action="hello")
    assert [sel.admits(e) for e in events] == [True] * 4
    assert sel.admits(events[2]) is None  # a late duplicate: looked up again


def test_action_spec_reads_names_and_full_paths() -> None:
    assert action_spec("pkg/hello/", "guest") == "pkg/hello"
    assert action_spec("/_/pkg/hello", "guest") == "guest/pkg/hello"
    assert action_spec("/guest/hello", "guest") == "guest/hello"


def test_the_action_filter_remembers_acceptances_even_when_their_type_is_filtered_out() -> None:
    sel = Selector(
        Filter(
            namespace="guest", actions=frozenset({"hello"}), types=frozenset({"activation.started"})
        )
    )
    assert [e.type for e in four(A) if sel.admits(e)] == ["activation.started"]


def test_the_selector_memory_is_bounded() -> None:
    sel = Selector(Filter(namespace="guest", actions=frozenset({"hello"})), remember=2)
    ids = [f"{i:032x}" for i in range(3)]
    for aid in ids:
        sel.admits(four(aid)[0])
    assert sel.admits(four(ids[0])[1]) is None  # forgotten: to be looked up
    assert sel.admits(four(ids[2])[1]) is True


def test_subscribe_snapshots_where_the_tail_is() -> None:
    hub = Hub()
    hub.begin({0: 5, 1: 7})
    hub.publish(recs(four(A), partition=0, first=5))
    sub = hub.subscribe(Selector(Filter(namespace="guest")))
    assert sub.snapshot == {0: 9, 1: 7}
    hub.publish(recs(four(B), partition=1, first=7))
    got = [sub.queue.get_nowait() for _ in range(4)]
    assert [(d.partition, d.offset) for d in got if d] == [(1, 7), (1, 8), (1, 9), (1, 10)]
    # Each delivery carries the cursor just past it, every partition included.
    last = got[-1]
    assert last is not None and last.cursor == {0: 9, 1: 11}


def test_the_hub_offers_only_the_subscribers_namespace() -> None:
    hub = Hub()
    hub.begin({0: 0})
    alice = hub.subscribe(Selector(Filter(namespace="alice")))
    hub.publish(recs(four(B, "bob")))
    assert alice.queue.empty()
    assert hub.positions == {0: 4}


def test_an_unreadable_record_is_skipped_and_still_passed() -> None:
    hub = Hub()
    hub.begin({0: 0})
    sub = hub.subscribe(Selector(Filter(namespace="guest")))
    hub.publish([Rec(0, 0, 1, b"k", b"not json"), *recs(four(A)[:1], first=1)])
    assert hub.positions == {0: 2}
    assert sub.queue.qsize() == 1


def test_a_full_queue_overflows_instead_of_growing_or_blocking() -> None:
    hub = Hub(queue_max=3)
    hub.begin({0: 0})
    slow = hub.subscribe(Selector(Filter(namespace="guest")))
    fast = Subscription(Selector(Filter(namespace="guest")), {0: 0}, limit=100)
    hub._subscriptions.add(fast)
    events = four(A) + four(B)
    hub.publish(recs(events))
    assert slow.overflowed and not fast.overflowed
    assert slow.queue.qsize() <= 3 + 1  # at most the limit, plus one wake-up marker
    assert fast.queue.qsize() == len(events)


async def test_next_reports_overflow_and_close_without_waiting() -> None:
    sub = Subscription(Selector(Filter(namespace="guest")), {0: 0}, limit=1)
    assert await sub.next(0.01) is None  # timeout
    sub.close()
    assert sub.closed and await sub.next(10) is None


async def test_close_ends_every_subscription() -> None:
    hub = Hub()
    subs = [hub.subscribe(Selector(Filter(namespace="guest"))) for _ in range(3)]
    hub.close()
    assert all(s.closed for s in subs) and not hub._subscriptions
