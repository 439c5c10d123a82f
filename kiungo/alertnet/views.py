"""The alert-network pages: thin; the rules live in coverage.py, health.py and assets.py.

Every page is about one base the user may see for the capability it needs (else 404), or the
mission overview (the bases in scope). Contacts appear by pseudonym only.
"""

import csv
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kiungo.alertnet import assets, health
from kiungo.alertnet.coverage import base_contacts, coverage_of, is_working, working_since
from kiungo.alertnet.forms import (
    BudgetForm,
    HotlineDistributionForm,
    IssuePhoneForm,
    MissingPhoneForm,
    MonthForm,
    RadioStationForm,
    TopUpForm,
)
from kiungo.alertnet.mapping import coverage_map
from kiungo.alertnet.models import (
    HotlineDistribution,
    IssuedPhone,
    NetworkPolicy,
    NetworkTest,
    RadioStation,
    SecurityEvent,
    SilenceNotice,
)
from kiungo.forces.models import Base
from kiungo.people.access import (
    Capability,
    access,
    may,
    visible_bases,
    visible_issued_phones,
    visible_missions,
    visible_security_events,
)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(value):
    """Text a spreadsheet would run as a formula gets a leading quote (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _base(request, pk: int, capability: Capability) -> Base:
    if not may(request.user, capability):
        raise PermissionDenied
    return access(request.user, Base, capability, pk=pk)


def _today(base: Base):
    return timezone.localdate(timezone=ZoneInfo(base.mission.time_zone))


@login_required
def overview(request):
    """Coverage across the bases the user may see in one mission: counts, map, table."""
    if not may(request.user, Capability.VIEW_NETWORK):
        raise PermissionDenied
    missions = list(visible_missions(request.user, Capability.VIEW_NETWORK).order_by("code"))
    if not missions:
        raise PermissionDenied
    wanted = request.GET.get("mission", "")
    mission = next((m for m in missions if m.code == wanted), missions[0])
    bases = list(
        visible_bases(request.user, Capability.VIEW_NETWORK)
        .filter(mission=mission, closed_on__isnull=True)
        .select_related("mission")
        .order_by("name")
    )
    coverage = coverage_of(bases)
    per_base = {base.pk: {"base": base, "localities": 0, "covered": 0} for base in bases}
    for row in coverage.localities:
        per_base[row.base.pk]["localities"] += 1
        per_base[row.base.pk]["covered"] += row.covered
    for base_id, (test, cell) in health.latest_tests(bases).items():
        per_base[base_id]["test"], per_base[base_id]["reached"] = test, cell
    events = visible_security_events(request.user).filter(base__mission=mission)
    context = {
        "missions": missions,
        "mission": mission,
        "coverage": coverage,
        "per_base": per_base.values(),
        "map": coverage_map(coverage.localities),
        "policy": NetworkPolicy.of(mission),
        "events": events.select_related("contact", "base")[:20],
    }
    return render(request, "alertnet/overview.html", context)


@login_required
def base_network(request, pk: int):
    """A base's network: coverage (map and table), contacts, radios, hotline cards, notices."""
    base = _base(request, pk, Capability.VIEW_NETWORK)
    policy = NetworkPolicy.of(base.mission)
    since = working_since(policy)
    coverage = coverage_of([base])
    contacts = list(
        base_contacts(base)
        .defer("name", "phone")  # never shown: not even decrypted
        .select_related("home_locality")
        .order_by("code")
    )
    for contact in contacts:
        contact.working = is_working(contact, since)
    notices = SilenceNotice.objects.filter(contact__in=[c.pk for c in contacts]).select_related(
        "contact", "cla"
    )
    context = {
        "base": base,
        "policy": policy,
        "coverage": coverage,
        "map": coverage_map(coverage.localities),
        "contacts": contacts,
        "radios": RadioStation.objects.filter(base=base).select_related("locality", "contact"),
        "hotlines": HotlineDistribution.objects.filter(base=base).select_related(
            "locality", "distributed_by"
        ),
        "notices": notices[:50],
        "manages": visible_bases(request.user, Capability.MANAGE_NETWORK)
        .filter(pk=base.pk)
        .exists(),
    }
    return render(request, "alertnet/network.html", context)


def _form_page(request, base, form, title):
    return render(
        request, "alertnet/form.html", {"base": base, "form": form, "title": title}, status=200
    )


@login_required
def radio_new(request, pk: int):
    base = _base(request, pk, Capability.MANAGE_NETWORK)
    form = RadioStationForm(request.POST or None, base=base)
    if request.method == "POST":
        if form.is_valid():
            station = form.save()
            messages.success(request, _("Radio station %(name)s added.") % {"name": station})
            return redirect("network-base", pk=base.pk)
        return _invalid(request, base, form, _("Add a radio station"))
    return _form_page(request, base, form, _("Add a radio station"))


@login_required
def hotline_new(request, pk: int):
    base = _base(request, pk, Capability.MANAGE_NETWORK)
    form = HotlineDistributionForm(request.POST or None, base=base)
    if request.method == "POST":
        if form.is_valid():
            form.save(request.user)
            messages.success(request, _("Hotline cards recorded."))
            return redirect("network-base", pk=base.pk)
        return _invalid(request, base, form, _("Record hotline cards handed out"))
    form.initial.setdefault("distributed_on", _today(base))
    return _form_page(request, base, form, _("Record hotline cards handed out"))


def _invalid(request, base, form, title):
    return render(
        request, "alertnet/form.html", {"base": base, "form": form, "title": title}, status=400
    )


# Health


@login_required
def base_health(request, pk: int):
    base = _base(request, pk, Capability.VIEW_NETWORK)
    context = {
        "base": base,
        "policy": NetworkPolicy.of(base.mission),
        "reach": health.reachability(base),
        "tests": NetworkTest.objects.filter(base=base).select_related("started_by")[:20],
        "manages": visible_bases(request.user, Capability.MANAGE_NETWORK)
        .filter(pk=base.pk)
        .exists(),
    }
    return render(request, "alertnet/health.html", context)


@login_required
@require_POST
def test_start(request, pk: int):
    base = _base(request, pk, Capability.MANAGE_NETWORK)
    try:
        test = health.start_test(base, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Network test sent to %(count)d contacts.") % {"count": test.recipients.count()},
        )
    return redirect("network-health", pk=base.pk)


# Phones


@login_required
def base_phones(request, pk: int):
    base = _base(request, pk, Capability.MANAGE_NETWORK)
    form = IssuePhoneForm(request.POST or None, base=base)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                assets.issue_phone(
                    base=base,
                    contact=data["contact"],
                    model=data["model"],
                    imei=data["imei"],
                    issued_on=data["issued_on"],
                    by=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Phone issue recorded."))
                return redirect("network-phones", pk=base.pk)
        status = 400
    else:
        form.initial.setdefault("issued_on", _today(base))
    context = {
        "base": base,
        "form": form,
        "phones": IssuedPhone.objects.filter(base=base).select_related("contact", "issued_by"),
        "events": SecurityEvent.objects.filter(base=base).select_related("contact", "reported_by")[
            :50
        ],
    }
    return render(request, "alertnet/phones.html", context, status=status)


def _phone(request, pk: int) -> IssuedPhone:
    if not may(request.user, Capability.MANAGE_NETWORK):
        raise PermissionDenied
    return get_object_or_404(
        visible_issued_phones(request.user).select_related("base__mission", "contact"), pk=pk
    )


@login_required
@require_POST
def phone_return(request, pk: int):
    phone = _phone(request, pk)
    try:
        assets.return_phone(phone, on=_today(phone.base))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Phone marked as returned."))
    return redirect("network-phones", pk=phone.base_id)


@login_required
def phone_missing(request, pk: int):
    phone = _phone(request, pk)
    if phone.status != IssuedPhone.Status.ISSUED:
        raise Http404
    form = MissingPhoneForm(request.POST or None, initial={"on": _today(phone.base)})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                assets.report_missing(
                    phone,
                    stolen=data["stolen"],
                    on=data["on"],
                    circumstances=data["circumstances"],
                    by=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _("Security event recorded; the CLA managers are told by e-mail."),
                )
                return redirect("network-phones", pk=phone.base_id)
        status = 400
    context = {"base": phone.base, "phone": phone, "form": form}
    return render(request, "alertnet/phone_missing.html", context, status=status)


# Airtime


def _month(request, base):
    form = MonthForm(request.GET)
    if form.is_valid() and form.cleaned_data["month"]:
        return assets.month_of(form.cleaned_data["month"])
    return assets.month_of(_today(base))


@login_required
def base_airtime(request, pk: int):
    base = _base(request, pk, Capability.MANAGE_AIRTIME)
    month = _month(request, base)
    return _airtime_page(request, base, month, TopUpForm(base=base, initial=_top_up_initial(base)))


def _top_up_initial(base):
    return {"on": _today(base)}


def _airtime_page(request, base, month, top_up_form, budget_form=None, status=200):
    report = assets.spending(base, month)
    budget_form = budget_form or BudgetForm(
        initial={
            "month": month,
            "amount": report.budget.amount if report.budget else None,
            "currency": report.currency or "USD",
        }
    )
    if report.budget and not top_up_form.is_bound:
        top_up_form.initial.setdefault("currency", report.currency)
    context = {
        "base": base,
        "report": report,
        "month": month,
        "top_up_form": top_up_form,
        "budget_form": budget_form,
    }
    return render(request, "alertnet/airtime.html", context, status=status)


@login_required
@require_POST
def top_up_new(request, pk: int):
    base = _base(request, pk, Capability.MANAGE_AIRTIME)
    form = TopUpForm(request.POST, base=base)
    if form.is_valid():
        data = form.cleaned_data
        try:
            assets.record_top_up(
                base=base,
                contact=data["contact"],
                amount=data["amount"],
                currency=data["currency"],
                operator=data["operator"],
                on=data["on"],
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Top-up recorded."))
            return _to_airtime(base, data["on"])
    month = assets.month_of(form.cleaned_data.get("on") or _today(base))
    return _airtime_page(request, base, month, form, status=400)


@login_required
@require_POST
def budget_set(request, pk: int):
    base = _base(request, pk, Capability.MANAGE_AIRTIME)
    form = BudgetForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            assets.set_budget(
                base=base, month=data["month"], amount=data["amount"], currency=data["currency"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Budget saved."))
            return _to_airtime(base, data["month"])
    month = assets.month_of(form.cleaned_data.get("month") or _today(base))
    return _airtime_page(
        request, base, month, TopUpForm(base=base, initial=_top_up_initial(base)), form, 400
    )


def _to_airtime(base, day):
    return redirect(f"{reverse('network-airtime', args=[base.pk])}?month={day:%Y-%m}")


CSV_COLUMNS = ["row", "base", "month", "date", "contact", "operator", "amount", "currency"]


@login_required
def airtime_csv(request, pk: int):
    """The month's top-ups, then one line per operator, then budget, spent and remaining.
    Contacts by pseudonym; column names fixed (not translated) for scripts."""
    base = _base(request, pk, Capability.MANAGE_AIRTIME)
    month = _month(request, base)
    report = assets.spending(base, month)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"kiungo-airtime-{base.mission.code}-{base.code}-{month:%Y-%m}"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    key = (base.code, f"{month:%Y-%m}")
    for top_up in report.top_ups:
        writer.writerow(
            _safe(value)
            for value in (
                "top_up",
                *key,
                top_up.topped_up_on.isoformat(),
                top_up.contact.code,
                top_up.operator,
                top_up.amount,
                top_up.currency,
            )
        )
    for line in report.operators:
        writer.writerow(
            _safe(value)
            for value in ("operator", *key, "", "", line.operator, line.spent, report.currency)
        )
    if report.budget:
        for row, amount in (
            ("budget", report.budget.amount),
            ("spent", report.spent),
            ("remaining", report.remaining),
        ):
            writer.writerow([row, *key, "", "", "", amount, report.currency])
    return response
