"""The API's placer: its share of each invoker, held until completion."""

from __future__ import annotations

from api.placer import Placer
from streams.registry import HeartbeatRegistry
from tests.support.events import health


def placer_with(*memories: int, share: float = 1.0, now: int = 1_000) -> Placer:
    registry = HeartbeatRegistry(offline_after_ms=10_000)
    registry.hearing(now, caught_up=True)
    for invoker, memory_mb in enumerate(memories):
        registry.observe(health(invoker, at_ms=now, memory_mb=memory_mb), now)
    return Placer(registry, share=share)


def test_places_on_a_usable_invoker_and_holds_its_memory() -> None:
    placer = placer_with(512)
    first = placer.choose("guest", "hello", 256, 1_000)
    assert first is not None and first.invoker == 0
    placer.hold("a1", 0, 256)
    placer.hold("a2", 0, 256)
    assert placer.choose("guest", "hello", 256, 1_000) is None  # full: the controller queues it
    placer.release("a1")
    again = placer.choose("guest", "hello", 256, 1_000)
    assert again is not None and again.invoker == 0


def test_release_is_idempotent_and_ignores_unknown_activations() -> None:
    placer = placer_with(512)
    placer.hold("a1", 0, 256)
    placer.release("a1")
    placer.release("a1")
    placer.release("never-held")
    assert placer.reserved_mb == {0: 0}


def test_each_instance_fills_only_its_share() -> None:
    placer = placer_with(1024, share=0.5)
    placer.hold("a1", 0, 256)
    placer.hold("a2", 0, 256)
    assert placer.choose("guest", "hello", 256, 1_000) is None
    placer.release("a2")
    assert placer.choose("guest", "hello", 256, 1_000) is not None


def test_a_small_share_still_admits_one_activation_on_an_idle_invoker() -> None:
    placer = placer_with(256, share=0.25)
    chosen = placer.choose("guest", "hello", 256, 1_000)
    assert chosen is not None and chosen.invoker == 0
    placer.hold("a1", 0, 256)
    assert placer.choose("guest", "hello", 256, 1_000) is None


def test_no_usable_invoker_means_the_controller_places_it() -> None:
    placer = placer_with()
    assert placer.choose("guest", "hello", 128, 1_000) is None
    silent = placer_with(1024, now=1_000)
    # Heard nothing from invoker 0 for longer than the offline time, while listening.
    for t in range(1_500, 12_000, 500):
        silent.registry.hearing(t, caught_up=True)
    assert silent.choose("guest", "hello", 128, 12_000) is None


def test_overflow_steps_to_another_invoker() -> None:
    placer = placer_with(256, 256)
    home = placer.choose("guest", "hello", 256, 1_000)
    assert home is not None and home.decision == "home"
    placer.hold("a1", home.invoker, 256)
    other = placer.choose("guest", "hello", 256, 1_000)
    assert other is not None and other.invoker != home.invoker and other.decision == "step"


def test_when_full_it_overcommits_up_to_its_limit_and_then_leaves_it_to_the_controller() -> None:
    placer = placer_with(512, 512)
    placer.overcommit = 2.0
    for n in range(4):  # both invokers full: 2 x 256 MB each
        chosen = placer.choose("guest", "hello", 256, 1_000)
        assert chosen is not None
        placer.hold(f"a{n}", chosen.invoker, 256)
    for n in range(4, 8):  # forced: the invokers' pools hold these until a container frees
        chosen = placer.choose("guest", "hello", 256, 1_000)
        assert chosen is not None
        placer.hold(f"a{n}", chosen.invoker, 256)
    assert placer.reserved_mb == {0: 1024, 1: 1024}
    assert placer.choose("guest", "hello", 256, 1_000) is None  # twice full: the controller queues


def test_it_prefers_an_invoker_with_room_to_overcommitting_home() -> None:
    placer = placer_with(256, 256)
    placer.overcommit = 2.0
    home = placer.choose("guest", "hello", 256, 1_000)
    assert home is not None
    placer.hold("a1", home.invoker, 256)
    other = placer.choose("guest", "hello", 256, 1_000)
    assert other is not None and other.invoker != home.invoker
