"""Reads for the report pages: what a report may link to, and lists."""

from datetime import datetime, time, timedelta

from django.db.models import Q

from kiungo.alerts.models import Alert, Incident
from kiungo.forces.models import ResponsibilityArea
from kiungo.people.access import visible_alerts, visible_incidents
from kiungo.reports import periods
from kiungo.reports.models import Report

OFFERED_LIMIT = 100


def period_window(report: Report) -> tuple[datetime, datetime]:
    """The report's period as aware datetimes: [first day 00:00, day after the last 00:00)."""
    zone = periods.zone(report.mission)
    start = datetime.combine(report.period_start, time(0), tzinfo=zone)
    end = datetime.combine(report.period_end + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


def _area_q(report: Report, path: str) -> Q:
    pcodes = ResponsibilityArea.objects.filter(base_id=report.base_id).values_list(
        "area__pcode", flat=True
    )
    condition = Q(pk__in=[])
    for pcode in pcodes:
        condition |= Q(**{f"{path}__pcode__startswith": pcode})
    return condition


def offered_incidents(report: Report):
    """The incidents of the base's area of responsibility during the period (and those
    already linked), as the report's CLA may see them."""
    start, end = period_window(report)
    in_period = Q(first_reported_at__lt=end, last_reported_at__gte=start)
    place = _area_q(report, "area") | Q(base_id=report.base_id)
    return (
        visible_incidents(report.cla.user)
        .filter(mission_id=report.mission_id, merged_into__isnull=True)
        .filter((in_period & place) | Q(pk__in=report.incidents.values("pk")))
        .select_related("area", "level")
        .order_by("-last_reported_at")[:OFFERED_LIMIT]
    )


def offered_alerts(report: Report):
    """The alerts received in the base's area of responsibility during the period."""
    start, end = period_window(report)
    in_period = Q(received_at__gte=start, received_at__lt=end)
    return (
        visible_alerts(report.cla.user)
        .filter(mission_id=report.mission_id)
        .filter((in_period & _area_q(report, "area")) | Q(pk__in=report.alerts.values("pk")))
        .select_related("area")
        .order_by("-received_at")[:OFFERED_LIMIT]
    )


def alert_label(alert: Alert) -> str:
    place = alert.area.name if alert.area_id else "?"
    return f"{alert.reference} · {alert.get_threat_display()} · {place}"


def incident_label(incident: Incident) -> str:
    place = incident.area.name if incident.area_id else "?"
    return f"{incident.reference} · {incident.get_threat_display()} · {place}"
