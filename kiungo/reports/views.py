"""Report pages: thin views over kiungo.reports.writing (rules) and kiungo.people.access
(who may see what). Reports outside a user's reach are 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kiungo.people.access import (
    Capability,
    access,
    may,
    own_reports,
    reviewable_reports,
    visible_reports,
)
from kiungo.people.models import CLAProfile
from kiungo.reports import periods, writing
from kiungo.reports.forms import NewReportForm, ReportForm, ReviewForm
from kiungo.reports.headings import headings_for
from kiungo.reports.models import Kind, Report, Status

PAGE = 50


def _require(user, capability):
    if not may(user, capability):
        raise PermissionDenied


def _profile(user) -> CLAProfile:
    profile = CLAProfile.objects.filter(user=user).select_related("base__mission").first()
    if profile is None:
        raise PermissionDenied
    return profile


def _own(user, pk) -> Report:
    return get_object_or_404(own_reports(user).select_related("mission", "base", "cla"), pk=pk)


@login_required
def report_list(request):
    writes = may(request.user, Capability.WRITE_REPORTS)
    if not (writes or may(request.user, Capability.VIEW_REPORTS)):
        raise PermissionDenied
    reports = visible_reports(request.user).select_related("cla__user", "base")
    kind, status = request.GET.get("kind", ""), request.GET.get("status", "")
    if kind in Kind.values:
        reports = reports.filter(kind=kind)
    if status in Status.values:
        reports = reports.filter(status=status)
    page = Paginator(reports.order_by("-period_start", "-created_at"), PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "writes": writes,
        "kinds": Kind.choices,
        "statuses": Status.choices,
        "kind": kind,
        "status": status,
        "to_review": reviewable_reports(request.user).filter(status=Status.SUBMITTED).count(),
    }
    if writes:
        profile = CLAProfile.objects.filter(user=request.user).select_related("base__mission")
        profile = profile.first()
        if profile and profile.base_id:
            today = periods.local_today(profile.base.mission)
            context["today"] = today
            context["today_report"] = Report.objects.filter(
                cla=profile, kind=Kind.DAILY, period_start=today
            ).first()
    return render(request, "reports/list.html", context)


@login_required
def new_report(request, kind):
    _require(request.user, Capability.WRITE_REPORTS)
    if kind not in Kind.values:
        raise Http404
    profile = _profile(request.user)
    today = periods.local_today(profile.base.mission) if profile.base_id else None
    form = NewReportForm(request.POST or None, initial={"day": today})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = writing.start_report(
                cla=profile, kind=kind, day=data["day"], occurred_at=data["occurred_at"]
            )
        except writing.PeriodTaken as taken:
            return _nothing_or_taken(request, taken.existing, data["nothing_to_report"])
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if data["nothing_to_report"]:
                return _nothing_to_report(request, report)
            return redirect("report-edit", pk=report.pk)
    context = {"form": form, "kind": Kind(kind), "profile": profile, "today": today}
    return render(request, "reports/new.html", context)


def _add_errors(form, error: ValidationError):
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)


def _nothing_or_taken(request, existing: Report, nothing: bool):
    if nothing and existing.is_editable:
        return _nothing_to_report(request, existing)
    return render(request, "reports/taken.html", {"existing": existing, "draft": None})


def _nothing_to_report(request, report: Report):
    """The one-click daily "nothing to report": tick it and submit."""
    try:
        writing.save_draft(report, writing.Changes(nothing_to_report=True))
        writing.submit(report, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("report-edit", pk=report.pk)
    messages.success(request, _("Submitted: nothing to report."))
    return redirect("report-detail", pk=report.pk)


@login_required
def report_detail(request, pk):
    report = get_object_or_404(
        visible_reports(request.user).select_related("mission", "base", "cla__user", "area"),
        pk=pk,
    )
    reviewable = (
        report.status == Status.SUBMITTED
        and reviewable_reports(request.user).filter(pk=pk).exists()
    )
    mine = report.cla.user_id == request.user.pk
    headings = headings_for(report.mission_id, report.kind)
    sections = [(h.title, report.sections.get(h.key, "")) for h in headings]
    return render(
        request,
        "reports/detail.html",
        {
            "report": report,
            "sections": sections,
            "versions": report.versions.select_related("submitted_by").order_by("-number"),
            "reviews": report.reviews.select_related("by").order_by("-at"),
            "review_form": ReviewForm() if reviewable else None,
            "editable": mine and report.is_editable,
            "alerts": report.alerts.select_related("area"),
            "incidents": report.incidents.select_related("area"),
            "perpetrators": report.perpetrators.all(),
            "deliveries": report.deliveries.select_related("email", "distribution"),
        },
    )


@login_required
def report_version(request, pk, number):
    report = access(request.user, Report, pk=pk)
    version = get_object_or_404(report.versions.select_related("submitted_by"), number=number)
    content = version.content
    sections = [
        (title, content["sections"].get(key, "")) for key, title in content["headings"].items()
    ]
    return render(
        request,
        "reports/version.html",
        {"report": report, "version": version, "content": content, "sections": sections},
    )


@login_required
def edit_report(request, pk):
    report = _own(request.user, pk)
    if not report.is_editable:
        messages.info(request, _("This report was submitted: it can no longer be changed."))
        return redirect("report-detail", pk=pk)
    form = ReportForm(request.POST or None, report=report)
    if request.method == "POST":
        valid = form.is_valid()
        changes = form.changes()
        try:
            report = writing.save_draft(report, changes)
        except writing.PeriodTaken as taken:
            changes.day = None  # keep everything else the CLA wrote
            report = writing.save_draft(report, changes)
            return render(
                request, "reports/taken.html", {"existing": taken.existing, "draft": report}
            )
        except ValidationError as error:
            _add_errors(form, error)
            valid = False
        if valid and request.POST.get("action") == "submit":
            try:
                writing.submit(report, user=request.user)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("Report submitted."))
                return redirect("report-detail", pk=report.pk)
        elif valid:
            messages.success(request, _("Draft saved."))
            return redirect("report-edit", pk=report.pk)
    report.refresh_from_db()
    return render(
        request,
        "reports/edit.html",
        {
            "report": report,
            "form": form,
            "stamp": report.updated_at.isoformat(),
            "last_review": report.reviews.order_by("-at").first(),
        },
    )


@login_required
@require_POST
def autosave(request, pk):
    """Save a draft as it is typed (the page's script posts the form every few seconds).

    Saves into this report only: it never creates one. Answers the time saved and a stamp the
    page keeps to know that its local copy is no longer needed."""
    report = _own(request.user, pk)
    if not report.is_editable:
        return JsonResponse({"error": _("This report was submitted.")}, status=409)
    form = ReportForm(request.POST, report=report)
    form.is_valid()
    changes = form.changes()
    warning = ""
    try:
        report = writing.save_draft(report, changes)
    except writing.PeriodTaken:
        changes.day = None
        report = writing.save_draft(report, changes)
        warning = _("You already have a report for that period: the date was not changed.")
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    saved = timezone.localtime(report.updated_at)
    return JsonResponse(
        {
            "saved_at": report.updated_at.isoformat(),
            "stamp": report.updated_at.isoformat(),
            "saved_label": _("Draft saved at %(time)s") % {"time": time_format(saved, "H:i")},
            "errors": {name: [str(e) for e in errs] for name, errs in form.errors.items()},
            "warning": warning,
        }
    )


@login_required
@require_POST
def merge_report(request, pk):
    """Merge the draft `pk` into the CLA's existing report of the same period."""
    draft = _own(request.user, pk)
    target = _own(request.user, request.POST.get("into") or 0)
    try:
        target = writing.merge_into(draft, target)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("report-detail", pk=draft.pk)
    messages.success(request, _("Your draft was added to the existing report."))
    return redirect("report-edit", pk=target.pk)


@login_required
@require_POST
def review_report(request, pk):
    report = get_object_or_404(reviewable_reports(request.user), pk=pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("report-detail", pk=pk)
    try:
        writing.review(
            report,
            user=request.user,
            accept=form.cleaned_data["decision"] == "accept",
            comment=form.cleaned_data["comment"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if form.cleaned_data["decision"] == "accept":
            messages.success(request, _("Report accepted."))
        else:
            messages.success(request, _("Report returned to the CLA."))
    return redirect("report-detail", pk=pk)
