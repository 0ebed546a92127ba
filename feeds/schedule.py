"""When an alarm fires: cron (5 or 6 fields, a time zone), fixed intervals, one date (pure).

Times are epoch milliseconds. A 6-field cron has the seconds first, as
OpenWhisk's alarms provider reads it (node ``cron``: ``*/30 * * * * *`` is
every thirty seconds); croniter does the parsing and iteration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterError

from feeds import FeedError
from streams.messages import ALARM_BAD_CRON, ALARM_BAD_TIMEZONE

# An alarm more than this late is a missed fire: it fires once, and the
# schedule goes on from now (at most one catch-up fire per trigger).
CATCH_UP_SLACK_MS = 1_000


class BadSchedule(FeedError):
    """A cron expression or time zone that cannot be used; the message is OpenWhisk's."""


class Unschedulable(FeedError):
    """A valid schedule whose next moment cannot be computed (none comes, or it is past
    year 9999); the message says why, for the log and READ's ``reason``."""


@dataclass(frozen=True)
class Cron:
    """A checked cron expression (5 or 6 fields) and the time zone it is read in."""

    expression: str
    timezone: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone or "UTC")


def parse_cron(expression: object, timezone: object = None) -> Cron:
    """The cron, or ``BadSchedule`` with OpenWhisk's text ("cron pattern '...' is not valid",
    "Invalid timezone.")."""
    if timezone is not None and timezone != "":
        if not isinstance(timezone, str):
            raise BadSchedule(ALARM_BAD_TIMEZONE)
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise BadSchedule(ALARM_BAD_TIMEZONE) from exc
    text = str(expression).strip()
    fields = text.split()
    if not isinstance(expression, str) or len(fields) not in (5, 6):
        raise BadSchedule(ALARM_BAD_CRON.format(cron=expression))
    try:
        croniter(" ".join(fields), datetime.now(UTC), second_at_beginning=True)
    except (CroniterError, ValueError, KeyError) as exc:
        raise BadSchedule(ALARM_BAD_CRON.format(cron=expression)) from exc
    return Cron(" ".join(fields), timezone or None)


def next_cron_ms(cron: Cron, after_ms: int) -> int:
    """The first moment the cron names strictly after ``after_ms``.

    Raises ``Unschedulable`` when there is none to compute: no date matches the cron
    (``0 0 31 2 *``; croniter looks 50 years ahead) or the moment is past year 9999.
    """
    try:
        start = datetime.fromtimestamp(after_ms / 1000, tz=cron.zone)
        it = croniter(cron.expression, start, second_at_beginning=True)
        return round(it.get_next(float) * 1000)
    except (CroniterError, ValueError, OverflowError, OSError) as exc:
        raise Unschedulable(f"{cron.expression}: {exc}") from exc


def next_interval_ms(start_ms: int, period_ms: int, after_ms: int) -> int:
    """The first of ``start_ms + k * period_ms`` (k >= 0) strictly after ``after_ms``.

    >>> next_interval_ms(1000, 500, 999), next_interval_ms(1000, 500, 1000)
    (1000, 1500)
    """
    if after_ms < start_ms:
        return start_ms
    return start_ms + ((after_ms - start_ms) // period_ms + 1) * period_ms
