"""feeds/alarms.py: OpenWhisk's parameters and errors, READ, and when an alarm fires and ends."""

from __future__ import annotations

from typing import Any

import pytest

from feeds import alarms
from feeds.alarms import BadParameters
from feeds.schedule import Unschedulable

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
        # Digits past a double (parseInt is Infinity) are no integer, not a 500.
        ("interval", {"minutes": "9" * 400}, "the minutes parameter must be an integer"),
        ("interval", {"minutes": "-" + "9" * 400}, "the minutes parameter must be an integer"),
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
    assert alarms.date_ms(True) == 1  # new Date(true): 1 ms after the epoch
    assert alarms.date_ms(1.9) == 1  # TimeClip truncates
    assert alarms.date_ms(1e30) is None  # past JavaScript's 8.64e15 ms
    assert alarms.date_ms(8e15) is None  # a JavaScript Date, but past 9999-12-31
    assert alarms.date_ms(253_402_300_799_999) == 253_402_300_799_999
    assert alarms.date_ms([NOW]) is None


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
        "cron": "* * * * *",
        "timezone": "UTC",
    }


# -- schedules that cannot be computed (D4) --------------------------------------------
@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        (
            "cron",
            {"cron": "* * * * *", "startDate": 1e30},
            "startDate parameter '1e+30' is not a valid Date",
        ),
        (
            "cron",
            {"cron": "* * * * *", "stopDate": 1e30},
            "stopDate parameter '1e+30' is not a valid Date",
        ),
        ("interval", {"minutes": 1, "startDate": 8e15}, "startDate parameter '8000000000000000'"),
        ("once", {"date": 1e30}, "date parameter '1e+30' is not a valid Date"),
        ("once", {"date": True}, "date parameter 'true' must be in the future"),
        ("cron", {"cron": "0 0 31 2 *"}, "cron pattern '0 0 31 2 *' is not valid: no date"),
        ("cron", {"cron": "0 0 0 30 2 *"}, "cron pattern '0 0 0 30 2 *' is not valid: no date"),
        (
            "cron",
            {"cron": "0 0 1 1 *", "startDate": "9999-06-01T00:00:00Z"},
            "cron pattern '0 0 1 1 *' is not valid: no date matches it",
        ),
    ],
)
def test_a_schedule_that_cannot_be_computed_is_refused(
    kind: str, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadParameters) as caught:
        create(kind, **params)
    assert str(caught.value).startswith(message)


def test_update_refuses_a_schedule_that_cannot_be_computed() -> None:
    config = create("cron", cron="* * * * *")
    with pytest.raises(BadParameters, match=r"^cron pattern '0 0 31 2 \*' is not valid: no date"):
        alarms.update_config(config, {"cron": "0 0 31 2 *"}, NOW, 60)
    with pytest.raises(BadParameters, match=r"^startDate parameter '1e\+30' is not a valid Date$"):
        alarms.update_config(config, {"startDate": 1e30}, NOW, 60)


def test_a_stored_schedule_that_cannot_be_computed_raises_unschedulable() -> None:
    """Registrations stored before CREATE refused them: the timer ends them (not a crash)."""
    feb31: dict[str, Any] = {"kind": "cron", "payload": {}, "cron": "0 0 31 2 *", "timezone": None}
    with pytest.raises(Unschedulable):
        alarms.first_due(feb31, NOW)
    far: dict[str, Any] = {"kind": "cron", "payload": {}, "cron": "* * * * *", "timezone": None}
    with pytest.raises(Unschedulable):
        alarms.first_due({**far, "start_ms": 10**30}, NOW)
    once = {"kind": "once", "payload": {}, "date": 1e30, "date_ms": 10**30}
    with pytest.raises(Unschedulable, match="past 9999-12-31"):
        alarms.first_due(once, NOW)
    huge = create("interval", minutes=10**13)
    assert alarms.first_due(huge, NOW)[0] == NOW + 30_000
    with pytest.raises(Unschedulable):
        alarms.after_fire(huge, NOW + 30_000, NOW + 30_000, 1)


# -- maxTriggers (D7) --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "limit"),
    [(2, 2), ("2", 2), (" 3 ", 3), (True, 1), (2.5, 3), (0, None), ("0", None), (-1, None)],
)
def test_max_triggers_is_coerced_as_the_cron_provider_counts_it(value: Any, limit: int) -> None:
    config = create("cron", cron="* * * * * *", maxTriggers=value)
    assert config.get("maxTriggers") == limit


def test_a_string_max_triggers_ends_the_alarm_after_that_many_fires() -> None:
    config = create("cron", cron="* * * * * *", maxTriggers="2")
    assert alarms.after_fire(config, NOW, NOW, 1)[1] is None
    assert alarms.after_fire(config, NOW, NOW, 2) == (
        None,
        "Automatically disabled after reaching max triggers",
    )


def test_max_triggers_that_is_no_number_is_refused() -> None:
    with pytest.raises(BadParameters, match=r"^maxTriggers parameter 'two' is not a number$"):
        create("cron", cron="* * * * *", maxTriggers="two")


def test_an_interval_ignores_max_triggers_as_openwhisks_provider_does() -> None:
    config = create("interval", minutes=1, maxTriggers=1)
    assert "maxTriggers" not in config
    # Also a registration stored with one (before this was fixed) fires on.
    stored = {**config, "maxTriggers": 1}
    assert alarms.after_fire(stored, NOW + 30_000, NOW + 30_000, 1) == (NOW + 90_000, None)


# -- minutes (D8) ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "minutes"), [(2, 2), ("2", 2), ("1e0", 1), (" 3 ", 3), ("0x10", 16), (2.0, 2)]
)
def test_minutes_are_read_as_openwhisk_reads_them(value: Any, minutes: int) -> None:
    config = create("interval", minutes=value)
    assert config["minutes"] == minutes and isinstance(config["minutes"], int)
    assert config["period_ms"] == minutes * MINUTE


@pytest.mark.parametrize("value", [1.5, 1e300, "abc", True, "1.5", 1e21, {"m": 1}])
def test_minutes_that_are_no_integer_are_refused(value: Any) -> None:
    with pytest.raises(BadParameters, match=r"^the minutes parameter must be an integer$"):
        create("interval", minutes=value)
    config = create("interval", minutes=1)
    with pytest.raises(BadParameters, match=r"^the minutes parameter must be an integer$"):
        alarms.update_config(config, {"minutes": value}, NOW, 60)


def test_fractions_below_a_minute_need_the_setting_and_stay_fractions() -> None:
    assert create("interval", min_interval_s=1, minutes=0.5)["minutes"] == 0.5
    with pytest.raises(BadParameters, match=r"^the minutes parameter must be an integer$"):
        create("interval", min_interval_s=1, minutes=1.5)
    with pytest.raises(BadParameters, match=r"^the minutes parameter must be an integer$"):
        create("interval", min_interval_s=1, minutes=1e300)
    with pytest.raises(
        BadParameters, match=r"^the minutes parameter must be an integer greater than zero$"
    ):
        create("interval", minutes="0")


def test_read_leaves_out_what_was_never_given() -> None:
    interval = create("interval", minutes="2")
    assert alarms.read_config({"namespace": "ns", "trigger": "t", "config": interval}) == {
        "name": "t",
        "namespace": "ns",
        "payload": {},
        "strict": False,
        "startDate": NOW + 30_000,
        "minutes": 2,
    }
