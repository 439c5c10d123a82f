"""The consolidated report's pages: read it (each user their scope), download it as PDF or
Word in English or French, edit its summary, distribute it. Rules live in consolidated.py."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from kiungo.people.access import Capability, holds_whole_mission, may, visible_missions
from kiungo.reports import consolidated, exports, periods
from kiungo.reports.forms import ConsolidatedForm, SummaryForm
from kiungo.reports.models import Kind

LANGUAGES = {code for code, _name in settings.LANGUAGES}


def _choice(request):
    """(missions the user may read, the chosen mission, kind, day) from the query string."""
    if not may(request.user, Capability.VIEW_REPORTS):
        raise PermissionDenied
    missions = list(visible_missions(request.user, Capability.VIEW_REPORTS).order_by("code"))
    wanted = request.GET.get("mission")
    if wanted:
        mission = next((m for m in missions if str(m.pk) == wanted), None)
        if mission is None:
            raise Http404
    elif missions:
        mission = missions[0]
    else:
        raise PermissionDenied
    form = ConsolidatedForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    kind = data.get("kind") or Kind.DAILY
    day = data.get("day") or periods.local_today(mission)
    return missions, mission, kind, day, form


def _query(mission, kind, day, **extra) -> str:
    return urlencode({"mission": mission.pk, "kind": kind, "day": day.isoformat(), **extra})


def _may_whole(user, capability, mission) -> bool:
    return holds_whole_mission(user, capability, mission.pk)


@login_required
def consolidated_report(request):
    missions, mission, kind, day, form = _choice(request)
    report = consolidated.assemble(request.user, mission, kind, day)
    query = _query(mission, kind, report.first_day)
    return render(
        request,
        "reports/consolidated.html",
        {
            "c": report,
            "form": form,
            "missions": missions,
            "mission": mission,
            "query": query,
            "title": consolidated.title(mission, kind, report.first_day, report.last_day),
            "may_edit": _may_whole(request.user, Capability.EDIT_CONSOLIDATED, mission),
            "may_send": _may_whole(request.user, Capability.DISTRIBUTE_CONSOLIDATED, mission),
        },
    )


def _export(request, render_to, content_type: str, extension: str):
    _missions, mission, kind, day, _form = _choice(request)
    language = request.GET.get("lang")
    if language not in LANGUAGES:
        language = translation.get_language()
    with translation.override(language):
        report = consolidated.assemble(request.user, mission, kind, day)
        content = render_to(exports.outline(report))
    response = HttpResponse(content, content_type=content_type)
    name = f"kiungo-{mission.code}-{kind}-{report.first_day.isoformat()}-{language}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def consolidated_pdf(request):
    return _export(request, exports.to_pdf, "application/pdf", "pdf")


@login_required
def consolidated_docx(request):
    return _export(
        request,
        exports.to_docx,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    )


@login_required
def consolidated_summary(request):
    _missions, mission, kind, day, _form = _choice(request)
    if not _may_whole(request.user, Capability.EDIT_CONSOLIDATED, mission):
        raise PermissionDenied
    first_day, last_day = consolidated.period(kind, day)
    record = consolidated.ConsolidatedReport.objects.filter(
        mission=mission, kind=kind, period_start=first_day
    ).first()
    form = SummaryForm(request.POST or None, initial={"summary": record.summary if record else ""})
    if request.method == "POST" and form.is_valid():
        consolidated.save_summary(
            mission, kind, day, form.cleaned_data["summary"], user=request.user
        )
        messages.success(request, _("Summary saved."))
        return redirect(reverse("reports-consolidated") + "?" + _query(mission, kind, first_day))
    return render(
        request,
        "reports/consolidated_summary.html",
        {
            "form": form,
            "record": record,
            "title": consolidated.title(mission, kind, first_day, last_day),
            "query": _query(mission, kind, first_day),
        },
    )


@login_required
def consolidated_send(request):
    """GET: what will be sent, to which lists, and whether it was already; POST: send."""
    _missions, mission, kind, day, _form = _choice(request)
    if not _may_whole(request.user, Capability.DISTRIBUTE_CONSOLIDATED, mission):
        raise PermissionDenied
    first_day, last_day = consolidated.period(kind, day)
    query = _query(mission, kind, first_day)
    if request.method == "POST":
        link = request.build_absolute_uri(reverse("reports-consolidated") + "?" + query)
        try:
            after = int(request.POST.get("after_round") or 0)
        except ValueError:
            after = 0
        try:
            queued = consolidated.distribute(
                mission, kind, day, user=request.user, link=link, after_round=after
            )
        except consolidated.AlreadySent as sent:
            messages.info(
                request,
                _("Already sent (%(rounds)s times): nothing was sent again.")
                % {"rounds": sent.rounds},
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Queued %(count)s e-mails.") % {"count": queued})
        return redirect(reverse("reports-consolidated") + "?" + query)
    record = consolidated.ConsolidatedReport.objects.filter(
        mission=mission, kind=kind, period_start=first_day
    ).first()
    deliveries = (
        record.deliveries.select_related("email", "distribution", "sent_by") if record else []
    )
    return render(
        request,
        "reports/consolidated_send.html",
        {
            "title": consolidated.title(mission, kind, first_day, last_day),
            "query": query,
            "lists": consolidated.distribution_lists(mission, kind),
            "rounds": record.sent_rounds if record else 0,
            "deliveries": deliveries,
        },
    )
