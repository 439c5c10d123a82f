"""Contact, outreach and broadcast pages. Thin: the rules are in contacts.py and broadcasts.py,
the permissions in people/access.py. Lists and pages show pseudonyms; only the reveal page and
the identity export carry names and numbers, and both are uncached and audited."""

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kiungo.network import broadcasts as broadcast_rules
from kiungo.network import contacts as contact_rules
from kiungo.network.forms import (
    BroadcastForm,
    ConsentForm,
    ContactFilterForm,
    ContactForm,
    EraseForm,
    IdentityExportForm,
    OutreachForm,
    ReasonForm,
)
from kiungo.network.models import Broadcast, Contact
from kiungo.people.access import (
    Capability,
    access,
    may,
    revealable_contacts,
    visible_alerts,
    visible_broadcasts,
    visible_contacts,
    visible_outreach,
)
from kiungo.people.models import CLAProfile

PAGE_SIZE = 100


def _require(user, capability):
    if not may(user, capability):
        raise PermissionDenied


def _ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _filtered_contacts(request):
    _require(request.user, Capability.VIEW_CONTACTS)
    form = ContactFilterForm(request.GET or None, user=request.user)
    contacts = visible_contacts(request.user).select_related("home_locality", "managed_by")
    if form.is_bound and form.is_valid():
        contacts = form.apply(contacts)
    return form, contacts.order_by("mission__code", "code")


@login_required
def contact_list(request):
    form, contacts = _filtered_contacts(request)
    page = Paginator(contacts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "query": request.GET.urlencode(),
        "may_manage": may(request.user, Capability.MANAGE_CONTACTS),
    }
    return render(request, "network/contact_list.html", context)


@login_required
def contact_csv(request):
    """The contacts in scope (with the list's filters), pseudonymised: no name, no number."""
    _form, contacts = _filtered_contacts(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="contacts.csv"'
    writer = csv.writer(response)
    for row in contact_rules.pseudonymised_rows(contacts):
        writer.writerow(row)
    return response


def _contact(request, pk, capability=Capability.VIEW_CONTACTS) -> Contact:
    return access(request.user, Contact, capability, pk=pk)


@login_required
def contact_detail(request, pk: int):
    contact = _contact(request, pk)
    user = request.user
    may_manage = visible_contacts(user, Capability.MANAGE_CONTACTS).filter(pk=pk).exists()
    alerts = list(contact.alerts.order_by("-received_at")[:20])
    may_reveal = revealable_contacts(user).filter(pk=pk).exists()
    context = {
        "contact": contact,
        "consents": contact.consents.select_related("recorded_by")[:50],
        "alerts": alerts,
        "visible_alert_ids": set(
            visible_alerts(user).filter(pk__in=[a.pk for a in alerts]).values_list("pk", flat=True)
        ),
        # Those who may reveal see who else asked (the full audit is in the admin site).
        "accesses": contact.accesses.select_related("user")[:20] if may_reveal else None,
        "may_manage": may_manage,
        "may_reveal": may_reveal,
        "consent_form": ConsentForm(
            initial={
                "consents_to_contact": contact.consents_to_contact,
                "consents_to_feedback": contact.consents_to_feedback,
            }
        ),
        "reveal_form": ReasonForm(),
        "erase_form": EraseForm(contact=contact),
        "number_count": (1 if contact.phone else 0) + contact.numbers.count(),
    }
    return render(request, "network/contact_detail.html", context)


@login_required
def contact_new(request):
    _require(request.user, Capability.MANAGE_CONTACTS)
    form = ContactForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        contact = form.save(commit=False)
        contact.mission = contact.home_locality.mission
        contact.name = form.cleaned_data["contact_name"]
        try:
            contact_rules.save_contact(
                contact,
                form.cleaned_data["numbers"] or [],
                request.user,
                prefix=form.cleaned_data["prefix"],
                consent_method=form.cleaned_data["consent_method"],
            )
        except ValidationError as error:
            form.add_error("numbers", error)
        else:
            messages.success(request, _("Contact %(code)s created.") % {"code": contact.code})
            return redirect("contact-detail", contact.pk)
    elif request.method != "POST":
        profile = CLAProfile.objects.filter(user=request.user).select_related("base").first()
        area = profile.base.locality if profile and profile.base else None
        area = area or form.fields["home_locality"].queryset.first()
        form.initial.setdefault("prefix", contact_rules.default_prefix(area))
    return render(request, "network/contact_form.html", {"form": form, "contact": None})


@login_required
def contact_edit(request, pk: int):
    contact = _contact(request, pk, Capability.MANAGE_CONTACTS)
    if contact.erased_at:
        raise Http404
    form = ContactForm(request.POST or None, instance=contact, user=request.user)
    if request.method == "POST" and form.is_valid():
        contact = form.save(commit=False)
        if form.cleaned_data["contact_name"]:
            contact.name = form.cleaned_data["contact_name"]
        try:
            contact_rules.save_contact(contact, form.cleaned_data["numbers"], request.user)
        except ValidationError as error:
            form.add_error("numbers", error)
        else:
            messages.success(request, _("Contact %(code)s saved.") % {"code": contact.code})
            return redirect("contact-detail", contact.pk)
    return render(request, "network/contact_form.html", {"form": form, "contact": contact})


@login_required
@require_POST
def contact_consent(request, pk: int):
    contact = _contact(request, pk, Capability.MANAGE_CONTACTS)
    form = ConsentForm(request.POST)
    if contact.erased_at or not form.is_valid():
        messages.error(request, _("Consent not recorded: choose how it was given."))
        return redirect("contact-detail", contact.pk)
    contact_rules.record_consent(
        contact,
        to_contact=form.cleaned_data["consents_to_contact"],
        to_feedback=form.cleaned_data["consents_to_feedback"],
        method=form.cleaned_data["method"],
        by=request.user,
    )
    messages.success(request, _("Consent recorded."))
    return redirect("contact-detail", contact.pk)


@login_required
@require_POST
def contact_status(request, pk: int):
    contact = _contact(request, pk, Capability.MANAGE_CONTACTS)
    try:
        contact_rules.set_active(contact, request.POST.get("active") == "1")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Status saved."))
    return redirect("contact-detail", contact.pk)


@login_required
@require_POST
def contact_erase(request, pk: int):
    contact = _contact(request, pk, Capability.MANAGE_CONTACTS)
    form = EraseForm(request.POST, contact=contact)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["confirm_code"]))
    elif not contact.erased_at:
        contact_rules.erase(contact, by=request.user, reason=_("on the contact's request"))
        messages.success(
            request, _("The identity of %(code)s was erased.") % {"code": contact.code}
        )
    return redirect("contact-detail", contact.pk)


@never_cache
@login_required
@require_POST
def contact_reveal(request, pk: int):
    """The real name and numbers, once, for a reason; refused and granted reveals are recorded
    (404 outside the user's scope, 403 inside it without the right)."""
    contact = get_object_or_404(Contact, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        _contact(request, pk)  # out of scope: 404 before saying anything about the reason
        messages.error(request, _("Give the reason (at least 10 characters)."))
        return redirect("contact-detail", contact.pk)
    try:
        identity = contact_rules.reveal(
            contact, request.user, form.cleaned_data["reason"], _ip(request)
        )
    except contact_rules.Refused as refusal:
        if refusal.hidden:
            raise Http404 from None
        raise PermissionDenied from None
    response = render(
        request, "network/contact_reveal.html", {"contact": contact, "identity": identity}
    )
    response["Cache-Control"] = "no-store, private"
    return response


@never_cache
@login_required
def identity_export(request):
    """A bulk export of identities: refused to all but EXPORT_SOURCE_IDENTITIES, audited."""
    _require(request.user, Capability.VIEW_CONTACTS)
    form = IdentityExportForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        out = io.StringIO()
        try:
            contact_rules.identity_export(
                form.cleaned_data["mission"],
                request.user,
                form.cleaned_data["reason"],
                out,
                _ip(request),
            )
        except contact_rules.Refused:
            raise PermissionDenied from None
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="contact-identities.csv"'
        response["Cache-Control"] = "no-store, private"
        return response
    allowed = may(request.user, Capability.EXPORT_SOURCE_IDENTITIES)
    return render(request, "network/identity_export.html", {"form": form, "allowed": allowed})


# Outreach activities


@login_required
def outreach_list(request):
    _require(request.user, Capability.LOG_OUTREACH)
    activities = visible_outreach(request.user).select_related("area", "cla__user")
    page = Paginator(activities, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "network/outreach_list.html", {"page": page})


@login_required
def outreach_new(request):
    _require(request.user, Capability.LOG_OUTREACH)
    form = OutreachForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        activity = form.save(commit=False)
        activity.mission = activity.area.mission
        activity.created_by = request.user
        activity.save()
        messages.success(request, _("Outreach activity recorded."))
        return redirect("outreach-list")
    return render(request, "network/outreach_form.html", {"form": form})


# Broadcast SMS


@login_required
def broadcast_list(request):
    _require(request.user, Capability.SEND_BROADCASTS)
    broadcasts = visible_broadcasts(request.user).select_related("template", "area", "created_by")
    page = Paginator(broadcasts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "network/broadcast_list.html", {"page": page})


@login_required
def broadcast_new(request):
    _require(request.user, Capability.SEND_BROADCASTS)
    form = BroadcastForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            broadcast = broadcast_rules.prepare(
                data["template"], data["area"], data["languages"], request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("broadcast-detail", broadcast.pk)
    return render(request, "network/broadcast_form.html", {"form": form})


@login_required
def broadcast_detail(request, pk: int):
    broadcast = access(request.user, Broadcast, pk=pk)
    context = {"broadcast": broadcast}
    if broadcast.state == Broadcast.State.PREPARED:
        context["now_count"] = len(
            broadcast_rules.recipients(broadcast.template, broadcast.area, broadcast.languages)
        )
    else:
        context["delivery"] = broadcast_rules.delivery(broadcast)
    return render(request, "network/broadcast_detail.html", context)


@login_required
@require_POST
def broadcast_send(request, pk: int):
    broadcast = access(request.user, Broadcast, pk=pk)
    if request.POST.get("action") == "cancel":
        broadcast_rules.cancel(broadcast)
        return redirect("broadcast-detail", broadcast.pk)
    try:
        count = broadcast_rules.send(broadcast)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if count is not None:  # None: already sent (a double click, a retry)
            messages.success(
                request, _("Broadcast queued for %(count)d contacts.") % {"count": count}
            )
    return redirect("broadcast-detail", broadcast.pk)
