from django.contrib import admin

from kiungo.forces.models import Base, DutyPhone, ResponsibilityArea, Unit
from kiungo.lib.admin import ScopedAdmin, ScopedTabularInline


class DutyPhoneInline(ScopedTabularInline):
    model = DutyPhone
    extra = 0


@admin.register(Unit)
class UnitAdmin(ScopedAdmin):
    scope_path = "mission"
    list_display = ["code", "name", "kind", "parent", "contingent", "mission"]
    list_filter = ["mission", "kind", "contingent"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    inlines = [DutyPhoneInline]


class ResponsibilityAreaInline(ScopedTabularInline):
    model = ResponsibilityArea
    extra = 0
    raw_id_fields = ["area"]


@admin.register(Base)
class BaseAdmin(ScopedAdmin):
    scope_path = "mission"
    list_display = ["code", "name", "kind", "unit", "mission", "closed_on"]
    list_filter = ["mission", "kind"]
    search_fields = ["code", "name"]
    raw_id_fields = ["locality", "unit"]
    inlines = [ResponsibilityAreaInline]
