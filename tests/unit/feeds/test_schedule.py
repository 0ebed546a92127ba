"""feeds/schedule.py: cron with 5 or 6 fields and time zones, intervals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feeds.schedule import BadSchedule, next_cron_ms, next_interval_ms, parse_cron


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_six_fields_put_seconds_first_as_openwhisk_does() -> None:
    cron = parse_cron("*/30 * * * * *")
    assert next_cron_ms(cron, ms("2026-01-01T00:00:00")) == ms("2026-01-01T00:00:30")
    assert next_cron_ms(cron, ms("2026-01-01T00:00:30")) == ms("2026-01-01T00:01:00")


def test_five_fields_fire_at_the_minute() -> None:
    cron = parse_cron("*/2 * * * *")
    assert next_cron_ms(cron, ms("2026-01-01T00:00:10")) == ms("2026-01-01T00:02:00")


def test_the_next_fire_is_strictly_after() -> None:
    cron = parse_cron("* * * * * *")
    assert next_cron_ms(cron, ms("2026-01-01T00:00:00")) == ms("2026-01-01T00:00:01")
    assert next_cron_ms(cron, ms("2026-01-01T00:00:00") + 500) == ms("2026-01-01T00:00:01")


def test_a_time_zone_moves_the_hour() -> None:
    cron = parse_cron("0 9 * * *", "Europe/Paris")
    # 9:00 in Paris in winter is 8:00 UTC.
    assert next_cron_ms(cron, ms("2026-01-01T00:00:00")) == ms("2026-01-01T08:00:00")


@pytest.mark.parametrize(
    ("expression", "timezone", "message"),
    [
        ("nope", None, "cron pattern 'nope' is not valid"),
        ("* * *", None, "cron pattern '* * *' is not valid"),
        ("61 * * * *", None, "cron pattern '61 * * * *' is not valid"),
        ("* * * * * * *", None, "cron pattern '* * * * * * *' is not valid"),
        ("* * * * *", "Mars/Olympus", "Invalid timezone."),
    ],
)
def test_what_does_not_parse_is_refused_with_openwhisks_text(
    expression: str, timezone: str | None, message: str
) -> None:
    with pytest.raises(BadSchedule, match=r"^" + message.replace("*", r"\*") + "$"):
        parse_cron(expression, timezone)


def test_intervals_count_from_their_start() -> None:
    assert next_interval_ms(1_000, 500, 0) == 1_000
    assert next_interval_ms(1_000, 500, 999) == 1_000
    assert next_interval_ms(1_000, 500, 1_000) == 1_500
    assert next_interval_ms(1_000, 500, 10_250) == 10_500
