from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kiungo.people import deployment
from kiungo.people.access import (
    Capability,
    access,
    may,
    visible_absences,
    visible_bases,
    visible_rotations,
)
from kiungo.people.forms import AbsenceForm, CompleteRotationForm, RotationForm
from kiungo.people.models import Absence, CLAProfile, Rotation
from kiungo.people.selectors import responsibilities


@login_required
def home(request):
    from kiungo.safety.selectors import home_safety

    return render(
        request,
        "people/home.html",
        {"r": responsibilities(request.user), "safety": home_safety(request.user)},
    )


@login_required
def cla_detail(request, pk: int):
    profile = access(request.user, CLAProfile, Capability.VIEW_PEOPLE, pk=pk)
    return render(
        request,
        "people/cla_detail.html",
        {
            "profile": profile,
            "deployments": profile.deployments.select_related("base").order_by("-starts_on"),
            "rotations": profile.rotations.select_related("to_base").order_by("-planned_on"),
            "absences": profile.absences.order_by("-starts_on"),
            "manages": may(request.user, Capability.MANAGE_CLAS)
            and _manageable(request.user, profile),
            "sees_safety": may(request.user, Capability.VIEW_SAFETY),
        },
    )


def _manageable(user, profile: CLAProfile) -> bool:
    from kiungo.people.access import visible_clas

    return visible_clas(user, Capability.MANAGE_CLAS).filter(pk=profile.pk).exists()


def _managed_cla(user, pk: int) -> CLAProfile:
    if not may(user, Capability.MANAGE_CLAS):
        raise PermissionDenied
    return access(user, CLAProfile, Capability.MANAGE_CLAS, pk=pk)


@login_required
def deployments(request):
    """Who is deployed where since when, per region and base; bases short of CLAs first
    flagged; planned rotations; current and coming absences."""
    if not may(request.user, Capability.VIEW_PEOPLE):
        raise PermissionDenied
    bases = list(
        visible_bases(request.user, Capability.VIEW_PEOPLE).select_related("locality", "mission")
    )
    missions = {base.mission for base in bases}
    today = deployment.local_today(min(missions, key=lambda m: m.code)) if missions else None
    rows = deployment.presence(bases, today) if today else []
    rotations = (
        visible_rotations(request.user)
        .filter(status=Rotation.Status.PLANNED)
        .select_related("cla__user", "cla__base", "to_base")
        .order_by("planned_on")
    )
    absences = (
        visible_absences(request.user)
        .filter(ends_on__gte=today)
        .select_related("cla__user", "cla__base")
        .order_by("starts_on")
        if today
        else Absence.objects.none()
    )
    return render(
        request,
        "people/deployments.html",
        {
            "rows": rows,
            "short": [row for row in rows if row.short],
            "today": today,
            "rotations": rotations[:200],
            "absences": absences[:200],
            "minimum": deployment.MINIMUM_PRESENT,
            "manages": may(request.user, Capability.MANAGE_CLAS),
        },
    )


def _apply_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@login_required
def rotation_new(request, pk: int):
    profile = _managed_cla(request.user, pk)
    bases = visible_bases(request.user, Capability.MANAGE_CLAS).filter(closed_on__isnull=True)
    if profile.base_id:
        bases = bases.filter(mission_id=profile.base.mission_id).exclude(pk=profile.base_id)
    form = RotationForm(request.POST or None, bases=bases.order_by("name"))
    if request.method == "POST" and form.is_valid():
        try:
            deployment.plan_rotation(profile, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Rotation planned."))
            return redirect("cla-detail", pk=profile.pk)
    return render(
        request,
        "people/cla_form.html",
        {"profile": profile, "form": form, "title": _("Plan a rotation")},
    )


@login_required
def absence_new(request, pk: int):
    profile = _managed_cla(request.user, pk)
    form = AbsenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            deployment.record_absence(profile, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("Absence recorded."))
            return redirect("cla-detail", pk=profile.pk)
    return render(
        request,
        "people/cla_form.html",
        {"profile": profile, "form": form, "title": _("Record an absence")},
    )


def _managed_rotation(user, pk: int) -> Rotation:
    if not may(user, Capability.MANAGE_CLAS):
        raise PermissionDenied
    return access(user, Rotation, Capability.MANAGE_CLAS, pk=pk)


@login_required
def rotation_complete(request, pk: int):
    rotation = _managed_rotation(request.user, pk)
    form = CompleteRotationForm(request.POST or None, initial={"on": rotation.planned_on})
    if request.method == "POST" and form.is_valid():
        try:
            deployment.complete_rotation(rotation, on=form.cleaned_data["on"], by=request.user)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(
                request, _("Rotation carried out: the CLA now serves at the new base.")
            )
            return redirect("cla-detail", pk=rotation.cla_id)
    return render(
        request,
        "people/cla_form.html",
        {
            "profile": rotation.cla,
            "form": form,
            "title": _("Carry out the rotation to %(base)s") % {"base": rotation.to_base.name},
        },
    )


@login_required
@require_POST
def rotation_cancel(request, pk: int):
    rotation = _managed_rotation(request.user, pk)
    if deployment.cancel_rotation(rotation):
        messages.success(request, _("Rotation cancelled."))
    else:
        messages.error(request, _("This rotation is no longer planned."))
    return redirect("cla-detail", pk=rotation.cla_id)
