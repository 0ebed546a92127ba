"""The benchmark's pure parts: percentiles, entries beside their floors, stages, targets."""

from __future__ import annotations

import pytest

from bench import report, stats
from bench.watch import Seen, stage_times


def test_percentile_interpolates_between_samples() -> None:
    assert stats.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert stats.percentile([1.0, 2.0, 3.0, 4.0], 0) == 1.0
    assert stats.percentile([1.0, 2.0, 3.0, 4.0], 100) == 4.0
    assert stats.percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        stats.percentile([], 50)


def test_summary_of_samples_in_any_order() -> None:
    s = stats.summary([5.0, 1.0, 3.0, 2.0, 4.0])
    assert s == {"n": 5, "p50": 3.0, "p90": 4.6, "p99": 4.96, "mean": 3.0, "min": 1.0, "max": 5.0}
    assert stats.summary([]) == {"n": 0}


def test_latency_entry_holds_platform_floor_and_overhead() -> None:
    entry = stats.latency_entry({"n": 3, "p50": 10.0, "p99": 30.0}, {"p50": 1.5, "p99": 4.0})
    assert entry["overhead"] == {"p50": 8.5, "p99": 26.0}
    assert entry["platform"]["n"] == 3 and entry["floor"]["p50"] == 1.5


def test_rate_entry_holds_the_ratio_of_platform_over_floor() -> None:
    entry = stats.rate_entry({"per_s": 250.0, "lost": 0}, {"per_s": 1000.0})
    assert entry["ratio"] == 0.25
    assert stats.rate_entry({"per_s": 5.0}, {"per_s": 0.0})["ratio"] is None


def test_lost_counts_accepted_activations_never_done() -> None:
    assert stats.lost(["a", "b", "c"], ["a", "c", "x"]) == 1
    assert stats.lost([], []) == 0


def test_stage_times_split_one_invoke_by_append_times() -> None:
    seen = Seen(
        appended_ms={
            "activation.accepted": 101,
            "activation.scheduled": 103,
            "activation.started": 106,
            "activation.completed": 110,
        }
    )
    times = stage_times(seen, sent_ms=100.0, received_ms=112.5)
    assert times == {
        "api_accept": 1.0,
        "controller_hop": 2.0,
        "invoker_hop": 3.0,
        "run_and_logs": 4.0,
        "answer": 2.5,
    }
    assert sum(times.values()) == 12.5


def test_an_invoke_the_api_placed_has_no_controller_hop() -> None:
    seen = Seen(
        appended_ms={
            "activation.accepted": 101,
            "activation.started": 106,
            "activation.completed": 110,
        }
    )
    times = stage_times(seen, sent_ms=100.0, received_ms=112.5)
    assert times == {"api_accept": 1.0, "invoker_hop": 5.0, "run_and_logs": 4.0, "answer": 2.5}


def test_stage_times_need_every_event() -> None:
    seen = Seen(appended_ms={"activation.accepted": 101, "activation.completed": 110})
    assert stage_times(seen, 100.0, 112.0) is None


def _results(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "kafka_roundtrip_ms": {"floor": {"p50": 1.0, "p99": 5.0}},
        "warm_latency_ms": {"overhead": {"p50": 4.0, "p99": 25.0}},
        "cold_start_ms": {"overhead": {"no_stem_cell": {"p50": 40.0}, "stem_cell": {"p50": 12}}},
        "throughput_per_s": {
            "platform": {
                "per_s": 600.0,
                "lost": 0,
                "stages_ms": {"invoker_hop": {"p99": 9.0}, "answer": {"p99": 11.0}},
                "cpu_ms_per_activation": {"api": 1.0, "kafka": 0.5, "containerd": 9, "total": 9},
            },
            "floor": {"per_s": 2000.0},
            "ratio": 0.3,
        },
        "replay_events_per_s": {"platform": {"skipped": "replay not available"}, "ratio": None},
        "rss_mb": {"platform": {"idle": {"total": 300.0}}},
    }
    base.update(over)
    return base


def test_targets_are_judged_against_the_floors_of_the_same_run() -> None:
    verdicts = {v.name: v.met for v in report.judge(_results())}
    assert verdicts == {
        "throughput, concurrency 32": True,
        "CPU per activation, every process, under load": True,  # 1.5 ms <= 3 ms
        "warm overhead p50": True,  # 4 ms = 4 round trips
        "warm overhead p99": False,  # 25 ms > 3 x 5 ms
        "loaded invoker_hop p99": True,
        "loaded answer p99": False,  # 11 ms > 10 round trips
        "cold start overhead p50": True,
        "stem cell overhead p50 (beyond /init + /run)": True,
        "replay": None,
        "idle RSS, 4 processes": True,
    }


def test_a_slower_floor_allows_more_cpu_and_a_lost_activation_misses_throughput() -> None:
    results = _results()
    tput = results["throughput_per_s"]
    assert isinstance(tput, dict)
    tput["floor"] = {"per_s": 500.0}  # a slow day: 12 ms allowed
    tput["platform"]["cpu_ms_per_activation"] = {"api": 10.0}
    tput["platform"]["lost"] = 1
    met = {v.name: v.met for v in report.judge(results)}
    assert met["CPU per activation, every process, under load"] is True
    assert met["throughput, concurrency 32"] is False


def test_replay_needs_both_its_rate_and_half_the_bulk_rate() -> None:
    slow = {"platform": {"per_s": 9000.0}, "ratio": 0.4}
    fast = {"platform": {"per_s": 9000.0}, "ratio": 0.6}
    assert {v.name: v.met for v in report.judge(_results(replay_events_per_s=slow))}[
        "replay"
    ] is False
    assert {v.name: v.met for v in report.judge(_results(replay_events_per_s=fast))}[
        "replay"
    ] is True


def test_the_table_names_every_figure() -> None:
    text = report.table(_results())
    for name in ("warm invoke p50", "cold start", "throughput", "replay", "RSS idle"):
        assert name in text
    assert "skipped" in text


def test_replay_times_are_read_from_what_the_command_printed() -> None:
    from bench.platform import rebuild_times

    printed = (
        "ok: rebuilt 10,000 activation records from 39,703 events into x in 4.6 s "
        "(8,682 events/s)\nok: indexed the views of x in 18.8 s\n"
    )
    assert rebuild_times(printed) == (4.6, 18.8)
    assert rebuild_times(printed.splitlines()[0]) == (4.6, None)
    with pytest.raises(ValueError):
        rebuild_times("error: the database does not exist")
