"""Pure figures for the benchmark: percentiles, and entries that set a platform beside its floor."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

PERCENTILES = (50, 90, 99)
DIGITS = 2


def percentile(sorted_samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of already sorted samples, by linear interpolation.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    """
    if not sorted_samples:
        raise ValueError("no samples")
    if len(sorted_samples) == 1:
        return float(sorted_samples[0])
    rank = (len(sorted_samples) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(sorted_samples) - 1)
    weight = rank - low
    return float(sorted_samples[low] * (1 - weight) + sorted_samples[high] * weight)


def summary(samples: Iterable[float]) -> dict[str, float | int]:
    """``n``, ``p50``/``p90``/``p99``, ``mean``, ``min`` and ``max`` of latency samples."""
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0}
    out: dict[str, float | int] = {"n": len(ordered)}
    for q in PERCENTILES:
        out[f"p{q}"] = round(percentile(ordered, q), DIGITS)
    out["mean"] = round(sum(ordered) / len(ordered), DIGITS)
    out["min"] = round(ordered[0], DIGITS)
    out["max"] = round(ordered[-1], DIGITS)
    return out


def overhead(platform: Mapping[str, Any], floor: Mapping[str, Any]) -> dict[str, float]:
    """Platform minus floor for every percentile both summaries hold."""
    return {
        key: round(float(platform[key]) - float(floor[key]), DIGITS)
        for key in (f"p{q}" for q in PERCENTILES)
        if key in platform and key in floor
    }


def latency_entry(platform: Mapping[str, Any], floor: Mapping[str, Any]) -> dict[str, Any]:
    """A latency figure: ``platform`` and ``floor`` summaries with their ``overhead``."""
    return {"platform": dict(platform), "floor": dict(floor), "overhead": overhead(platform, floor)}


def ratio(platform_rate: float, floor_rate: float) -> float | None:
    """Platform rate over floor rate (None when the floor is zero)."""
    if floor_rate <= 0:
        return None
    return round(platform_rate / floor_rate, 3)


def rate_entry(
    platform: Mapping[str, Any], floor: Mapping[str, Any], key: str = "per_s"
) -> dict[str, Any]:
    """A rate figure: ``platform`` and ``floor`` with ``ratio`` = platform over floor."""
    return {
        "platform": dict(platform),
        "floor": dict(floor),
        "ratio": ratio(float(platform.get(key, 0.0)), float(floor.get(key, 0.0))),
    }


def lost(accepted: Iterable[str], done: Iterable[str]) -> int:
    """How many accepted activations did not complete and reach the projection."""
    return len(set(accepted) - set(done))


def per_second(count: int, seconds: float) -> float:
    """A rate rounded for the report (0 for an empty interval)."""
    return round(count / seconds, 1) if seconds > 0 else 0.0
