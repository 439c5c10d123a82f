"""The outbox page: every SMS and e-mail Kiungo wrote, for the officers who watch delivery.

Recipients are shown by their label (a unit's duty phone, a contact's pseudonym, an
officer's name), never by number or address: `to` is not even read from the database.
A message belongs to the mission of its channel (SMS) or of its incident (e-mail); e-mails
with no incident belong to no mission and are not listed.
"""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import CharField, Value
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from kiungo.lib.logging import redact
from kiungo.messaging.models import OutboundEmail, OutboundMessage, Purpose
from kiungo.people.access import Capability, may, visible_missions

PAGE_SIZE = 50
FILTER_KEYS = ("kind", "state", "purpose", "incident")
SMS, EMAIL = "sms", "email"


class OutboxFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Sent by"),
        required=False,
        choices=[("", _("SMS and e-mail")), (SMS, _("SMS")), (EMAIL, _("E-mail"))],
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All states")), *OutboundMessage.State.choices],
    )
    purpose = forms.ChoiceField(
        label=_("Purpose"), required=False, choices=[("", _("All purposes")), *Purpose.choices]
    )
    incident = forms.CharField(
        label=_("Incident"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"placeholder": _("Reference")}),
    )

    def filters(self) -> dict:
        self.is_valid()  # invalid fields are reported and ignored; the others still filter
        data = self.cleaned_data
        return {
            "kind": data.get("kind") or "",
            "state": data.get("state") or "",
            "purpose": data.get("purpose") or "",
            "incident": (data.get("incident") or "").strip().upper(),
        }


def _filtered(queryset, *, state, purpose, incident):
    if state:
        queryset = queryset.filter(state=state)
    if purpose:
        queryset = queryset.filter(purpose=purpose)
    if incident:
        queryset = queryset.filter(incident__reference=incident)
    return queryset


def outbox_rows(user, *, kind="", state="", purpose="", incident=""):
    """(kind, pk, created_at) of the messages in the user's missions, newest first: one
    UNION query that pages both tables together; the page's rows are read afterwards."""
    missions = visible_missions(user, Capability.VIEW_OUTBOX)
    wanted = {"state": state, "purpose": purpose, "incident": incident}
    parts = []
    if kind in ("", SMS):
        sms = _filtered(OutboundMessage.objects.filter(channel__mission__in=missions), **wanted)
        parts.append(sms.annotate(kind=Value(SMS, output_field=CharField())))
    if kind in ("", EMAIL):
        mail = _filtered(OutboundEmail.objects.filter(incident__mission__in=missions), **wanted)
        parts.append(mail.annotate(kind=Value(EMAIL, output_field=CharField())))
    parts = [part.order_by().values_list("kind", "pk", "created_at") for part in parts]
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return rows.order_by("-created_at", "-pk")


def messages_of_page(rows) -> list:
    """The messages behind a page of `outbox_rows`, in its order (two queries at most)."""
    sms_ids = [pk for kind, pk, _created in rows if kind == SMS]
    email_ids = [pk for kind, pk, _created in rows if kind == EMAIL]
    found = {}
    for message in (
        OutboundMessage.objects.filter(pk__in=sms_ids)
        .select_related("channel__mission", "incident")
        .defer("to", "to_hash")  # never read, never shown
    ):
        message.kind, message.zone = SMS, message.channel.mission.time_zone
        found[SMS, message.pk] = message
    for message in (
        OutboundEmail.objects.filter(pk__in=email_ids)
        .select_related("incident__mission")
        .defer("to")
    ):
        message.kind = EMAIL
        message.zone = message.incident.mission.time_zone if message.incident else None
        found[EMAIL, message.pk] = message
    page = [found[kind, pk] for kind, pk, _created in rows if (kind, pk) in found]
    retried = (OutboundMessage.State.ERRORED, OutboundMessage.State.FAILED)
    for message in page:
        message.failed = message.state == OutboundMessage.State.FAILED
        # Redacted when written already; twice costs nothing and guards the page.
        message.safe_error = redact(message.error) if message.state in retried else ""
    return page


@login_required
def outbox(request):
    """Messages sent and to be sent, with their delivery state, newest first."""
    if not may(request.user, Capability.VIEW_OUTBOX):
        raise PermissionDenied
    form = OutboxFilterForm(request.GET)
    page = Paginator(outbox_rows(request.user, **form.filters()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    for key in list(query):
        if key not in FILTER_KEYS:
            del query[key]
    context = {
        "form": form,
        "page": page,
        "messages_shown": messages_of_page(page.object_list),
        "query": query.urlencode(),
    }
    return render(request, "messaging/outbox.html", context)
