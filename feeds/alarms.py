"""The alarms feeds' parameters, READ answers and schedules (pure).

Copies OpenWhisk's alarms provider (apache/openwhisk-package-alarms,
``action/alarmWebAction.js`` for parameters and errors, ``provider/lib/*Alarm.js``
and ``utils.js`` for when an alarm fires and ends): ``alarm`` (``cron``,
``timezone``, ``startDate``, ``stopDate``, ``maxTriggers``, ``strict``),
``interval`` (``minutes``, ``startDate``, ``stopDate``) and ``once`` (``date``,
``deleteAfterFire``); each takes ``trigger_payload``.

A registration's ``config`` (what this module returns and reads) is a dict:
``kind`` ("cron", "interval", "once"), ``payload`` (the fire's body), the
user's values under OpenWhisk's names for READ, and the moments as epoch
milliseconds: ``start_ms``, ``stop_ms``, ``date_ms``, ``period_ms``.
Differences, on purpose: ``minutes`` may be a fraction of a minute when
``LEDGERWHISK_FEEDS_MIN_INTERVAL_S`` allows it (tests use seconds), and an
interval with no ``startDate`` first fires one interval after it was created,
or 30 s after if that is sooner (OpenWhisk: 30 s after).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from feeds import FeedError
from feeds.schedule import (
    CATCH_UP_SLACK_MS,
    BadSchedule,
    next_cron_ms,
    next_interval_ms,
    parse_cron,
)
from streams import messages as m

JsonDict = dict[str, Any]
CRON, INTERVAL, ONCE = "cron", "interval", "once"
KIND_OF_ACTION = {"alarm": CRON, "interval": INTERVAL, "once": ONCE}
DELETE_AFTER_FIRE = ("false", "true", "rules")
FIRST_INTERVAL_MAX_MS = 30_000


class BadParameters(FeedError):
    """Parameters a feed action refuses; the message is the user's answer (OpenWhisk's text)."""


def payload_of(value: object) -> JsonDict:
    """``trigger_payload`` as the fire's body: an object as it is, a string as ``{payload}``."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        return {"payload": value}
    return {}


def date_ms(value: object) -> int | None:
    """An OpenWhisk date: epoch milliseconds, or an ISO 8601 string; None when not a date."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return int(parsed.timestamp() * 1000)
    return None


def checked_date(value: object, name: str, now_ms: int, start: tuple[object, int] | None) -> int:
    """A date parameter that is valid, in the future and after ``start`` (value, ms) if given."""
    ms = date_ms(value)
    if ms is None:
        raise BadParameters(m.ALARM_DATE_INVALID.format(name=name, date=value))
    if ms <= now_ms:
        raise BadParameters(m.ALARM_DATE_PAST.format(name=name, date=value))
    if start is not None and ms <= start[1]:
        raise BadParameters(m.ALARM_DATE_BEFORE_START.format(name=name, date=value, start=start[0]))
    return ms


def minutes_ms(value: object, min_interval_s: float) -> int:
    """``minutes`` as a period in ms: an integer (or, under a lower setting, any number) > 0."""
    try:
        minutes = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise BadParameters(m.ALARM_MINUTES_NOT_INTEGER) from exc
    if isinstance(value, bool) or not math.isfinite(minutes):
        raise BadParameters(m.ALARM_MINUTES_NOT_INTEGER)
    if minutes <= 0:
        raise BadParameters(m.ALARM_MINUTES_NOT_POSITIVE)
    if minutes * 60 < min_interval_s:
        if min_interval_s >= 60 and not minutes.is_integer():
            raise BadParameters(m.ALARM_MINUTES_NOT_INTEGER)
        raise BadParameters(
            m.ALARM_MINUTES_TOO_SHORT.format(minimum=min_interval_s / 60, seconds=min_interval_s)
        )
    return round(minutes * 60_000)


def create_config(kind: str, params: JsonDict, now_ms: int, min_interval_s: float) -> JsonDict:
    """The config of a new alarm of ``kind`` from the feed action's parameters.

    Raises ``BadParameters`` with OpenWhisk's text for each check it makes, in its order.
    """
    config: JsonDict = {"kind": kind, "payload": payload_of(params.get("trigger_payload"))}
    if kind == ONCE:
        if not params.get("date"):
            raise BadParameters(m.ALARM_ONCE_NO_DATE)
        config["date"] = params["date"]
        config["date_ms"] = checked_date(params["date"], "date", now_ms, None)
        config["deleteAfterFire"] = delete_after_fire(params.get("deleteAfterFire"))
        return config
    if kind == INTERVAL:
        if not params.get("minutes"):
            raise BadParameters(m.ALARM_NO_MINUTES)
        config["minutes"] = params["minutes"]
        config["period_ms"] = minutes_ms(params["minutes"], min_interval_s)
    else:
        if not params.get("cron"):
            raise BadParameters(m.ALARM_NO_CRON)
        try:
            cron = parse_cron(params["cron"], params.get("timezone"))
        except BadSchedule as exc:
            raise BadParameters(str(exc)) from exc
        config.update(cron=cron.expression, timezone=cron.timezone)
        if "strict" in params:
            config["strict"] = params["strict"]
    if params.get("startDate"):
        config["startDate"] = params["startDate"]
        config["start_ms"] = checked_date(params["startDate"], "startDate", now_ms, None)
    elif kind == INTERVAL:
        config["start_ms"] = now_ms + min(config["period_ms"], FIRST_INTERVAL_MAX_MS)
    if params.get("maxTriggers") and params.get("stopDate"):
        raise BadParameters(
            m.ALARM_MAX_TRIGGERS_INTERVAL if kind == INTERVAL else m.ALARM_MAX_TRIGGERS_STOP_DATE
        )
    if params.get("stopDate"):
        start = (config["startDate"], config["start_ms"]) if "startDate" in config else None
        config["stopDate"] = params["stopDate"]
        config["stop_ms"] = checked_date(params["stopDate"], "stopDate", now_ms, start)
        if kind == CRON and next_due(config, now_ms) is None:
            raise BadParameters(m.ALARM_FIRST_FIRE_AFTER_STOP)
    max_triggers = params.get("maxTriggers")
    if isinstance(max_triggers, int) and not isinstance(max_triggers, bool) and max_triggers > 0:
        config["maxTriggers"] = max_triggers
    return config


def delete_after_fire(value: object) -> str:
    if value is None or value == "" or value is False:
        return "false"
    text = str(value).strip().lower()
    if text not in DELETE_AFTER_FIRE:
        raise BadParameters(m.ALARM_DELETE_AFTER_FIRE)
    return text


def update_config(
    config: JsonDict, params: JsonDict, now_ms: int, min_interval_s: float
) -> JsonDict:
    """The config after an UPDATE; ``BadParameters`` as OpenWhisk's provider answers it."""
    new = dict(config)
    changed = False
    if params.get("trigger_payload"):
        new["payload"] = payload_of(params["trigger_payload"])
        changed = True
    kind = config["kind"]
    if kind == ONCE:
        if params.get("date"):
            new["date"] = params["date"]
            new["date_ms"] = checked_date(params["date"], "date", now_ms, None)
            changed = True
        if params.get("deleteAfterFire"):
            new["deleteAfterFire"] = delete_after_fire(params["deleteAfterFire"])
            changed = True
    else:
        if kind == INTERVAL and params.get("minutes"):
            new["minutes"] = params["minutes"]
            new["period_ms"] = minutes_ms(params["minutes"], min_interval_s)
            changed = True
        if kind == CRON and (params.get("cron") or params.get("timezone")):
            try:
                cron = parse_cron(
                    params.get("cron") or config["cron"],
                    params.get("timezone") or config["timezone"],
                )
            except BadSchedule as exc:
                raise BadParameters(str(exc)) from exc
            new.update(cron=cron.expression, timezone=cron.timezone)
            changed = True
        if kind == CRON and "strict" in params:
            new["strict"] = params["strict"]
            changed = True
        if params.get("startDate"):
            new["startDate"] = params["startDate"]
            new["start_ms"] = checked_date(params["startDate"], "startDate", now_ms, None)
            changed = True
        if params.get("stopDate"):
            start = (new["startDate"], new["start_ms"]) if "startDate" in new else None
            new["stopDate"] = params["stopDate"]
            new["stop_ms"] = checked_date(params["stopDate"], "stopDate", now_ms, start)
            changed = True
        elif (
            params.get("startDate") and "stop_ms" in config and new["start_ms"] >= config["stop_ms"]
        ):
            raise BadParameters(
                m.ALARM_START_AFTER_STOP.format(start=params["startDate"], stop=config["stopDate"])
            )
    if not changed:
        raise BadParameters(m.ALARM_NOTHING_TO_UPDATE)
    return new


def read_config(registration: JsonDict) -> JsonDict:
    """READ's ``config`` as OpenWhisk's alarms provider answers it."""
    config = registration["config"]
    out: JsonDict = {
        "name": registration["trigger"],
        "namespace": registration["namespace"],
        "payload": config["payload"],
        "strict": config.get("strict", False),
    }
    if config["kind"] == ONCE:
        out.update(date=config["date"], deleteAfterFire=config["deleteAfterFire"])
        return out
    out.update(
        startDate=config.get("startDate", config.get("start_ms")), stopDate=config.get("stopDate")
    )
    if config["kind"] == INTERVAL:
        out["minutes"] = config["minutes"]
    else:
        out.update(cron=config["cron"], timezone=config.get("timezone"))
    return out


# -- when it fires ---------------------------------------------------------------
def next_due(config: JsonDict, after_ms: int) -> int | None:
    """The first fire strictly after ``after_ms`` (and not before ``startDate``), or None
    when none comes before ``stopDate`` (or the one date has passed)."""
    kind = config["kind"]
    if kind == ONCE:
        return config["date_ms"] if config["date_ms"] > after_ms else None
    start = config.get("start_ms")
    if kind == INTERVAL:
        due = next_interval_ms(config["start_ms"], config["period_ms"], after_ms)
    else:
        floor = after_ms if start is None else max(after_ms, start - 1)
        due = next_cron_ms(parse_cron(config["cron"], config.get("timezone")), floor)
    stop = config.get("stop_ms")
    return None if stop is not None and due > stop else due


def after_fire(
    config: JsonDict, due_ms: int, now_ms: int, fired: int
) -> tuple[int | None, str | None]:
    """After the fire due at ``due_ms`` (the ``fired``-th), at ``now_ms``: the next due
    moment, or None and why the alarm ends (OpenWhisk's texts).

    A fire far behind its time (the service was down) is the one catch-up fire:
    the schedule goes on from now, skipping the other missed moments.
    """
    kind = config["kind"]
    if kind == ONCE:
        return None, m.ALARM_ENDED_ONCE
    max_triggers = config.get("maxTriggers")
    if max_triggers is not None and fired >= max_triggers:
        return None, m.ALARM_ENDED_MAX_TRIGGERS
    due = next_due(config, due_ms)
    if due is not None and due < now_ms - CATCH_UP_SLACK_MS:
        due = next_due(config, now_ms)
    if due is None:
        return None, m.ALARM_ENDED_LAST_INTERVAL if kind == INTERVAL else m.ALARM_ENDED_LAST_CRON
    return due, None


def first_due(config: JsonDict, since_ms: int) -> tuple[int | None, str | None]:
    """The first fire of a schedule that (re)started at ``since_ms``, or None and why not."""
    due = next_due(config, since_ms - 1)
    if due is None:
        return None, m.ALARM_ENDED_EXPIRED
    return due, None
