"""The mission's consolidated daily (or weekly) report: assembled from the period's submitted
and accepted reports, grouped by region (province) and base, with the period's alerts and
incidents and the state of their response, the bases that had nothing to report and the CLAs
whose report is missing; plus the summary the early-warning cell or leadership writes, and its
distribution by e-mail to the mission's lists.

What a user sees is limited to their scope (`visible_reports`, `visible_incidents`,
`visible_alerts`, `visible_bases`): a CLA manager gets their region's part. The assembly costs
a fixed number of queries whatever the number of reports (no query per report, base or
incident). Contacts never appear: alerts are counted, incidents named by reference and place,
CLAs by staff id.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kiungo.alerts.models import Incident
from kiungo.alerts.notify import language_for
from kiungo.alerts.taxonomy import Threat
from kiungo.geography.models import Area
from kiungo.messaging.models import Purpose
from kiungo.messaging.outbox import queue_email
from kiungo.missions.models import Mission
from kiungo.people.access import (
    Capability,
    visible_alerts,
    visible_bases,
    visible_incidents,
    visible_reports,
)
from kiungo.people.models import CLAProfile, User
from kiungo.reports import periods
from kiungo.reports.compliance import expected_reporters
from kiungo.reports.headings import headings_for
from kiungo.reports.models import (
    ConsolidatedDelivery,
    ConsolidatedReport,
    DistributionList,
    Kind,
    Report,
    Status,
)

CONSOLIDATED_KINDS = (Kind.DAILY, Kind.WEEKLY)
INCLUDED = (Status.SUBMITTED, Status.ACCEPTED)


@dataclass
class ReportEntry:
    report: Report
    sections: list[tuple[str, str]]  # (heading title, text), filled sections only


@dataclass
class BaseBlock:
    name: str
    reports: list[ReportEntry] = field(default_factory=list)
    nothing_to_report: list[str] = field(default_factory=list)  # CLA staff ids
    missing: list[str] = field(default_factory=list)  # CLA staff ids


@dataclass
class RegionBlock:
    name: str
    bases: list[BaseBlock] = field(default_factory=list)


@dataclass
class IncidentLine:
    incident: Incident
    place: str
    level: str
    threat: str
    unit: str
    state: str
    overdue: bool


@dataclass
class Consolidated:
    mission: Mission
    kind: str
    first_day: date
    last_day: date
    regions: list[RegionBlock]
    incidents: list[IncidentLine]
    alerts_by_level: list[tuple[str, int]]
    alerts_by_threat: list[tuple[str, int]]
    incidents_by_level: list[tuple[str, int]]
    incidents_by_threat: list[tuple[str, int]]
    report_count: int
    nothing_count: int
    missing_count: int
    record: ConsolidatedReport | None

    @property
    def alert_count(self) -> int:
        return sum(n for _label, n in self.alerts_by_level)

    @property
    def summary(self) -> str:
        return self.record.summary if self.record else ""


def period(kind: str, day: date) -> tuple[date, date]:
    return periods.period_of(kind, day)


def window(mission: Mission, first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """The period as aware datetimes in the mission's zone: [first 00:00, day after last)."""
    zone = periods.zone(mission)
    start = datetime.combine(first_day, time(0), tzinfo=zone)
    return start, datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone)


def incident_state(incident: Incident) -> str:
    """Where the response stands, in words: closed with its outcome, the response decided,
    acknowledged, or still waiting for the unit."""
    if incident.status == Incident.Status.CLOSED:
        if incident.outcome:
            return _("Closed: %(outcome)s") % {"outcome": incident.get_outcome_display()}
        return _("Closed")
    if incident.status == Incident.Status.DISMISSED:
        return _("Dismissed")
    if incident.response:
        return _("Response: %(response)s") % {"response": incident.get_response_display()}
    if incident.acknowledged_at:
        return _("Acknowledged")
    return _("Awaiting acknowledgement")


def _region_name(pcode: str, provinces: list[Area]) -> str:
    province = next((p for p in provinces if pcode.startswith(p.pcode)), None)
    return province.name if province else "-"


def _reports(user: User, mission: Mission, kind: str, first_day: date, last_day: date):
    """The period's submitted and accepted reports of the kind, and its flash reports."""
    return (
        visible_reports(user)
        .filter(mission=mission, status__in=INCLUDED)
        .filter(
            Q(kind=kind, period_start=first_day)
            | Q(kind=Kind.FLASH, period_start__gte=first_day, period_start__lte=last_day)
        )
        .select_related("cla", "base__locality")
        .order_by("base__name", "cla__staff_id", "kind", "occurred_at")
    )


def _missing(user, mission, kind, first_day, last_day, reported: set[int]) -> list[CLAProfile]:
    """The CLAs in the user's scope expected to send a report of the period who have not
    sent one (a draft is still missing)."""
    expected = expected_reporters(mission, first_day, last_day)
    if kind == Kind.DAILY:
        expected = {cla_id: days for cla_id, days in expected.items() if first_day in days}
    ids = set(expected) - reported
    if not ids:
        return []
    bases = visible_bases(user, Capability.VIEW_REPORTS).filter(mission=mission).values("pk")
    return list(
        CLAProfile.objects.filter(pk__in=ids, base__in=bases)
        .select_related("base__locality")
        .order_by("staff_id")
    )


def assemble(user: User, mission: Mission, kind: str, day: date) -> Consolidated:
    """The consolidated `kind` report of the period holding `day`, as `user` may see it."""
    if kind not in CONSOLIDATED_KINDS:
        raise ValueError(kind)
    first_day, last_day = period(kind, day)
    start, end = window(mission, first_day, last_day)
    reports = list(_reports(user, mission, kind, first_day, last_day))
    titles = {
        k: [(h.key, h.title) for h in headings_for(mission.pk, k)]
        for k in {r.kind for r in reports}
    }
    provinces = list(Area.objects.filter(mission=mission, level=Area.Level.PROVINCE))
    regions: dict[str, dict[str, BaseBlock]] = {}

    def block(base) -> BaseBlock:
        region = regions.setdefault(_region_name(base.locality.pcode, provinces), {})
        return region.setdefault(base.name, BaseBlock(base.name))

    reported: set[int] = set()
    nothing = 0
    for report in reports:
        entry = ReportEntry(
            report,
            [
                (title, report.sections[key])
                for key, title in titles[report.kind]
                if report.sections.get(key, "").strip()
            ],
        )
        target = block(report.base)
        target.reports.append(entry)
        if report.kind == kind:
            reported.add(report.cla_id)
        if report.nothing_to_report:
            target.nothing_to_report.append(report.cla.staff_id)
            nothing += 1
    missing = _missing(user, mission, kind, first_day, last_day, reported)
    for cla in missing:
        block(cla.base).missing.append(cla.staff_id)

    incidents = list(
        visible_incidents(user)
        .filter(mission=mission, merged_into__isnull=True)
        .exclude(status=Incident.Status.MERGED)
        .filter(first_reported_at__lt=end, last_reported_at__gte=start)
        .select_related("area", "level", "unit")
        .order_by("level__rank", "first_reported_at")
    )
    threat_labels = dict(Threat.choices)
    lines = [
        IncidentLine(
            incident=i,
            place=i.area.name if i.area_id else "-",
            level=i.level.name,
            threat=str(threat_labels.get(i.threat, i.threat)),
            unit=i.unit.name if i.unit_id else "-",
            state=incident_state(i),
            overdue=i.overdue,
        )
        for i in incidents
    ]
    alerts = visible_alerts(user).filter(
        mission=mission, received_at__gte=start, received_at__lt=end
    )
    by_level = alerts.values("level__name", "level__rank").annotate(n=Count("pk"))
    by_threat = alerts.values("threat").annotate(n=Count("pk"))
    incident_levels = Counter((line.incident.level.rank, line.level) for line in lines)
    incident_threats = Counter(line.threat for line in lines)
    return Consolidated(
        mission=mission,
        kind=kind,
        first_day=first_day,
        last_day=last_day,
        regions=[
            RegionBlock(name, [bases[b] for b in sorted(bases)])
            for name, bases in sorted(regions.items())
        ],
        incidents=lines,
        alerts_by_level=[
            (row["level__name"], row["n"])
            for row in sorted(by_level, key=lambda row: row["level__rank"])
        ],
        alerts_by_threat=sorted(
            ((str(threat_labels.get(row["threat"], row["threat"])), row["n"]) for row in by_threat),
            key=lambda pair: (-pair[1], pair[0]),
        ),
        incidents_by_level=[(label, n) for (_rank, label), n in sorted(incident_levels.items())],
        incidents_by_threat=sorted(incident_threats.items(), key=lambda p: (-p[1], p[0])),
        report_count=len(reports),
        nothing_count=nothing,
        missing_count=len(missing),
        record=ConsolidatedReport.objects.filter(
            mission=mission, kind=kind, period_start=first_day
        ).first(),
    )


def save_summary(
    mission: Mission, kind: str, day: date, text: str, *, user: User, now=None
) -> ConsolidatedReport:
    """Write the period's summary (creating its record the first time)."""
    first_day, _last = period(kind, day)
    with transaction.atomic():
        record, _created = ConsolidatedReport.objects.select_for_update().get_or_create(
            mission=mission, kind=kind, period_start=first_day
        )
        record.summary = text.strip()
        record.edited_by = user
        record.edited_at = now or timezone.now()
        record.save(update_fields=["summary", "edited_by", "edited_at"])
    return record


class AlreadySent(Exception):
    def __init__(self, rounds: int):
        super().__init__(rounds)
        self.rounds = rounds


def distribution_lists(mission: Mission, kind: str):
    takes = {"receives_weekly": True} if kind == Kind.WEEKLY else {"receives_daily": True}
    return DistributionList.objects.filter(mission=mission, active=True, **takes)


def distribute(
    mission: Mission, kind: str, day: date, *, user: User, link: str, after_round: int = 0
) -> int:
    """E-mail a short message with the report's link to every active list that takes `kind`
    consolidated reports, recording one delivery per address. Returns the e-mails queued.

    `after_round` is the number of rounds the user saw already done (0 the first time): the
    send claims the next round only if that is still the number, so a double click, a retry
    or two officers at once send once; a resend is a deliberate `after_round=N`. Raises
    AlreadySent otherwise, ValidationError when no list takes this report."""
    first_day, last_day = period(kind, day)
    lists = list(distribution_lists(mission, kind))
    if not any(d.emails() for d in lists):
        raise ValidationError(_("No active distribution list takes this report."))
    now = timezone.now()
    with transaction.atomic():
        record, _created = ConsolidatedReport.objects.get_or_create(
            mission=mission, kind=kind, period_start=first_day
        )
        claimed = ConsolidatedReport.objects.filter(pk=record.pk, sent_rounds=after_round).update(
            sent_rounds=after_round + 1
        )
        if not claimed:
            record.refresh_from_db(fields=["sent_rounds"])
            raise AlreadySent(record.sent_rounds)
        with translation.override(language_for(mission)):
            subject, body = distribution_message(mission, kind, first_day, last_day, link)
        queued = 0
        for distribution in lists:
            for address in distribution.emails():
                email = queue_email(
                    address,
                    subject,
                    body,
                    purpose=Purpose.REPORT,
                    recipient_label=distribution.name,
                )
                ConsolidatedDelivery.objects.create(
                    consolidated=record,
                    round=after_round + 1,
                    distribution=distribution,
                    email=email,
                    sent_by=user,
                    queued_at=now,
                )
                queued += 1
    return queued


def title(mission: Mission, kind: str, first_day: date, last_day: date) -> str:
    if kind == Kind.WEEKLY:
        return _("Consolidated weekly report — %(mission)s — %(first)s to %(last)s") % {
            "mission": mission.code,
            "first": first_day.isoformat(),
            "last": last_day.isoformat(),
        }
    return _("Consolidated daily report — %(mission)s — %(day)s") % {
        "mission": mission.code,
        "day": first_day.isoformat(),
    }


def distribution_message(mission, kind, first_day, last_day, link) -> tuple[str, str]:
    subject = title(mission, kind, first_day, last_day)
    body = "\n\n".join(
        [
            subject,
            _("The consolidated report is ready. Read it, or download it as PDF or Word, here:"),
            link,
            _("Sign in with your Kiungo account. Do not forward this message outside the mission."),
        ]
    )
    return subject, body
