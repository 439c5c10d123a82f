from django.contrib import admin

from kiungo.geography.models import Area, AreaName
from kiungo.lib.admin import ScopedAdmin, ScopedTabularInline


class AreaNameInline(ScopedTabularInline):
    model = AreaName
    extra = 0


@admin.register(Area)
class AreaAdmin(ScopedAdmin):
    scope_path = "mission"
    list_display = ["pcode", "name", "level", "mission", "source"]
    list_filter = ["mission", "level", "source"]
    search_fields = ["pcode", "name", "names__folded"]
    raw_id_fields = ["parent"]
    inlines = [AreaNameInline]
