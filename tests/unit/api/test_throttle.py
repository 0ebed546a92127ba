"""Throttles: rate per minute and concurrency, with OpenWhisk's messages."""

from __future__ import annotations

from api.throttle import Allowances, ConcurrencyThrottle, RateThrottle, Throttles

MINUTE = 60_000


def test_rate_allows_up_to_the_allowance_then_refuses_until_the_next_minute() -> None:
    rate = RateThrottle()
    assert rate.check("ns", 2, 0).ok and rate.check("ns", 2, 10).ok
    refused = rate.check("ns", 2, 20)
    assert not refused.ok
    assert refused.message == "Too many requests in the last minute (count: 3, allowed: 2)."
    assert refused.limit == "timed"  # OpenWhisk's TimedRateLimit, for the metrics
    assert rate.check("other", 2, 20).ok
    assert rate.check("ns", 2, MINUTE).ok


def test_concurrency_counts_in_flight_until_finished_or_expired() -> None:
    conc = ConcurrencyThrottle()
    conc.started("ns", "a", deadline_ms=1000)
    assert conc.check("ns", 2, 0).ok
    conc.started("ns", "b", deadline_ms=5000)
    refused = conc.check("ns", 2, 0)
    assert not refused.ok
    assert refused.message == "Too many concurrent requests in flight (count: 2, allowed: 2)."
    assert refused.limit == "concurrent"
    conc.finished("ns", "b")
    assert conc.check("ns", 2, 0).ok
    conc.started("ns", "c", deadline_ms=10)
    assert conc.count("ns", 2000) == 0  # both deadlines passed


def test_allowances_take_the_subjects_own_limits() -> None:
    defaults = Allowances(100, 10, 50)
    mine = Allowances.of(defaults, {"invocationsPerMinute": 3, "firesPerMinute": True})
    assert mine == Allowances(3, 10, 50)


def test_invoke_checks_rate_before_concurrency() -> None:
    throttles = Throttles()
    allowed = Allowances(1, 5, 1)
    assert throttles.check_invoke("ns", allowed, 0).ok
    verdict = throttles.check_invoke("ns", allowed, 0)
    assert not verdict.ok and "in the last minute" in verdict.message
    assert throttles.check_fire("ns", allowed, 0).ok
    assert not throttles.check_fire("ns", allowed, 0).ok
