"""The admin site asks kiungo.people.access too: administrators edit their missions' data."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class KiungoAdminSite(admin.AdminSite):
    site_header = "Kiungo"
    site_title = "Kiungo"

    def has_permission(self, request):
        from kiungo.people.access import Capability, has_capability

        user = request.user
        return (
            user.is_active
            and user.is_staff
            and (user.is_superuser or has_capability(user, Capability.MANAGE_REFERENCE))
        )


class KiungoAdminConfig(AdminConfig):
    default_site = "kiungo.lib.admin.KiungoAdminSite"


class CapabilityPermissions:
    """Admin permissions from the administrator's role (not Django's per-model permissions)."""

    def _allowed(self, request):
        from kiungo.people.access import Capability, has_capability

        return request.user.is_superuser or has_capability(
            request.user, Capability.MANAGE_REFERENCE
        )

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request, obj=None):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request)


class ScopedTabularInline(CapabilityPermissions, admin.TabularInline):
    extra = 0


class ScopedStackedInline(CapabilityPermissions, admin.StackedInline):
    extra = 0


class ScopedAdmin(CapabilityPermissions, admin.ModelAdmin):
    """Lists and edits only the objects of the missions the administrator holds.

    `scope_path` is the lookup from this model to its Mission ("" when it is a Mission).
    """

    scope_path = ""

    def get_queryset(self, request):
        from kiungo.people.access import Capability, visible_missions

        queryset = super().get_queryset(request)
        missions = visible_missions(request.user, Capability.MANAGE_REFERENCE)
        lookup = f"{self.scope_path}__in" if self.scope_path else "pk__in"
        return queryset.filter(**{lookup: missions})
