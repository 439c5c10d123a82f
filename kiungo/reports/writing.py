"""Writing, submitting and reviewing reports: the rules, as plain functions.

Every function is one transaction: what it changes is saved whole or not at all. The views,
the SMS handler and the demo call these; none changes a report another way.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kiungo.alerts.notify import language_for
from kiungo.messaging.models import Purpose
from kiungo.messaging.outbox import queue_email
from kiungo.people.models import CLAProfile, User
from kiungo.reports import periods
from kiungo.reports.headings import headings_for
from kiungo.reports.models import (
    EDITABLE,
    PERIODIC,
    VICTIM_FIELDS,
    Delivery,
    DistributionList,
    Kind,
    Report,
    ReportReview,
    ReportVersion,
    Source,
    Status,
)

FUTURE_TOLERANCE = timedelta(minutes=10)  # a phone's clock a little ahead is not an error
FLASH_FIELDS = ("occurred_at", "area", "latitude", "longitude", *VICTIM_FIELDS)


class PeriodTaken(Exception):
    """The CLA already has a report of this type for this period: open or merge, the user
    decides (no silent second report)."""

    def __init__(self, existing: Report):
        super().__init__(f"report {existing.pk} already covers this period")
        self.existing = existing


def check_not_future(mission, kind: str, day: date | None = None, when=None, now=None) -> None:
    now = now or timezone.now()
    if kind == Kind.FLASH:
        if when is not None and when > now + FUTURE_TOLERANCE:
            raise ValidationError({"occurred_at": _("This time is in the future.")})
        return
    today = periods.local_today(mission, now)
    if day is not None and periods.period_of(kind, day)[0] > today:
        raise ValidationError({"period": _("You cannot report on a period that has not begun.")})


def start_report(
    *,
    cla: CLAProfile,
    kind: str,
    day: date | None = None,
    occurred_at: datetime | None = None,
    now: datetime | None = None,
    source: str = Source.WEB,
) -> Report:
    """A new draft for `cla`; raises PeriodTaken when a daily or weekly one exists."""
    now = now or timezone.now()
    if cla.base_id is None:
        raise ValidationError(_("You are not deployed at a base: you cannot write a report."))
    mission = cla.base.mission
    if kind == Kind.FLASH:
        occurred_at = occurred_at or now
        day = timezone.localtime(occurred_at, periods.zone(mission)).date()
    else:
        day = day or periods.local_today(mission, now)
    check_not_future(mission, kind, day, occurred_at, now)
    start, end = periods.period_of(kind, day)
    if kind in PERIODIC:
        existing = Report.objects.filter(cla=cla, kind=kind, period_start=start).first()
        if existing:
            raise PeriodTaken(existing)
    report = Report(
        mission=mission,
        cla=cla,
        base_id=cla.base_id,
        kind=kind,
        period_start=start,
        period_end=end,
        occurred_at=occurred_at if kind == Kind.FLASH else None,
        source=source,
    )
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:  # created at the same moment (a double click, an SMS)
        existing = Report.objects.filter(cla=cla, kind=kind, period_start=start).first()
        if existing is None:
            raise
        raise PeriodTaken(existing) from None
    return report


@dataclass
class Changes:
    """What the CLA typed (from the form or an autosave): only the given parts change."""

    sections: dict[str, str] | None = None
    nothing_to_report: bool | None = None
    day: date | None = None  # a new period (daily / weekly)
    alert_ids: list[int] | None = None
    incident_ids: list[int] | None = None
    perpetrator_ids: list[int] | None = None
    flash: dict | None = None  # occurred_at, area, latitude, longitude, victim counts


def save_draft(report: Report, changes: Changes, *, now: datetime | None = None) -> Report:
    """Save what the CLA typed into an editable report (a draft or a returned one).

    A new period already reported raises PeriodTaken and saves nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        if report.status not in EDITABLE:
            raise ValidationError(_("This report was submitted: it can no longer be changed."))
        if changes.day is not None and report.kind in PERIODIC:
            check_not_future(report.mission, report.kind, changes.day, now=now)
            start, end = periods.period_of(report.kind, changes.day)
            if start != report.period_start:
                other = (
                    Report.objects.filter(cla_id=report.cla_id, kind=report.kind)
                    .filter(period_start=start)
                    .first()
                )
                if other is not None:
                    raise PeriodTaken(other)
                report.period_start, report.period_end = start, end
        if changes.sections is not None:
            keys = {heading.key for heading in headings_for(report.mission_id, report.kind)}
            sections = dict(report.sections)
            for key, text in changes.sections.items():
                if key in keys:
                    sections[key] = text.strip()
            report.sections = sections
        if changes.nothing_to_report is not None and report.kind == Kind.DAILY:
            report.nothing_to_report = changes.nothing_to_report
        if changes.flash is not None and report.kind == Kind.FLASH:
            when = changes.flash.get("occurred_at")
            if when is not None:
                check_not_future(report.mission, Kind.FLASH, when=when, now=now)
                report.period_start = report.period_end = timezone.localtime(
                    when, periods.zone(report.mission)
                ).date()
            for name in FLASH_FIELDS:
                if name in changes.flash and (name != "occurred_at" or when is not None):
                    setattr(report, name, changes.flash[name])
        try:
            with transaction.atomic():
                report.save()
        except IntegrityError:
            other = Report.objects.filter(
                cla_id=report.cla_id, kind=report.kind, period_start=report.period_start
            ).first()
            if other is None:
                raise
            raise PeriodTaken(other) from None
        if changes.alert_ids is not None:
            report.alerts.set(changes.alert_ids)
        if changes.incident_ids is not None:
            report.incidents.set(changes.incident_ids)
        if changes.perpetrator_ids is not None and report.kind == Kind.FLASH:
            report.perpetrators.set(changes.perpetrator_ids)
    return report


def problems(report: Report) -> list[str]:
    """Why the report cannot be submitted yet (empty: it can)."""
    found = []
    if not report.nothing_to_report:
        for heading in headings_for(report.mission_id, report.kind):
            if heading.required and not report.sections.get(heading.key, "").strip():
                found.append(_("“%(heading)s” is required.") % {"heading": heading.title})
        wrote = any(text.strip() for text in report.sections.values())
        if report.kind == Kind.DAILY and not wrote and not found:
            found.append(_("Write the report, or tick “nothing to report”."))
    if report.kind == Kind.FLASH and report.area_id is None:
        found.append(_("Say where it happened."))
    return found


def snapshot(report: Report) -> dict:
    """What a version keeps: the content as submitted (plain JSON)."""
    content = {
        "kind": report.kind,
        "period_start": report.period_start.isoformat(),
        "period_end": report.period_end.isoformat(),
        "nothing_to_report": report.nothing_to_report,
        "sections": dict(report.sections),
        "headings": {h.key: h.title for h in headings_for(report.mission_id, report.kind)},
        "alerts": sorted(report.alerts.values_list("reference", flat=True)),
        "incidents": sorted(report.incidents.values_list("reference", flat=True)),
    }
    if report.kind == Kind.FLASH:
        content.update(
            occurred_at=report.occurred_at.isoformat() if report.occurred_at else None,
            area=str(report.area) if report.area_id else None,
            latitude=report.latitude,
            longitude=report.longitude,
            perpetrators=sorted(str(actor) for actor in report.perpetrators.all()),
            victims={name: getattr(report, name) for name in VICTIM_FIELDS},
        )
    return content


def submit(
    report: Report, *, user: User, now: datetime | None = None, source: str = Source.WEB
) -> ReportVersion:
    """Submit (or resubmit, after a return) the report: a new numbered version.

    A report sent by SMS skips the required headings: its text is all there is."""
    now = now or timezone.now()
    with transaction.atomic():
        report = (
            Report.objects.select_for_update(of=("self",))
            .select_related("mission")
            .get(pk=report.pk)
        )
        if report.status not in EDITABLE:
            raise ValidationError(_("This report was already submitted."))
        found = problems(report) if source == Source.WEB else []
        if found:
            raise ValidationError(found)
        version = _new_version(report, user, now, source)
        report.status = Status.SUBMITTED
        report.save(update_fields=["status", "submitted_at", "last_submitted_at", "version"])
        if report.kind == Kind.FLASH:
            distribute_flash(report, version)
    return version


def revise_by_sms(report: Report, *, user: User, text: str, key: str, now: datetime):
    """Append `text` to section `key` of a submitted report and record it as a new version
    (a CLA's second `RAP` of the day: nothing is lost, nothing duplicated). An accepted report
    goes back to review."""
    with transaction.atomic():
        report = (
            Report.objects.select_for_update(of=("self",))
            .select_related("mission")
            .get(pk=report.pk)
        )
        sections = dict(report.sections)
        sections[key] = "\n\n".join(part for part in (sections.get(key, ""), text) if part)
        report.sections = sections
        report.nothing_to_report = False
        version = _new_version(report, user, now, Source.SMS)
        report.status = Status.SUBMITTED
        report.save()
    return version


def _new_version(report: Report, user: User, now: datetime, source: str) -> ReportVersion:
    report.version += 1
    report.submitted_at = report.submitted_at or now
    report.last_submitted_at = now
    return ReportVersion.objects.create(
        report=report,
        number=report.version,
        content=snapshot(report),
        submitted_by=user,
        submitted_at=now,
        source=source,
    )


def review(
    report: Report, *, user: User, accept: bool, comment: str = "", now: datetime | None = None
) -> ReportReview:
    """Accept the submitted version, or return it to the CLA with a comment."""
    now = now or timezone.now()
    comment = comment.strip()
    if not accept and not comment:
        raise ValidationError({"comment": _("Say what to revise when returning a report.")})
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        if report.status != Status.SUBMITTED:
            raise ValidationError(_("Only a submitted report can be reviewed."))
        decision = ReportReview.Decision.ACCEPTED if accept else ReportReview.Decision.RETURNED
        done = ReportReview.objects.create(
            report=report,
            version=report.version,
            decision=decision,
            comment=comment,
            by=user,
            at=now,
        )
        report.status = Status.ACCEPTED if accept else Status.RETURNED
        report.reviewed_by, report.reviewed_at, report.review_comment = user, now, comment
        report.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_comment"])
    return done


def merge_into(source: Report, target: Report, *, now: datetime | None = None) -> Report:
    """Add what `source` (a draft) says to `target` (the CLA's editable report of the same
    period), then delete `source`: the CLA's choice when they wrote twice for one period."""
    with transaction.atomic():
        source = Report.objects.select_for_update().get(pk=source.pk)
        target = Report.objects.select_for_update().get(pk=target.pk)
        if source.cla_id != target.cla_id or source.kind != target.kind:
            raise ValidationError(_("These reports cannot be merged."))
        if source.status != Status.DRAFT or target.status not in EDITABLE:
            raise ValidationError(_("Only a draft can be merged into an editable report."))
        sections = dict(target.sections)
        for key, text in source.sections.items():
            if text and text not in sections.get(key, ""):
                sections[key] = "\n\n".join(p for p in (sections.get(key, ""), text) if p)
        target.sections = sections
        target.nothing_to_report = target.nothing_to_report and source.nothing_to_report
        target.save()
        target.alerts.add(*source.alerts.all())
        target.incidents.add(*source.incidents.all())
        source.delete()
    return target


def distribute_flash(report: Report, version: ReportVersion) -> int:
    """Queue the flash report to every active distribution list that receives flash reports
    (inside the submission's transaction). Returns the e-mails queued."""
    lists = DistributionList.objects.filter(
        mission_id=report.mission_id, active=True, receives_flash=True
    )
    sent = 0
    with translation.override(language_for(report.mission)):
        subject, body = flash_message(report, version)
        for distribution in lists:
            for address in distribution.emails():
                email = queue_email(
                    address,
                    subject,
                    body,
                    purpose=Purpose.REPORT,
                    recipient_label=distribution.name,
                )
                Delivery.objects.create(
                    report=report, version=version.number, distribution=distribution, email=email
                )
                sent += 1
    return sent


def flash_message(report: Report, version: ReportVersion) -> tuple[str, str]:
    content = version.content
    place = content.get("area") or _("place unknown")
    subject = _("FLASH %(base)s: %(place)s") % {"base": report.base.name, "place": place}
    if version.number > 1:
        subject += " " + _("(revision %(number)s)") % {"number": version.number}
    when = timezone.localtime(report.occurred_at, periods.zone(report.mission))
    lines = [
        _("Flash report from %(base)s") % {"base": report.base.name},
        _("When: %(when)s") % {"when": when.strftime("%Y-%m-%d %H:%M")},
        _("Where: %(place)s") % {"place": place},
    ]
    if report.latitude is not None:
        lines.append(f"  {report.latitude:.5f}, {report.longitude:.5f}")
    if content.get("perpetrators"):
        lines.append(
            _("Alleged perpetrators: %(who)s") % {"who": ", ".join(content["perpetrators"])}
        )
    victims = [
        f"{label}: {sum(counts)} ({counts[0]} F, {counts[1]} M, {counts[2]} ?)"
        for label, counts in report.victims()
        if sum(counts)
    ]
    if victims:
        lines.append(_("Victims: %(victims)s") % {"victims": "; ".join(victims)})
    for key, title in content["headings"].items():
        text = content["sections"].get(key, "")
        if text:
            lines += ["", title.upper(), text]
    return subject, "\n".join(lines)
