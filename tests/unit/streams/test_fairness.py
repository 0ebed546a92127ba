"""Which waiting activation goes next (streams/fairness.py)."""

from __future__ import annotations

from streams.fairness import next_in_line


def test_one_namespace_waits_in_arrival_order() -> None:
    assert next_in_line(["a", "a", "a"], {}) == 0
    assert next_in_line(["a", "a", "a"], {"a": 7}) == 0


def test_a_namespace_never_served_goes_before_a_backlog() -> None:
    assert next_in_line(["a", "a", "a", "b", "b"], {"a": 3}) == 3


def test_the_namespace_served_least_recently_goes_next() -> None:
    served = {"a": 9, "b": 4, "c": 6}
    assert next_in_line(["a", "c", "b", "b"], served) == 2
    # Taking turns: once b is served it goes behind c, then a.
    served["b"] = 10
    assert next_in_line(["a", "c", "b"], served) == 1
