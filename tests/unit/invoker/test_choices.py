"""The container pool's choice."""

from __future__ import annotations

from invoker.choices import (
    Cold,
    Never,
    Prewarm,
    Refill,
    Slot,
    StemCell,
    Wait,
    Want,
    Warm,
    choose,
    effective_concurrency,
    idle_actions,
    refill,
)

WANT = Want(action="ns/a@1", kind="python:3.11", memory_mb=256)


def slot(
    id: str,
    action: str | None = "ns/a@1",
    in_use: int = 0,
    memory: int = 256,
    kind: str = "python:3.11",
    last: int = 0,
    concurrency: int = 1,
    paused: bool = False,
) -> Slot:
    return Slot(id, kind, memory, action, in_use, concurrency, last, paused)


def test_warm_container_of_the_same_action_first() -> None:
    slots = [slot("stem", action=None), slot("w")]
    assert choose(slots, WANT, 1024) == Warm("w")


def test_busy_warm_container_is_not_reused_unless_concurrent() -> None:
    assert choose([slot("w", in_use=1)], WANT, 1024) == Cold()
    assert choose([slot("w", in_use=1, concurrency=2)], WANT, 1024) == Warm("w")


def test_other_version_is_not_warm() -> None:
    assert choose([slot("w", action="ns/a@0")], WANT, 1024) == Cold()


def test_stem_cell_of_same_kind_and_memory() -> None:
    slots = [slot("s1", action=None, memory=512), slot("s2", action=None)]
    assert choose(slots, WANT, 2048) == StemCell("s2")
    other_kind = [slot("s", action=None, kind="nodejs:18")]
    assert choose(other_kind, WANT, 2048) == Cold()


def test_cold_start_counts_containers_being_created() -> None:
    assert choose([], WANT, 512, reserved_mb=256) == Cold()
    assert choose([], WANT, 512, reserved_mb=384) == Wait()


def test_evicts_least_recently_used_idle_warm_before_stem_cells() -> None:
    slots = [
        slot("old", action="ns/b@1", last=1),
        slot("new", action="ns/c@1", last=5),
        slot("stem", action=None, kind="nodejs:18", last=0),
    ]
    assert choose(slots, WANT, 768) == Cold(("old",))


def test_waits_when_everything_is_busy() -> None:
    slots = [slot("x", action="ns/b@1", in_use=1), slot("y", action="ns/c@1", in_use=1)]
    assert choose(slots, WANT, 512) == Wait()


def test_idle_actions_pause_then_remove() -> None:
    slots = [
        slot("a", last=0),
        slot("b", last=900),
        slot("busy", in_use=1, last=0),
        slot("stem", action=None, last=0),
    ]
    pause, remove = idle_actions(slots, now_ms=1000, pause_after_ms=50, remove_after_ms=1000)
    assert remove == ["a"]
    assert pause == ["b"]


def test_never_when_the_action_exceeds_the_whole_budget() -> None:
    assert choose([], Want("ns/a@1", "python:3.11", 512), 256) == Never()


def test_an_idle_stem_cell_is_evicted_when_no_warm_container_is_idle() -> None:
    slots = [
        slot("busy", action="ns/b@1", in_use=1),
        slot("stem", action=None, kind="nodejs:18"),
    ]
    assert choose(slots, WANT, 512) == Cold(("stem",))


def test_eviction_frees_as_many_containers_as_needed() -> None:
    slots = [
        slot("x", action="ns/x@1", memory=128, last=1),
        slot("y", action="ns/y@1", memory=128, last=2),
        slot("z", action="ns/z@1", memory=128, last=3),
    ]
    assert choose(slots, WANT, 384) == Cold(("x", "y"))


def test_a_container_still_starting_takes_concurrent_activations() -> None:
    # A cold start in progress is a slot with in_use 1: a second activation of a
    # concurrent action shares it instead of starting another container.
    starting = slot("new", in_use=1, concurrency=3)
    assert choose([starting], WANT, 256) == Warm("new")


def test_warm_prefers_the_busiest_then_an_unpaused_container() -> None:
    slots = [
        slot("paused", in_use=0, concurrency=2, last=9, paused=True),
        slot("running", in_use=0, concurrency=2, last=1),
        slot("busy", in_use=1, concurrency=2, last=0),
    ]
    assert choose(slots, WANT, 2048) == Warm("busy")
    assert choose(slots[:2], WANT, 2048) == Warm("running")


def test_paused_containers_are_not_paused_again_but_are_removed() -> None:
    slots = [slot("p", last=0, paused=True), slot("q", last=500, paused=True)]
    pause, remove = idle_actions(slots, now_ms=1000, pause_after_ms=50, remove_after_ms=1000)
    assert (pause, remove) == ([], ["p"])


SPECS = [Prewarm("python:3.11", 256, 2), Prewarm("nodejs:18", 256, 1)]


def test_stem_cells_are_created_up_to_each_spec() -> None:
    assert refill(SPECS, [], [], 2048, 0, queued=0) == Refill(
        create=(("python:3.11", 256), ("python:3.11", 256), ("nodejs:18", 256))
    )


def test_stem_cells_ready_or_starting_count_and_claimed_ones_do_not() -> None:
    slots = [
        slot("s1", action=None),
        slot("claimed", action="ns/a@1"),  # was a stem cell; now warm
        slot("js", action=None, kind="nodejs:18"),
    ]
    creating = [("python:3.11", 256)]
    assert refill(SPECS, slots, creating, 2048, 256, queued=0) == Refill()
    assert refill(SPECS, slots, [], 2048, 0, queued=0) == Refill(create=(("python:3.11", 256),))


def test_stem_cells_yield_to_queued_activations_and_to_busy_containers() -> None:
    assert refill(SPECS, [], [], 2048, 0, queued=1) == Refill()
    assert refill(SPECS, [], [], 600, 0, queued=0) == Refill(
        create=(("python:3.11", 256), ("python:3.11", 256))
    )
    busy = [slot("w", memory=512, in_use=1), slot("idle", memory=512, last=1)]
    assert refill(SPECS, busy, [], 1024, 0, queued=0) == Refill()


def test_paused_containers_make_room_for_stem_cells_least_recently_used_first() -> None:
    slots = [
        slot("old", action="ns/o@1", last=1, paused=True),
        slot("new", action="ns/n@1", last=5, paused=True),
        slot("recent", action="ns/r@1", last=9),  # idle, not yet paused: kept
    ]
    one = [Prewarm("nodejs:18", 256, 1)]
    assert refill(one, slots, [], 768, 0, queued=0) == Refill(
        create=(("nodejs:18", 256),), evict=("old",)
    )
    assert refill(SPECS, slots, [], 768, 0, queued=0) == Refill(
        create=(("python:3.11", 256), ("python:3.11", 256)), evict=("old", "new")
    )


def test_concurrency_only_where_the_runtime_supports_it() -> None:
    assert effective_concurrency(5, supported=True) == 5
    assert effective_concurrency(5, supported=False) == 1
    assert effective_concurrency(0, supported=True) == 1
