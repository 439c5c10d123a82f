"""The accountability report: response figures per unit, base, contingent or area.

The view parses the parameters, asks kiungo.people.access, calls kiungo.accountability.figures
and renders: the rules themselves live in figures.py.
"""

import csv
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kiungo.accountability.figures import Row, figures
from kiungo.accountability.forms import ReportForm
from kiungo.people.access import Capability, may, visible_incidents

TEMPLATE = "accountability/report.html"
NOT_APPLICABLE = "—"

CSV_COLUMNS = [
    "row",  # group, none (the incidents without a group) or total
    "group_by",
    "key",
    "label",
    "incidents_received",
    "alerts_received",
    "dismissed",
    "acknowledge_due",
    "acknowledged",
    "acknowledged_in_time",
    "share_acknowledged_in_time",
    "acknowledge_median_seconds",
    "acknowledge_p90_seconds",
    "respond_due",
    "responded",
    "without_response",
    "share_without_response",
    "respond_median_seconds",
    "respond_p90_seconds",
    "escalation_steps",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def human_duration(value: timedelta | None) -> str:
    """Like "45 s", "14 min", "2 h 05", "3 d 04 h" (rounded down); "—" for none."""
    if value is None:
        return NOT_APPLICABLE
    seconds = int(value.total_seconds())
    if seconds < 60:
        return _("%(seconds)d s") % {"seconds": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(hours)d h %(minutes)02d") % {"hours": hours, "minutes": minutes}
    days, hours = divmod(hours, 24)
    return _("%(days)d d %(hours)02d h") % {"days": days, "hours": hours}


def percent(share: float | None) -> str:
    if share is None:
        return NOT_APPLICABLE
    return _("%(percent)d%%") % {"percent": round(share * 100)}


def safe_cell(value):
    """Text a spreadsheet would run as a formula gets a leading quote (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _seconds(value: timedelta | None):
    return round(value.total_seconds()) if value is not None else ""


def _fraction(share: float | None):
    return f"{share:.4f}" if share is not None else ""


def _require(user):
    if not may(user, Capability.VIEW_ACCOUNTABILITY):
        raise PermissionDenied


def _report(request):
    """(form, rows): rows is None when the parameters are invalid."""
    _require(request.user)
    form = ReportForm(request.GET, user=request.user)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    incidents = visible_incidents(request.user, Capability.VIEW_ACCOUNTABILITY).filter(
        mission=data["mission"]
    )
    start, end = form.period()
    return form, figures(incidents, data["group"], start, end, level=data["level"])


def _invalid(request, form):
    return render(request, TEMPLATE, {"form": form}, status=400)


@login_required
def report(request):
    """The figures as a table; the rows with the lowest share acknowledged in time are marked."""
    form, rows = _report(request)
    if rows is None:
        return _invalid(request, form)
    shown = [
        {
            "row": row,
            "in_time": percent(row.share_in_time),
            "without_response": percent(row.share_without_response),
            "acknowledge_median": human_duration(row.acknowledge_median),
            "acknowledge_p90": human_duration(row.acknowledge_p90),
            "respond_median": human_duration(row.respond_median),
            "respond_p90": human_duration(row.respond_p90),
        }
        for row in rows
    ]
    context = {
        "form": form,
        "rows": shown,
        "mission": form.cleaned_data["mission"],
        "group_label": dict(form.fields["group"].choices)[form.cleaned_data["group"]],
        "query": urlencode(form.query()),
    }
    return render(request, TEMPLATE, context)


def _csv_values(row: Row, group_by: str) -> list:
    return [
        row.kind,
        group_by,
        row.key,
        row.label,
        row.received,
        row.alerts,
        row.dismissed,
        row.acknowledge_due,
        row.acknowledged,
        row.acknowledged_in_time,
        _fraction(row.share_in_time),
        _seconds(row.acknowledge_median),
        _seconds(row.acknowledge_p90),
        row.respond_due,
        row.responded,
        row.without_response,
        _fraction(row.share_without_response),
        _seconds(row.respond_median),
        _seconds(row.respond_p90),
        row.escalations,
    ]


@login_required
def report_csv(request):
    """The same figures for spreadsheets and scripts: durations in seconds, shares as
    fractions, column names fixed (not translated) so that scripts keep working."""
    form, rows = _report(request)
    if rows is None:
        return _invalid(request, form)
    data = form.cleaned_data
    name = "-".join(
        [
            "kiungo-accountability",
            data["mission"].code,
            data["group"],
            data["start"].isoformat(),
            data["end"].isoformat(),
        ]
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([safe_cell(value) for value in _csv_values(row, data["group"])])
    return response
