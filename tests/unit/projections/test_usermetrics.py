"""OpenWhisk's user-event metrics from ``completed`` events (projections/usermetrics.py,
projections/exporter.py ``FirstCompletions``)."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from projections.exporter import FirstCompletions
from projections.usermetrics import Observation, UserMetrics, observation_of, status_code_of
from streams import constants
from streams.events import NamespaceThrottled, encode, read_fact
from tests.support import events

WAIT_INIT = [
    {"key": "path", "value": "owner/pkg/hello"},
    {"key": "waitTime", "value": 40},
    {"key": "kind", "value": "nodejs:18"},
    {"key": "limits", "value": {"memory": 512, "timeout": 60000, "logs": 10, "concurrency": 1}},
    {"key": "initTime", "value": 250},
]


def test_a_cold_start_is_observed_with_openwhisks_labels() -> None:
    a = events.accepted(namespace="caller", action="owner/pkg/hello", kind="nodejs:18")
    done = events.completed(
        a, start_ms=2_000, end_ms=2_500, size=17, annotations=WAIT_INIT, with_head=True
    )
    assert observation_of(done) == Observation(
        namespace="owner",
        initiator="caller",
        action="pkg/hello",
        kind="nodejs:18",
        memory_mb=512,
        status="success",
        wait_s=0.04,
        init_s=0.25,
        duration_s=0.5,
        response_bytes=17,
    )


def test_a_warm_start_has_no_init_time_and_statuses_take_openwhisks_names() -> None:
    a = events.accepted()
    warm = [n for n in WAIT_INIT if n["key"] != "initTime"]
    names = {}
    for code in range(4):
        seen = observation_of(
            events.completed(a, status_code=code, annotations=warm, with_head=True)
        )
        assert seen is not None and seen.init_s is None
        names[code] = seen.status
    assert names == {
        0: "success",
        1: "application_error",
        2: "developer_error",
        3: "internal_error",
    }


def test_sequences_triggers_and_headless_completions_are_not_counted() -> None:
    for kind in constants.ORCHESTRATED_KINDS:
        a = events.accepted(kind=kind)
        assert observation_of(events.completed(a, with_head=True)) is None
    assert observation_of(events.completed(events.accepted())) is None


def samples(metrics: UserMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_the_exposition_has_openwhisks_names() -> None:
    metrics = UserMetrics()
    a = events.accepted(namespace="caller", action="owner/hello")
    cold = observation_of(events.completed(a, annotations=WAIT_INIT, with_head=True))
    warm = observation_of(
        events.completed(a, status_code=1, annotations=WAIT_INIT[:4], with_head=True)
    )
    assert cold is not None and warm is not None
    metrics.observe(cold)
    metrics.observe(warm)
    got = samples(metrics)

    def at(name: str, **extra: str) -> float:
        labels = {"namespace": "owner", "initiator": "caller", "action": "hello", **extra}
        return got[(name, tuple(sorted(labels.items())))]

    assert at("openwhisk_action_activations_total", kind="python:3.11", memory="512") == 2
    assert at("openwhisk_action_coldStarts_total") == 1
    assert at("openwhisk_action_initTime_seconds_count") == 1
    assert at("openwhisk_action_waitTime_seconds_count") == 2
    assert at("openwhisk_action_duration_seconds_count") == 2
    assert at("openwhisk_action_memory") == 512
    assert at("openwhisk_action_status", status="success") == 1
    assert at("openwhisk_action_status", status="application_error") == 1
    text = generate_latest(metrics.registry).decode()
    assert "# TYPE openwhisk_action_status untyped" in text
    assert "# TYPE openwhisk_action_limit_timed_total counter" in text
    assert "_created" not in text


def test_only_an_activations_first_completion_counts() -> None:
    firsts = FirstCompletions(window_ms=1_000)
    a = events.accepted(at_ms=10_000)
    done = events.completed(a, end_ms=10_100)
    assert firsts.first(0, done)
    assert not firsts.first(0, events.completed(a, end_ms=10_500))
    # Later than the window, the id is forgotten.
    later = events.completed(events.accepted(n=1, at_ms=20_000), end_ms=20_000)
    assert firsts.first(0, later)
    assert firsts.first(0, events.completed(a, end_ms=20_001))


def test_429s_are_counted_by_namespace_and_limit() -> None:
    metrics = UserMetrics()
    for limit in ("timed", "timed", "concurrent"):
        metrics.observe_throttle(
            NamespaceThrottled(namespace="busy", limit=limit, at_ms=1, source="api0")
        )
    got = samples(metrics)
    assert got[("openwhisk_action_limit_timed_total", (("namespace", "busy"),))] == 2
    assert got[("openwhisk_action_limit_concurrent_total", (("namespace", "busy"),))] == 1


def test_a_throttles_record_that_holds_no_fact_is_skipped() -> None:
    fact = NamespaceThrottled(namespace="busy", limit="timed", at_ms=1, source="api0")
    assert read_fact(NamespaceThrottled, encode(fact)) == fact
    assert read_fact(NamespaceThrottled, b"{not json") is None
    assert read_fact(NamespaceThrottled, None) is None


def test_the_status_code_an_action_sets_is_counted_as_openwhisk_reads_it() -> None:
    assert status_code_of({"statusCode": 418}) == 418
    assert status_code_of({"error": {"statusCode": 503}, "statusCode": 200}) == 503
    assert status_code_of({"statusCode": 201.7}) == 201
    assert status_code_of({"statusCode": "200"}) == 400
    assert status_code_of({"statusCode": True}) == 400
    # Codes no HTTP answer has are one label value, so a tenant cannot grow the series.
    assert status_code_of({"statusCode": 10**40}) == 400
    assert status_code_of({"statusCode": 1e308}) == 400
    assert status_code_of({"statusCode": 99}) == 400
    assert status_code_of({"statusCode": 599}) == 599
    assert status_code_of({"body": "no code"}) is None
    assert status_code_of(["statusCode"]) is None
    metrics = UserMetrics()
    a = events.accepted(namespace="caller", action="owner/hello")
    for result in ({"statusCode": 418}, {"statusCode": 418}, {"body": "x"}):
        seen = observation_of(
            events.completed(a, result=result, annotations=WAIT_INIT, with_head=True)
        )
        assert seen is not None
        metrics.observe(seen)
    got = samples(metrics)
    labels = {"namespace": "owner", "initiator": "caller", "action": "hello", "status_code": "418"}
    assert got[("openwhisk_action_status_code", tuple(sorted(labels.items())))] == 2
    text = generate_latest(metrics.registry).decode()
    assert "# TYPE openwhisk_action_status_code untyped" in text


def test_size_buckets_are_distinct_and_a_result_without_a_size_is_not_observed() -> None:
    metrics = UserMetrics()
    a = events.accepted(namespace="caller", action="owner/hello")
    sized = observation_of(events.completed(a, size=100, annotations=WAIT_INIT, with_head=True))
    assert sized is not None
    metrics.observe(sized)
    metrics.observe(Observation(**{**sized.__dict__, "response_bytes": None}))
    text = generate_latest(metrics.registry).decode()
    buckets = [line for line in text.splitlines() if "response_size_bytes_bucket" in line]
    assert len(buckets) == len(set(buckets)) == 9  # eight bounds and +Inf
    count = [line for line in text.splitlines() if "response_size_bytes_count" in line]
    assert count and count[0].endswith(" 1.0")
