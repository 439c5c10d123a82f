"""Report periods and deadlines, in the mission's time zone.

A daily report covers one local day and is due that day at the schedule's time (18:00 by
default); a weekly report covers an ISO week, Monday to Sunday, and is due on the chosen day of
the following week (Monday 12:00 by default).
"""

import zoneinfo
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from kiungo.missions.models import Mission
from kiungo.reports.models import Kind, ReportingSchedule


def zone(mission: Mission):
    return zoneinfo.ZoneInfo(mission.time_zone)


def local_today(mission: Mission, now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), zone(mission)).date()


def week_start(day: date) -> date:
    """The Monday of `day`'s ISO week."""
    return day - timedelta(days=day.weekday())


def period_of(kind: str, day: date) -> tuple[date, date]:
    """The period of a `kind` report holding `day`: (first day, last day)."""
    if kind == Kind.WEEKLY:
        start = week_start(day)
        return start, start + timedelta(days=6)
    return day, day


def schedule_for(mission: Mission) -> ReportingSchedule:
    """The mission's schedule, or the default one (not saved) when it has none."""
    try:
        return mission.reporting_schedule
    except ReportingSchedule.DoesNotExist:
        return ReportingSchedule(mission=mission)


def _at(mission: Mission, day: date, at) -> datetime:
    if isinstance(at, str):  # a default not yet read back from the database
        at = time.fromisoformat(at)
    return datetime.combine(day, at, tzinfo=zone(mission))


def deadline(schedule: ReportingSchedule, kind: str, period_start: date) -> datetime:
    """When the report for the period starting `period_start` is due (aware)."""
    mission = schedule.mission
    if kind == Kind.WEEKLY:
        due_day = period_start + timedelta(days=7 + schedule.weekly_due_weekday)
        return _at(mission, due_day, schedule.weekly_due)
    return _at(mission, period_start, schedule.daily_due)


def current_period(schedule: ReportingSchedule, kind: str, now: datetime) -> date:
    """The start of the period whose deadline is the next one to come (or just past):
    today for daily reports, last week for weekly ones until their deadline has passed."""
    today = local_today(schedule.mission, now)
    if kind == Kind.WEEKLY:
        last_week = week_start(today) - timedelta(days=7)
        return last_week
    return today
