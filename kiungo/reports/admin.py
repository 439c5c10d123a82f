"""Administrators configure each mission's report headings, schedule and distribution lists.
Reports themselves are read in the app (their versions are immutable; no admin editing)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kiungo.lib.admin import ScopedAdmin
from kiungo.reports.headings import install_default_headings
from kiungo.reports.models import DistributionList, ReportHeading, ReportingSchedule


@admin.register(ReportHeading)
class ReportHeadingAdmin(ScopedAdmin):
    scope_path = "mission"
    list_display = ["mission", "kind", "position", "key", "title", "required", "active"]
    list_editable = ["position", "title", "required", "active"]
    list_filter = ["mission", "kind", "active"]
    ordering = ["mission", "kind", "position"]


@admin.register(ReportingSchedule)
class ReportingScheduleAdmin(ScopedAdmin):
    scope_path = "mission"
    list_display = ["mission", "daily_due", "weekly_due_weekday", "weekly_due", "remind_before"]
    actions = ["add_default_headings"]

    @admin.action(description=_("Copy the default report headings to these missions, to edit"))
    def add_default_headings(self, request, queryset):
        added = sum(install_default_headings(schedule.mission) for schedule in queryset)
        messages.info(
            request,
            ngettext("%(count)d heading added.", "%(count)d headings added.", added)
            % {"count": added},
        )


@admin.register(DistributionList)
class DistributionListAdmin(ScopedAdmin):
    scope_path = "mission"
    list_display = ["mission", "name", "receives_flash", "receives_daily", "receives_weekly"]
    list_filter = ["mission", "active"]
