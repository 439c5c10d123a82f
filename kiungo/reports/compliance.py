"""Who must report when, who did (on time or late), who did not, and the reminders and
notices that follow from it.

`expected_reporters` is THE rule for who is expected to report; everything else (the
dashboard, reminders, notices to managers) asks it. Statuses are computed from a handful of
queries per mission and period (deployments, reports, notices), never per CLA or per day, so a
few hundred CLAs over a month stay cheap.

Worker tasks (run by `manage.py worker`):
- `send_reminders`: in the window before a deadline (the schedule's `remind_before`), an SMS
  to each expected CLA who has not submitted yet, through the mission's notification channel;
- `tell_managers`: after a deadline (within NOTICE_WINDOW), one e-mail to each supervisor
  listing their CLAs whose report is missing.
Each message is queued in the transaction that inserts its `Notice` row; the row's unique
constraint lets one worker (or one pass after a restart) win, and the other's transaction,
queued message included, is rolled back.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kiungo.alerts.notify import language_for
from kiungo.lib import worker
from kiungo.messaging.models import Purpose
from kiungo.messaging.outbox import notification_channel, queue_email, queue_sms
from kiungo.missions.models import Mission
from kiungo.people.models import Absence, CLAProfile, Deployment
from kiungo.reports import periods
from kiungo.reports.models import Kind, Notice, Report, ReportingSchedule

logger = logging.getLogger(__name__)

NOTICE_WINDOW = timedelta(hours=12)  # after a deadline, managers are told within this time


def expected_reporters(
    mission: Mission, first_day: date, last_day: date | None = None
) -> dict[int, set[date]]:
    """Which CLAs must report on which days, from `first_day` to `last_day` (included):
    {CLA profile id: {days}}.

    A CLA is expected on a day when a deployment at one of the mission's bases covers the day
    (an open one, for today), their account is active and no recorded absence (leave,
    sickness, training, travel: people/deployment.py) covers the day. Decided here, and only
    here.
    """
    last_day = last_day or first_day
    deployments = Deployment.objects.filter(
        base__mission=mission, cla__user__is_active=True, starts_on__lte=last_day
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=first_day))
    expected: dict[int, set[date]] = defaultdict(set)
    for cla_id, starts_on, ends_on in deployments.values_list("cla_id", "starts_on", "ends_on"):
        day = max(starts_on, first_day)
        end = min(ends_on or last_day, last_day)
        while day <= end:
            expected[cla_id].add(day)
            day += timedelta(days=1)
    absences = Absence.objects.filter(
        cla_id__in=list(expected), starts_on__lte=last_day, ends_on__gte=first_day
    )
    for cla_id, starts_on, ends_on in absences.values_list("cla_id", "starts_on", "ends_on"):
        day = max(starts_on, first_day)
        while day <= min(ends_on, last_day):
            expected[cla_id].discard(day)
            day += timedelta(days=1)
    return {cla_id: days for cla_id, days in expected.items() if days}


class State:
    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"
    PENDING = "pending"  # not sent yet, deadline still ahead
    NOT_EXPECTED = "not_expected"


@dataclass
class Cell:
    state: str
    report_id: int | None = None
    status: str = ""  # the report's status (a draft is still missing)


@dataclass
class Tally:
    expected: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    pending: int = 0

    def add(self, state: str) -> None:
        if state == State.NOT_EXPECTED:
            return
        self.expected += 1
        setattr(self, state, getattr(self, state) + 1)

    def merge(self, other: "Tally") -> None:
        for name in ("expected", "on_time", "late", "missing", "pending"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def share_on_time(self) -> float | None:
        due = self.expected - self.pending
        return self.on_time / due if due else None


@dataclass
class Compliance:
    """Per CLA, per period start: the cell; and the tally of each CLA."""

    kind: str
    periods: list[date]
    cells: dict[int, dict[date, Cell]] = field(default_factory=dict)
    tallies: dict[int, Tally] = field(default_factory=dict)


def compliance(
    mission: Mission,
    kind: str,
    first_day: date,
    last_day: date,
    cla_ids=None,
    now: datetime | None = None,
) -> Compliance:
    """Each CLA's daily (or weekly) reporting from `first_day` to `last_day`: on time, late,
    missing or still pending, against the mission's schedule. `cla_ids` limits the CLAs."""
    now = now or timezone.now()
    schedule = periods.schedule_for(mission)
    if kind == Kind.WEEKLY:
        first_day = periods.week_start(first_day)
        starts = []
        day = first_day
        while day <= last_day:
            starts.append(day)
            day += timedelta(days=7)
        span_end = (starts[-1] + timedelta(days=6)) if starts else last_day
    else:
        starts = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
        span_end = last_day
    expected = expected_reporters(mission, first_day, span_end)
    if cla_ids is not None:
        wanted = set(cla_ids)
        expected = {cla: days for cla, days in expected.items() if cla in wanted}
    reports = Report.objects.filter(
        mission=mission, kind=kind, period_start__gte=first_day, period_start__lte=last_day
    )
    if cla_ids is not None:
        reports = reports.filter(cla_id__in=list(expected))
    sent = {
        (cla_id, start): (pk, status, submitted_at)
        for pk, cla_id, start, status, submitted_at in reports.values_list(
            "pk", "cla_id", "period_start", "status", "submitted_at"
        )
    }
    deadlines = {start: periods.deadline(schedule, kind, start) for start in starts}
    result = Compliance(kind=kind, periods=starts)
    for cla_id, days in expected.items():
        row, tally = {}, Tally()
        for start in starts:
            if kind == Kind.WEEKLY:
                is_expected = any(start + timedelta(days=n) in days for n in range(7))
            else:
                is_expected = start in days
            pk, status, submitted_at = sent.get((cla_id, start), (None, "", None))
            if submitted_at is not None:
                state = State.ON_TIME if submitted_at <= deadlines[start] else State.LATE
            elif not is_expected:
                state = State.NOT_EXPECTED
            elif now < deadlines[start]:
                state = State.PENDING
            else:
                state = State.MISSING
            if not is_expected and state != State.NOT_EXPECTED:
                state_for_tally = State.NOT_EXPECTED  # sent while not expected: not counted
            else:
                state_for_tally = state
            row[start] = Cell(state, pk, status)
            tally.add(state_for_tally)
        result.cells[cla_id] = row
        result.tallies[cla_id] = tally
    return result


def missing_now(mission: Mission, kind: str, period_start: date, now: datetime) -> list[CLAProfile]:
    """The CLAs expected for the period who have not submitted its report (a draft does not
    count)."""
    if kind == Kind.WEEKLY:
        expected = expected_reporters(mission, period_start, period_start + timedelta(days=6))
    else:
        expected = expected_reporters(mission, period_start)
    sent = set(
        Report.objects.filter(
            mission=mission,
            kind=kind,
            period_start=period_start,
            cla_id__in=list(expected),
            submitted_at__isnull=False,
        ).values_list("cla_id", flat=True)
    )
    return list(
        CLAProfile.objects.filter(pk__in=[c for c in expected if c not in sent])
        .select_related("user", "base", "supervisor")
        .order_by("staff_id")
    )


def _schedules() -> list[ReportingSchedule]:
    """Every open mission's schedule (the default for missions without one)."""
    missions = Mission.objects.filter(closed_on__isnull=True).select_related("reporting_schedule")
    return [periods.schedule_for(mission) for mission in missions]


def _cla_language(mission: Mission, cla: CLAProfile) -> str:
    preferred = next((code for code in cla.languages if code in ("fr", "en")), "")
    return language_for(mission, preferred)


def send_reminders(now: datetime | None = None) -> int:
    """Remind, by SMS, each expected CLA who has not sent the report due next. Returns the
    reminders queued by this call."""
    now = now or timezone.now()
    queued = 0
    for schedule in _schedules():
        if not schedule.remind_before:
            continue
        window = timedelta(minutes=schedule.remind_before)
        for kind in (Kind.DAILY, Kind.WEEKLY):
            start = periods.current_period(schedule, kind, now)
            due = periods.deadline(schedule, kind, start)
            if not (due - window <= now < due):
                continue
            queued += _remind(schedule.mission, kind, start, due, now)
    return queued


def claimed(mission: Mission, what: str, kind: str, start: date) -> set[int]:
    """Who was already sent this notice (CLA ids for reminders, supervisor ids for notices):
    read first to skip them cheaply; the unique constraints still decide a race."""
    field_name = "cla_id" if what == Notice.What.REMINDER else "supervisor_id"
    return set(
        Notice.objects.filter(
            mission=mission, what=what, kind=kind, period_start=start
        ).values_list(field_name, flat=True)
    )


def _remind(mission: Mission, kind: str, start: date, due: datetime, now: datetime) -> int:
    channel = notification_channel(mission.pk)
    if channel is None:
        return 0  # nothing can be sent: nothing is claimed, a later pass may send
    already = claimed(mission, Notice.What.REMINDER, kind, start)
    queued = 0
    for cla in missing_now(mission, kind, start, now):
        if cla.pk in already or not cla.phone:
            continue
        with translation.override(_cla_language(mission, cla)):
            text = reminder_text(mission, kind, start, due)
        try:
            with transaction.atomic():
                Notice.objects.create(
                    mission=mission,
                    what=Notice.What.REMINDER,
                    kind=kind,
                    period_start=start,
                    cla=cla,
                    sent_at=now,
                )
                queue_sms(
                    channel,
                    cla.phone,
                    text,
                    purpose=Purpose.REMINDER,
                    recipient_label=_("CLA %(staff_id)s") % {"staff_id": cla.staff_id},
                )
        except IntegrityError:
            continue  # another worker reminded this CLA first
        queued += 1
    return queued


def reminder_text(mission: Mission, kind: str, start: date, due: datetime) -> str:
    local_due = timezone.localtime(due, periods.zone(mission))
    names = {"day": start.strftime("%d/%m"), "time": local_due.strftime("%H:%M")}
    if kind == Kind.WEEKLY:
        return _("Kiungo: your weekly report for the week of %(day)s is due by %(time)s.") % names
    return (
        _(
            "Kiungo: your daily report for %(day)s is due by %(time)s. "
            "Reply RAS if nothing to report, or RAP <text>."
        )
        % names
    )


def tell_managers(now: datetime | None = None) -> int:
    """After a deadline, e-mail each supervisor the list of their CLAs whose report is missing
    (once per supervisor, report type and period). Returns the e-mails queued by this call."""
    now = now or timezone.now()
    queued = 0
    for schedule in _schedules():
        if not schedule.tell_managers:
            continue
        for kind in (Kind.DAILY, Kind.WEEKLY):
            start = periods.current_period(schedule, kind, now)
            due = periods.deadline(schedule, kind, start)
            if kind == Kind.DAILY and now < due:  # before today's deadline: yesterday's
                start -= timedelta(days=1)
                due = periods.deadline(schedule, kind, start)
            if not (due <= now < due + NOTICE_WINDOW):
                continue
            queued += _tell(schedule.mission, kind, start, now)
    return queued


def _tell(mission: Mission, kind: str, start: date, now: datetime) -> int:
    by_supervisor: dict[int, list[CLAProfile]] = defaultdict(list)
    for cla in missing_now(mission, kind, start, now):
        if cla.supervisor_id and cla.supervisor.is_active and cla.supervisor.email:
            by_supervisor[cla.supervisor_id].append(cla)
    already = claimed(mission, Notice.What.MISSING, kind, start)
    queued = 0
    with translation.override(language_for(mission)):
        for supervisor_id, clas in by_supervisor.items():
            if supervisor_id in already:
                continue
            supervisor = clas[0].supervisor
            subject, body = missing_message(mission, kind, start, clas)
            try:
                with transaction.atomic():
                    Notice.objects.create(
                        mission=mission,
                        what=Notice.What.MISSING,
                        kind=kind,
                        period_start=start,
                        supervisor=supervisor,
                        count=len(clas),
                        sent_at=now,
                    )
                    queue_email(
                        supervisor.email,
                        subject,
                        body,
                        purpose=Purpose.REMINDER,
                        recipient_label=supervisor.get_full_name() or supervisor.get_username(),
                    )
            except IntegrityError:
                continue  # another worker told this supervisor first
            queued += 1
    return queued


def missing_message(mission, kind: str, start: date, clas: list[CLAProfile]) -> tuple[str, str]:
    label = Kind(kind).label
    subject = _("%(mission)s: %(count)s missing %(kind)s (%(day)s)") % {
        "mission": mission.code,
        "count": len(clas),
        "kind": label.lower(),
        "day": start.isoformat(),
    }
    lines = [
        _("These CLAs have not sent their %(kind)s for the period starting %(day)s:")
        % {"kind": label.lower(), "day": start.isoformat()},
        "",
    ]
    for cla in clas:
        base = cla.base.name if cla.base_id else "-"
        lines.append(f"- {cla.staff_id} {cla.user.get_full_name()} ({base})".replace("  ", " "))
    return subject, "\n".join(lines)


# Deadlines are set to the minute: once a minute per worker is enough (a pass of the notices
# costs about 16 queries; every second, that was most of an idle worker's work).
@worker.register(every=60)
def remind_reporters():
    return send_reminders()


@worker.register(every=60)
def report_missing_to_managers():
    return tell_managers()
