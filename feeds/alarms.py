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
Parameters are read with JavaScript's conversions as OpenWhisk's action reads
them (``feeds/jsvalues.py``): ``minutes: "2"`` is 2, ``maxTriggers: "2"`` is 2,
``startDate: 1e30`` is not a valid Date.

Differences, on purpose: ``minutes`` may be a fraction below one minute when
``LEDGERWHISK_FEEDS_MIN_INTERVAL_S`` allows it (tests use seconds), and an
interval with no ``startDate`` first fires one interval after it was created,
or 30 s after if that is sooner (OpenWhisk: 30 s after). Refused at CREATE
and UPDATE, which OpenWhisk accepts: a date past 9999-12-31 (JavaScript's
reach the year 275760; its provider waits for them), a cron no date matches
(``0 0 31 2 *``: node ``cron`` 1.8.2's ``_verifyParse`` quietly moves day 31
to day 31 % 29 = 2 of February), and a ``maxTriggers`` that is not a number
(the provider's ``triggersLeft > 0`` is then never true: it never fires).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from feeds import FeedError
from feeds.jsvalues import MAX_DATE_MS, js_date_ms, js_number, js_parse_int, js_string, js_truthy
from feeds.schedule import (
    CATCH_UP_SLACK_MS,
    BadSchedule,
    Unschedulable,
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
    """An OpenWhisk date (``new Date(value)``): epoch milliseconds (a number; ``true`` is 1),
    or an ISO 8601 string; None when it is not a date or is past 9999-12-31."""
    if isinstance(value, bool | int | float):
        return js_date_ms(value)
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
    """A date parameter that is valid, in the future and after ``start`` (value, ms) if given;
    ``BadParameters`` with OpenWhisk's text (``validateDate``), the value as JavaScript
    prints it (``1e+30``, ``true``)."""
    ms = date_ms(value)
    shown = js_string(value)
    if ms is None:
        raise BadParameters(m.ALARM_DATE_INVALID.format(name=name, date=shown))
    if ms <= now_ms:
        raise BadParameters(m.ALARM_DATE_PAST.format(name=name, date=shown))
    if start is not None and ms <= start[1]:
        raise BadParameters(
            m.ALARM_DATE_BEFORE_START.format(name=name, date=shown, start=js_string(start[0]))
        )
    return ms


def minutes_of(value: object, min_interval_s: float) -> tuple[int | float, int]:
    """``minutes`` as OpenWhisk stores it and the period in ms: ``(2, 120000)`` for ``"2"``.

    OpenWhisk (``alarmWebAction.js`` CREATE and UPDATE): ``+minutes !== parseInt(minutes)``
    is "the minutes parameter must be an integer" (1.5, 1e300, "abc", true), then
    ``parseInt(minutes) <= 0`` "... greater than zero". Under a
    ``LEDGERWHISK_FEEDS_MIN_INTERVAL_S`` below 60, a fraction below one minute is taken
    as it is. Raises ``BadParameters``; a period under the setting is refused too.
    """
    number, whole = js_number(value), js_parse_int(value)
    minutes: int | float
    if number == whole and math.isfinite(whole):
        minutes = int(whole)
        if minutes <= 0:
            raise BadParameters(m.ALARM_MINUTES_NOT_POSITIVE)
    elif min_interval_s < 60 and 0 < number < 1:
        minutes = number
    else:
        raise BadParameters(m.ALARM_MINUTES_NOT_INTEGER)
    if minutes * 60 < min_interval_s:
        raise BadParameters(
            m.ALARM_MINUTES_TOO_SHORT.format(minimum=min_interval_s / 60, seconds=min_interval_s)
        )
    return minutes, round(minutes * 60_000)


def max_triggers_of(value: object) -> int | None:
    """``maxTriggers`` as the cron provider counts it down, None for no limit.

    OpenWhisk stores ``maxTriggers || -1`` as given and ``triggersLeft--`` coerces it
    (``provider/lib/cronAlarm.js``, ``utils.js`` ``postTrigger``): ``"2"`` stops after two
    fires like ``2``, ``true`` after one; 0 and -1 have no limit (as any value below
    zero here: OpenWhisk's -2 never fires); a fraction fires while some is left (``2.5``:
    three fires). Raises
    ``BadParameters`` for a value that is not a number (OpenWhisk's never fire).
    """
    if not js_truthy(value):
        return None
    number = js_number(value)
    if math.isnan(number):
        raise BadParameters(m.ALARM_MAX_TRIGGERS_NOT_NUMBER.format(value=js_string(value)))
    if number <= 0:
        return None
    return math.ceil(number) if math.isfinite(number) else None


def check_schedulable(config: JsonDict, now_ms: int) -> None:
    """``BadParameters`` when the first fire of a cron cannot be computed (no date
    matches it, or none before the year 10000)."""
    if config["kind"] != CRON:
        return
    try:
        next_due(config, now_ms)
    except Unschedulable as exc:
        raise BadParameters(m.ALARM_CRON_NEVER_DUE.format(cron=config["cron"])) from exc


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
        if not js_truthy(params.get("minutes")):
            raise BadParameters(m.ALARM_NO_MINUTES)
        config["minutes"], config["period_ms"] = minutes_of(params["minutes"], min_interval_s)
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
        check_schedulable(config, now_ms)
        if kind == CRON and next_due(config, now_ms) is None:
            raise BadParameters(m.ALARM_FIRST_FIRE_AFTER_STOP)
    # Only the cron provider counts fires down (an interval ignores maxTriggers:
    # provider/lib/intervalAlarm.js keeps no maxTriggers, so it fires until stopDate).
    max_triggers = max_triggers_of(params.get("maxTriggers")) if kind == CRON else None
    if max_triggers is not None:
        config["maxTriggers"] = max_triggers
    check_schedulable(config, now_ms)
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
        if kind == INTERVAL and js_truthy(params.get("minutes")):
            new["minutes"], new["period_ms"] = minutes_of(params["minutes"], min_interval_s)
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
                m.ALARM_START_AFTER_STOP.format(
                    start=js_string(params["startDate"]), stop=js_string(config["stopDate"])
                )
            )
    if not changed:
        raise BadParameters(m.ALARM_NOTHING_TO_UPDATE)
    check_schedulable(new, now_ms)
    return new


def read_config(registration: JsonDict) -> JsonDict:
    """READ's ``config`` as OpenWhisk's alarms provider answers it: ``name``,
    ``namespace``, ``payload``, ``strict``, then ``date`` and ``deleteAfterFire`` (once),
    or ``startDate``, ``stopDate`` and ``minutes`` (interval) or ``cron`` and ``timezone``;
    a value never given is left out, as JSON drops JavaScript's ``undefined``."""
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
    return {k: v for k, v in out.items() if v is not None}


# -- when it fires ---------------------------------------------------------------
def next_due(config: JsonDict, after_ms: int) -> int | None:
    """The first fire strictly after ``after_ms`` (and not before ``startDate``), or None
    when none comes before ``stopDate`` (or the one date has passed). Raises
    ``Unschedulable`` when the next moment cannot be computed (a cron no date matches) or
    is past 9999-12-31 (a registration stored before such dates were refused)."""
    kind = config["kind"]
    if kind == ONCE:
        due = config["date_ms"] if config["date_ms"] > after_ms else None
    else:
        start = config.get("start_ms")
        if kind == INTERVAL:
            due = next_interval_ms(config["start_ms"], config["period_ms"], after_ms)
        else:
            floor = after_ms if start is None else max(after_ms, start - 1)
            due = next_cron_ms(parse_cron(config["cron"], config.get("timezone")), floor)
        stop = config.get("stop_ms")
        if stop is not None and due > stop:
            return None
    if due is not None and due > MAX_DATE_MS:
        raise Unschedulable(m.ALARM_PAST_LAST_DATE.format(ms=js_string(due)))
    return due


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
    max_triggers = config.get("maxTriggers") if kind == CRON else None
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
