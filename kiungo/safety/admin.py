from django.contrib import admin

from kiungo.lib.admin import ScopedAdmin
from kiungo.safety.models import CheckInPolicy


@admin.register(CheckInPolicy)
class CheckInPolicyAdmin(ScopedAdmin):
    """Each mission's check-in schedule, escalation delays and duress word. Check-ins and
    alarms are not in the admin site: they are seen on the safety pages, by those allowed."""

    scope_path = "mission"
    list_display = ["mission", "active", "schedule", "every_hours", "daily_by", "grace_minutes"]
    list_filter = ["active", "schedule"]
