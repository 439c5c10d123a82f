"""Broadcast templates are written by administrators (one text per language). Contacts are
not in the admin site: their pages (network/views.py) keep identities protected and audited."""

from django.contrib import admin

from kiungo.lib.admin import ScopedAdmin
from kiungo.network.models import BroadcastTemplate, SourceAccess


@admin.register(BroadcastTemplate)
class BroadcastTemplateAdmin(ScopedAdmin):
    scope_path = "mission"
    list_display = ["name", "mission", "active"]
    list_filter = ["mission", "active"]


@admin.register(SourceAccess)
class SourceAccessAdmin(ScopedAdmin):
    """The audit of reveals and identity exports: read-only."""

    scope_path = "mission"
    list_display = ["at", "user", "action", "contact", "granted", "count", "reason"]
    list_filter = ["mission", "action", "granted"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
