"""feeds/alarms.py: OpenWhisk's parameters and errors, READ, and when an alarm fires and ends."""

from __future__ import annotations

from typing import Any

import pytest

from feeds import alarms
from feeds.alarms import BadParameters

NOW = 1_800_000_000_000  # 2027-01-15T08:00:00Z
MINUTE = 60_000


def create(kind: str, min_interval_s: float = 60, **params: Any) -> dict[str, Any]:
    return alarms.create_config(kind, params, NOW, min_interval_s)


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("cron", {}, "alarms trigger feed is missing the cron parameter"),
        ("cron", {"cron": "x y"}, "cron pattern 'x y' is not valid"),
        ("cron", {"cron": "* * * * *", "timezone": "Nowhere/Land"}, "Invalid timezone."),
        ("interval", {}, "interval trigger feed is missing the minutes parameter"),
        ("interval", {"minutes": "abc"}, "the minutes parameter must be an integer"),
        ("interval", {"minutes": 0.5}, "the minutes parameter must be an integer"),
        ("interval", {"minutes": -2}, "the minutes parameter must be an integer greater than zero"),
        ("once", {}, "alarms once trigger feed is missing the date parameter"),
        ("once", {"date": "tomorrow"}, "date parameter 'tomorrow' is not a valid Date"),
        ("once", {"date": NOW - 1}, f"date parameter '{NOW - 1}' must be in the future"),
        (
            "once",
            {"date": NOW + MINUTE, "deleteAfterFire": "maybe"},
            "deleteAfterFire parameter must be one of [false, true, rules].",
        ),
        (
            "cron",
            {"cron": "* * * * *", "maxTriggers": 3, "stopDate": NOW + MINUTE},
            "maxTriggers is not allowed when the stopDate parameter is specified",
        ),
        (
            "interval",
            {"minutes": 1, "maxTriggers": 3, "stopDate": NOW + MINUTE},
            "maxTriggers is not supported for the interval trigger feed",
        ),
        (
            "cron",
            {"cron": "* * * * *", "startDate": NOW + 5 * MINUTE, "stopDate": NOW + MINUTE},
            f"stopDate parameter '{NOW + MINUTE}' must be greater than the startDate "
            f"parameter '{NOW + 5 * MINUTE}'",
        ),
        (
            "cron",
            {"cron": "0 0 1 1 *", "stopDate": NOW + MINUTE},
            "the first scheduled trigger fire is not until after the stop date",
        ),
    ],
)
def test_bad_parameters_get_openwhisks_error(
    kind: str, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadParameters) as caught:
        create(kind, **params)
    assert str(caught.value) == message


def test_short_intervals_need_the_setting() -> None:
    with pytest.raises(BadParameters, match="LEDGERWHISK_FEEDS_MIN_INTERVAL_S"):
        create("interval", min_interval_s=30, minutes=0.1)
    assert create("interval", min_interval_s=1, minutes=0.05)["period_ms"] == 3_000


def test_a_string_payload_becomes_payload_and_an_object_stays() -> None:
    assert create("cron", cron="* * * * *", trigger_payload="hi")["payload"] == {"payload": "hi"}
    assert create("cron", cron="* * * * *", trigger_payload={"a": 1})["payload"] == {"a": 1}
    assert create("cron", cron="* * * * *")["payload"] == {}


def test_dates_are_epoch_milliseconds_or_iso_strings() -> None:
    assert alarms.date_ms(NOW) == NOW
    assert alarms.date_ms("2027-01-15T08:00:00.000Z") == NOW
    assert alarms.date_ms("2027-01-15T09:00:00+01:00") == NOW
    assert alarms.date_ms("soon") is None
    assert alarms.date_ms(True) is None


def test_an_interval_without_start_first_fires_one_interval_or_30_s_later() -> None:
    assert create("interval", min_interval_s=1, minutes=0.05)["start_ms"] == NOW + 3_000
    assert create("interval", minutes=2)["start_ms"] == NOW + 30_000


def test_cron_fires_from_its_start_date_until_its_stop_date() -> None:
    config = create(
        "cron", cron="*/10 * * * * *", startDate=NOW + MINUTE, stopDate=NOW + MINUTE + 25_000
    )
    assert alarms.next_due(config, NOW) == NOW + MINUTE
    assert alarms.next_due(config, NOW + MINUTE) == NOW + MINUTE + 10_000
    assert alarms.next_due(config, NOW + MINUTE + 20_000) is None


def test_once_fires_at_its_date_then_ends() -> None:
    config = create("once", date=NOW + MINUTE)
    assert alarms.first_due(config, NOW) == (NOW + MINUTE, None)
    assert alarms.after_fire(config, NOW + MINUTE, NOW + MINUTE, 1) == (
        None,
        "Automatically disabled after firing once",
    )


def test_a_missed_schedule_fires_once_then_goes_on_from_now() -> None:
    config = create("cron", cron="* * * * * *")
    due = NOW + 1_000
    # Fired on time: the next second.
    assert alarms.after_fire(config, due, due + 50, 1) == (due + 1_000, None)
    # Fired an hour late (the service was down): the next second after now, not the
    # 3,600 missed in between.
    late = due + 3_600_000
    assert alarms.after_fire(config, due, late, 1) == (late + 1_000, None)


def test_max_triggers_and_stop_dates_end_the_alarm() -> None:
    capped = create("cron", cron="* * * * * *", maxTriggers=2)
    assert alarms.after_fire(capped, NOW, NOW, 1)[1] is None
    assert alarms.after_fire(capped, NOW, NOW, 2) == (
        None,
        "Automatically disabled after reaching max triggers",
    )
    stopping = create("interval", min_interval_s=1, minutes=0.05, stopDate=NOW + 4_000)
    assert alarms.after_fire(stopping, NOW + 3_000, NOW + 3_000, 1) == (
        None,
        "Automatically disabled after firing last scheduled interval trigger",
    )


def test_update_changes_what_it_names_and_refuses_nothing_to_update() -> None:
    config = create("cron", cron="* * * * *")
    updated = alarms.update_config(config, {"cron": "*/5 * * * *"}, NOW, 60)
    assert updated["cron"] == "*/5 * * * *"
    with pytest.raises(BadParameters, match=r"^no updatable parameters were specified$"):
        alarms.update_config(config, {}, NOW, 60)
    with pytest.raises(BadParameters, match=r"^cron pattern 'bad' is not valid$"):
        alarms.update_config(config, {"cron": "bad"}, NOW, 60)


def test_read_answers_openwhisks_config() -> None:
    registration = {
        "namespace": "ns",
        "trigger": "t",
        "config": create("cron", cron="* * * * *", trigger_payload={"a": 1}, timezone="UTC"),
    }
    assert alarms.read_config(registration) == {
        "name": "t",
        "namespace": "ns",
        "payload": {"a": 1},
        "strict": False,
        "startDate": None,
        "stopDate": None,
        "cron": "* * * * *",
        "timezone": "UTC",
    }
