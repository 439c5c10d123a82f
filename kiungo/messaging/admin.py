"""Channels are configured here; the messages are shown for inspection only.

Senders and recipients are source identities: they never appear in the admin. The raw request
(which holds the sender's number) is shown to superusers only.
"""

import ipaddress
import json

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kiungo.lib.admin import ScopedAdmin
from kiungo.messaging.models import Channel, InboundMessage, OutboundEmail, OutboundMessage


class ChannelForm(forms.ModelForm):
    secrets = forms.CharField(
        label=_("secrets (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80, "autocomplete": "off"}),
        help_text=Channel._meta.get_field("secrets").help_text,
    )

    class Meta:
        model = Channel
        fields = [
            "mission",
            "kind",
            "name",
            "phone_number",
            "secrets",
            "allowed_ips",
            "send_per_minute",
            "notifies",
            "replies_via",
            "active",
        ]

    def clean(self):
        cleaned = super().clean()
        replies_via, mission = cleaned.get("replies_via"), cleaned.get("mission")
        if replies_via is not None:
            if mission is not None and replies_via.mission_id != mission.pk:
                self.add_error("replies_via", _("Choose a channel of the same mission."))
            elif self.instance.pk and replies_via.pk == self.instance.pk:
                self.add_error("replies_via", _("Leave it empty to reply through this channel."))
        return cleaned

    def clean_secrets(self):
        text = self.cleaned_data["secrets"].strip()
        if not text:
            return ""
        try:
            values = json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(
                _("Not valid JSON: %(error)s"), params={"error": error}
            ) from None
        if not isinstance(values, dict):
            raise forms.ValidationError(_('Enter a JSON object, such as {"secret": "…"}.'))
        return json.dumps(values, sort_keys=True)

    def clean_allowed_ips(self):
        entries = self.cleaned_data["allowed_ips"] or []
        if not isinstance(entries, list):
            raise forms.ValidationError(_("Enter a list of addresses or networks."))
        for entry in entries:
            try:
                ipaddress.ip_network(str(entry).strip(), strict=False)
            except ValueError:
                raise forms.ValidationError(
                    _("“%(entry)s” is not an IP address or network."), params={"entry": entry}
                ) from None
        return entries


@admin.register(Channel)
class ChannelAdmin(ScopedAdmin):
    scope_path = "mission"
    form = ChannelForm
    list_display = ["name", "kind", "mission", "phone_number", "notifies", "active", "created_at"]
    list_filter = ["kind", "active"]
    search_fields = ["name"]
    readonly_fields = ["uuid", "created_at"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        from kiungo.people.access import Capability, visible_missions

        missions = visible_missions(request.user, Capability.MANAGE_REFERENCE)
        if db_field.name == "mission":
            kwargs["queryset"] = missions
        elif db_field.name == "replies_via":
            kwargs["queryset"] = Channel.objects.filter(mission__in=missions, active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyScopedAdmin(ScopedAdmin):
    """Evidence: viewed, never added, changed or deleted through the admin."""

    scope_path = "channel__mission"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        fields = list(self.fields)
        if not request.user.is_superuser and "raw" in fields:
            fields.remove("raw")
        return fields


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyScopedAdmin):
    list_display = ["received_at", "channel", "state", "external_id"]
    list_filter = ["state", "channel__kind"]
    list_select_related = ["channel"]
    date_hierarchy = "received_at"
    fields = [
        "channel",
        "external_id",
        "state",
        "received_at",
        "sent_at",
        "text",
        "error",
        "raw",
    ]


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyScopedAdmin):
    list_display = ["created_at", "channel", "purpose", "recipient_label", "state", "attempts"]
    list_filter = ["state", "purpose", "channel__kind"]
    list_select_related = ["channel"]
    date_hierarchy = "created_at"
    fields = [
        "channel",
        "purpose",
        "recipient_label",
        "incident",
        "external_id",
        "state",
        "attempts",
        "created_at",
        "sent_at",
        "updated_at",
        "text",
        "error",
    ]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyScopedAdmin):
    scope_path = "incident__mission"
    list_display = ["created_at", "purpose", "recipient_label", "subject", "state", "attempts"]
    list_filter = ["state", "purpose"]
    date_hierarchy = "created_at"
    fields = [
        "purpose",
        "recipient_label",
        "to",
        "incident",
        "state",
        "attempts",
        "created_at",
        "sent_at",
        "subject",
        "body",
        "error",
    ]
