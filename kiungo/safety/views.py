from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kiungo.people.access import Capability, access, may
from kiungo.people.deployment import cla_mission
from kiungo.people.models import CLAProfile
from kiungo.safety import checkins, selectors
from kiungo.safety.forms import CloseAlarmForm, LocationForm
from kiungo.safety.models import Alarm, Channel


def _own_profile(user) -> CLAProfile:
    profile = getattr(user, "cla_profile", None) if hasattr(user, "cla_profile") else None
    if profile is None:
        raise PermissionDenied
    return profile


def _signal(request, act, done: str):
    """Run a CLA's web check-in or SOS; errors go back to the home page, nothing saved."""
    profile = _own_profile(request.user)
    form = LocationForm(request.POST, mission=cla_mission(profile))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("home")
    try:
        act(profile, form.location())
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    return redirect("home")


@login_required
@require_POST
def check_in(request):
    return _signal(
        request,
        lambda profile, place: checkins.check_in(profile, channel=Channel.WEB, **place),
        _("Check-in recorded. Thank you."),
    )


@login_required
@require_POST
def sos(request):
    return _signal(
        request,
        lambda profile, place: checkins.raise_alarm(
            profile, Alarm.Kind.SOS, channel=Channel.WEB, **place
        ),
        _("SOS sent: your manager and the security officers are being told now."),
    )


def _require_safety(user):
    if not may(user, Capability.VIEW_SAFETY):
        raise PermissionDenied


@login_required
def overview(request):
    _require_safety(request.user)
    return render(request, "safety/overview.html", selectors.overview(request.user))


@login_required
def cla_safety(request, pk: int):
    _require_safety(request.user)
    profile = access(request.user, CLAProfile, Capability.VIEW_SAFETY, pk=pk)
    return render(
        request,
        "safety/cla.html",
        {
            "profile": profile,
            "status": getattr(profile, "safety", None) if hasattr(profile, "safety") else None,
            "check_ins": profile.check_ins.select_related("area")[:50],
            "alarms": profile.alarms.select_related("area", "closed_by")[:50],
            "close_form": CloseAlarmForm(),
        },
    )


@login_required
@require_POST
def close_alarm(request, pk: int):
    _require_safety(request.user)
    alarm = access(request.user, Alarm, pk=pk)
    form = CloseAlarmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say how it was resolved before closing."))
    elif checkins.close_alarm(alarm, by=request.user, note=form.cleaned_data["note"]):
        messages.success(request, _("Alarm closed."))
    else:
        messages.error(request, _("This alarm was already closed."))
    return redirect("safety-cla", pk=alarm.cla_id)
