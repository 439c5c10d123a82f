"""Protection committees, their plans, the units' plan requests, and field visits.

Views parse, ask kiungo.people.access, call the rules (plans.py, sharing.py) and render.
Objects out of the user's scope are 404; a capability the user lacks everywhere is 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kiungo.geography.models import Area
from kiungo.people.access import (
    Capability,
    access,
    may,
    visible_areas,
    visible_committees,
    visible_field_visits,
    visible_plan_requests,
)
from kiungo.protection import exports, plans, selectors, sharing
from kiungo.protection.dates import mission_today
from kiungo.protection.forms import (
    ActionForm,
    ActionStatusForm,
    AnswerForm,
    CommitteeForm,
    FieldVisitForm,
    MeasureForm,
    MeasureStatusForm,
    MeetingForm,
    MemberForm,
    PlanForm,
    StartPlanForm,
    ThreatForm,
    TrainingForm,
)
from kiungo.protection.models import (
    Committee,
    CommitteeMember,
    FieldVisit,
    FollowUpAction,
    MitigationMeasure,
    ProtectionPlan,
)

DATALIST_LIMIT = 400


def _require(user, capability):
    if not may(user, capability):
        raise PermissionDenied


def _managed_committee(request, pk) -> Committee:
    _require(request.user, Capability.MANAGE_PROTECTION)
    return access(request.user, Committee, Capability.MANAGE_PROTECTION, pk=pk)


def _may_manage(user, committee: Committee) -> bool:
    return visible_committees(user, Capability.MANAGE_PROTECTION).filter(pk=committee.pk).exists()


def _localities(user):
    areas = visible_areas(user, Capability.MANAGE_PROTECTION).filter(level=Area.Level.LOCALITY)
    return areas.values_list("name", flat=True)[:DATALIST_LIMIT]


# --- Committees ------------------------------------------------------------------------------


@login_required
def committee_list(request):
    _require(request.user, Capability.VIEW_PROTECTION)
    past_review = request.GET.get("past_review") == "1"
    context = {
        "committees": selectors.committees(request.user, past_review=past_review),
        "past_review": past_review,
        "overdue_plans": selectors.plans_past_review(request.user),
        "may_manage": may(request.user, Capability.MANAGE_PROTECTION),
    }
    return render(request, "protection/committee_list.html", context)


@login_required
def committee_new(request):
    _require(request.user, Capability.MANAGE_PROTECTION)
    form = CommitteeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        committee = form.save()
        messages.success(request, _("Committee %(name)s recorded.") % {"name": committee.name})
        return redirect("committee-detail", committee.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "localities": _localities(request.user)}
    return render(request, "protection/committee_new.html", context, status=status)


def _committee_context(request, committee, **forms):
    members = list(committee.members.filter(active=True))
    women = sum(1 for member in members if member.sex == "f")
    by_category = {}
    for member in members:
        row = by_category.setdefault(member.get_category_display(), {"f": 0, "m": 0})
        row[member.sex] += 1
    manage = _may_manage(request.user, committee)
    today = mission_today(committee.mission)
    versions = list(committee.plans.all())
    active = next((plan for plan in versions if plan.status == plan.Status.ACTIVE), None)
    requests = (
        active.measures.filter(by=MitigationMeasure.By.MISSION).select_related("unit")
        if active
        else []
    )
    context = {
        "committee": committee,
        "members": members,
        "women_share": women / len(members) if members else None,
        "by_category": sorted(by_category.items()),
        "meetings": committee.meetings.all()[:20],
        "trainings": committee.trainings.all()[:20],
        "plans": versions,
        "active_plan": active,
        "past_review": active.is_past_review(today) if active else False,
        "requests": requests,
        "may_manage": manage,
        "has_draft": any(plan.status == plan.Status.DRAFT for plan in versions),
    }
    if manage:
        context.update(
            member_form=forms.get("member_form") or MemberForm(),
            meeting_form=forms.get("meeting_form") or MeetingForm(),
            training_form=forms.get("training_form") or TrainingForm(),
            start_form=forms.get("start_form") or StartPlanForm(),
        )
    return context


@login_required
def committee_detail(request, pk: int):
    _require(request.user, Capability.VIEW_PROTECTION)
    committee = access(request.user, Committee, pk=pk)
    return render(
        request, "protection/committee_detail.html", _committee_context(request, committee)
    )


def _add_to_committee(request, pk, form_class, name, done):
    committee = _managed_committee(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        row = form.save(commit=False)
        row.committee = committee
        if hasattr(row, "recorded_by_id"):
            row.recorded_by = request.user
        try:
            row.full_clean()
        except ValidationError as error:
            form.add_error(None, error)
        else:
            row.save()
            messages.success(request, done)
            return redirect("committee-detail", committee.pk)
    context = _committee_context(request, committee, **{name: form})
    return render(request, "protection/committee_detail.html", context, status=400)


@login_required
@require_POST
def member_add(request, pk: int):
    return _add_to_committee(request, pk, MemberForm, "member_form", _("Member added."))


@login_required
@require_POST
def member_leave(request, pk: int, member: int):
    committee = _managed_committee(request, pk)
    seat = get_object_or_404(CommitteeMember, pk=member, committee=committee)
    if seat.active:
        seat.active = False
        seat.save(update_fields=["active"])
        messages.success(request, _("The member left the committee."))
    return redirect("committee-detail", committee.pk)


@login_required
@require_POST
def meeting_add(request, pk: int):
    return _add_to_committee(request, pk, MeetingForm, "meeting_form", _("Meeting recorded."))


@login_required
@require_POST
def training_add(request, pk: int):
    return _add_to_committee(request, pk, TrainingForm, "training_form", _("Training recorded."))


@login_required
@require_POST
def plan_start(request, pk: int):
    committee = _managed_committee(request, pk)
    form = StartPlanForm(request.POST)
    if form.is_valid():
        try:
            plan = plans.start_plan(committee, request.user, form.cleaned_data["review_on"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("plan-detail", plan.pk)
    context = _committee_context(request, committee, start_form=form)
    return render(request, "protection/committee_detail.html", context, status=400)


# --- Plans -----------------------------------------------------------------------------------


def _plan_context(request, plan, **forms):
    manage = _may_manage(request.user, plan.committee)
    today = mission_today(plan.committee.mission)
    threats = list(plan.threats.prefetch_related("perpetrators", "places"))
    context = {
        "plan": plan,
        "committee": plan.committee,
        "threats": sorted(threats, key=lambda threat: (threat.risk_rank, threat.pk)),
        "measures": plan.measures.select_related("unit", "answered_by"),
        "past_review": plan.is_past_review(today),
        "may_manage": manage,
        "measure_statuses": MitigationMeasure.Status.choices,
        "may_see_committee": visible_committees(request.user).filter(pk=plan.committee_id).exists(),
        "action_errors": forms.pop("action_errors", []),
    }
    if manage and plan.is_editable:
        context.update(
            plan_form=forms.get("plan_form") or PlanForm(instance=plan),
            threat_form=forms.get("threat_form") or ThreatForm(plan=plan),
            measure_form=forms.get("measure_form") or MeasureForm(),
        )
    return context


@login_required
def plan_detail(request, pk: int):
    plan = access(request.user, ProtectionPlan, pk=pk)
    return render(request, "protection/plan_detail.html", _plan_context(request, plan))


def _managed_plan(request, pk) -> ProtectionPlan:
    _require(request.user, Capability.MANAGE_PROTECTION)
    plan = access(request.user, ProtectionPlan, pk=pk)
    if not _may_manage(request.user, plan.committee):
        raise PermissionDenied
    return plan


def _plan_failed(request, plan, status=400, **forms):
    plan.refresh_from_db()
    return render(
        request, "protection/plan_detail.html", _plan_context(request, plan, **forms), status=status
    )


@login_required
@require_POST
def plan_edit(request, pk: int):
    plan = _managed_plan(request, pk)
    form = PlanForm(request.POST, instance=plan)
    if not plan.is_editable:
        return _plan_failed(request, plan, action_errors=[_("Only a draft can be changed.")])
    if form.is_valid():
        form.save()
        messages.success(request, _("Plan updated."))
        return redirect("plan-detail", plan.pk)
    return _plan_failed(request, plan, plan_form=form)


@login_required
@require_POST
def threat_add(request, pk: int):
    plan = _managed_plan(request, pk)
    if not plan.is_editable:
        return _plan_failed(request, plan, action_errors=[_("Only a draft can be changed.")])
    form = ThreatForm(request.POST, plan=plan)
    if form.is_valid():
        with transaction.atomic():
            form.save()
        messages.success(request, _("Threat added."))
        return redirect("plan-detail", plan.pk)
    return _plan_failed(request, plan, threat_form=form)


@login_required
@require_POST
def measure_add(request, pk: int):
    plan = _managed_plan(request, pk)
    if not plan.is_editable:
        return _plan_failed(request, plan, action_errors=[_("Only a draft can be changed.")])
    form = MeasureForm(request.POST)
    if form.is_valid():
        measure = form.save(commit=False)
        measure.plan = plan
        measure.save()
        messages.success(request, _("Measure added."))
        return redirect("plan-detail", plan.pk)
    return _plan_failed(request, plan, measure_form=form)


@login_required
@require_POST
def plan_item_remove(request, pk: int, kind: str, item: int):
    plan = _managed_plan(request, pk)
    if not plan.is_editable:
        return _plan_failed(request, plan, action_errors=[_("Only a draft can be changed.")])
    related = {"threat": plan.threats, "measure": plan.measures}.get(kind)
    if related is None:
        raise Http404
    related.filter(pk=item).delete()
    messages.success(request, _("Removed from the draft."))
    return redirect("plan-detail", plan.pk)


@login_required
@require_POST
def measure_status(request, pk: int, item: int):
    """A measure's progress changes while the plan is in force: no new version for that."""
    plan = _managed_plan(request, pk)
    measure = get_object_or_404(MitigationMeasure, pk=item, plan=plan)
    form = MeasureStatusForm(request.POST)
    if plan.status == ProtectionPlan.Status.SUPERSEDED:
        return _plan_failed(
            request, plan, action_errors=[_("A superseded plan is kept as it was.")]
        )
    if not form.is_valid():
        return _plan_failed(request, plan, action_errors=[_("Choose a status.")])
    if measure.status != form.cleaned_data["status"]:
        measure.status = form.cleaned_data["status"]
        measure.save(update_fields=["status"])
        messages.success(request, _("Status updated."))
    return redirect("plan-detail", plan.pk)


@login_required
@require_POST
def plan_activate(request, pk: int):
    plan = _managed_plan(request, pk)
    try:
        plans.activate(plan, request.user)
    except ValidationError as error:
        return _plan_failed(request, plan, action_errors=error.messages)
    plan.refresh_from_db()
    if plan.shared_with_id:
        messages.success(
            request,
            _("Version %(version)s is active and shared with %(unit)s.")
            % {"version": plan.version, "unit": plan.shared_with.code},
        )
    else:
        messages.warning(
            request,
            _("Version %(version)s is active, but no unit is responsible for this locality.")
            % {"version": plan.version},
        )
    return redirect("plan-detail", plan.pk)


@login_required
@require_POST
def plan_revise(request, pk: int):
    plan = _managed_plan(request, pk)
    try:
        draft = plans.revise(plan, request.user)
    except ValidationError as error:
        return _plan_failed(request, plan, action_errors=error.messages)
    return redirect("plan-detail", draft.pk)


def _export(request, pk, make, content_type, extension):
    _require(request.user, Capability.VIEW_PROTECTION)
    plan = access(request.user, ProtectionPlan, pk=pk)
    if not visible_committees(request.user).filter(pk=plan.committee_id).exists():
        raise PermissionDenied
    response = HttpResponse(make(plan), content_type=content_type)
    name = f"plan-{plan.committee.locality.pcode}-v{plan.version}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def plan_pdf(request, pk: int):
    return _export(request, pk, exports.plan_pdf, "application/pdf", "pdf")


@login_required
def plan_docx(request, pk: int):
    return _export(request, pk, exports.plan_docx, exports.DOCX_TYPE, "docx")


# --- The unit's plan requests ----------------------------------------------------------------


@login_required
def plan_requests(request):
    _require(request.user, Capability.ANSWER_PLAN_REQUESTS)
    shown = request.GET.get("answer", MitigationMeasure.Answer.PENDING)
    if shown not in MitigationMeasure.Answer.values:
        shown = ""
    requests = visible_plan_requests(request.user).select_related(
        "plan__committee__locality", "unit"
    )
    if shown:
        requests = requests.filter(answer=shown)
    context = {
        "requests": requests.order_by("requested_at", "pk"),
        "shown": shown,
        "answers": MitigationMeasure.Answer.choices,
        "form": AnswerForm(),
    }
    return render(request, "protection/plan_requests.html", context)


@login_required
def plan_request_detail(request, pk: int):
    _require(request.user, Capability.ANSWER_PLAN_REQUESTS)
    measure = access(request.user, MitigationMeasure, pk=pk)
    return _request_page(request, measure, AnswerForm())


def _request_page(request, measure, form, errors=(), status=200):
    context = {
        "measure": measure,
        "form": form,
        "trail": measure.trail.select_related("by", "unit"),
        "action_errors": list(errors),
    }
    return render(request, "protection/plan_request.html", context, status=status)


@login_required
@require_POST
def plan_request_answer(request, pk: int):
    _require(request.user, Capability.ANSWER_PLAN_REQUESTS)
    measure = access(request.user, MitigationMeasure, pk=pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            changed = sharing.answer_request(
                measure, form.cleaned_data["answer"], form.cleaned_data["text"], request.user
            )
        except ValidationError as error:
            return _request_page(request, measure, form, error.messages, status=400)
        if changed:
            messages.success(request, _("Answer recorded."))
        else:
            messages.info(request, _("This answer was already recorded."))
        return redirect("plan-requests")
    return _request_page(request, measure, form, status=400)


# --- Field visits ----------------------------------------------------------------------------


@login_required
def visit_list(request):
    _require(request.user, Capability.VIEW_PROTECTION)
    overdue_only = request.GET.get("overdue") == "1"
    context = {
        "visits": selectors.field_visits(request.user, overdue_only=overdue_only),
        "overdue_only": overdue_only,
        "may_manage": may(request.user, Capability.MANAGE_PROTECTION),
    }
    return render(request, "protection/visit_list.html", context)


@login_required
def visit_new(request):
    _require(request.user, Capability.MANAGE_PROTECTION)
    form = FieldVisitForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            visit = form.save(commit=False)
            visit.created_by = request.user
            visit.save()
            form.save_m2m()
            visit.places.set(form.places)
        messages.success(request, _("Field visit recorded."))
        return redirect("visit-detail", visit.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "localities": _localities(request.user)}
    return render(request, "protection/visit_new.html", context, status=status)


def _visit_context(request, visit, action_form=None):
    manage = (
        visible_field_visits(request.user, Capability.MANAGE_PROTECTION)
        .filter(pk=visit.pk)
        .exists()
    )
    today = mission_today(visit.mission)
    actions = list(visit.actions.select_related("owner_user"))
    for action in actions:
        action.overdue = action.is_overdue(today)
    return {
        "visit": visit,
        "actions": actions,
        "may_manage": manage,
        "action_form": (action_form or ActionForm(visit=visit)) if manage else None,
        "status_choices": FollowUpAction.Status.choices,
    }


@login_required
def visit_detail(request, pk: int):
    _require(request.user, Capability.VIEW_PROTECTION)
    visit = access(request.user, FieldVisit, pk=pk)
    return render(request, "protection/visit_detail.html", _visit_context(request, visit))


def _managed_visit(request, pk) -> FieldVisit:
    _require(request.user, Capability.MANAGE_PROTECTION)
    return access(request.user, FieldVisit, Capability.MANAGE_PROTECTION, pk=pk)


@login_required
@require_POST
def action_add(request, pk: int):
    visit = _managed_visit(request, pk)
    form = ActionForm(request.POST, visit=visit)
    if form.is_valid():
        form.save()
        messages.success(request, _("Follow-up action added."))
        return redirect("visit-detail", visit.pk)
    context = _visit_context(request, visit, action_form=form)
    return render(request, "protection/visit_detail.html", context, status=400)


@login_required
@require_POST
def action_status(request, pk: int, action: int):
    visit = _managed_visit(request, pk)
    row = get_object_or_404(FollowUpAction, pk=action, visit=visit)
    form = ActionStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status."))
    elif row.status != form.cleaned_data["status"]:
        row.status = form.cleaned_data["status"]
        row.save(update_fields=["status"])
        messages.success(request, _("Status updated."))
    return redirect("visit-detail", visit.pk)
