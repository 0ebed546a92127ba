"""The container pool's choice."""

from __future__ import annotations

from invoker.pool import Cold, Slot, StemCell, Wait, Want, Warm, choose, idle_actions

WANT = Want(action="ns/a@1", kind="python:3.11", memory_mb=256)


def slot(
    id: str,
    action: str | None = "ns/a@1",
    in_use: int = 0,
    memory: int = 256,
    kind: str = "python:3.11",
    last: int = 0,
    concurrency: int = 1,
) -> Slot:
    return Slot(id, kind, memory, action, in_use, concurrency, last)


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
