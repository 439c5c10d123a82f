from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from kiungo.lib.admin import ScopedAdmin, ScopedStackedInline, ScopedTabularInline
from kiungo.people.models import Absence, CLAProfile, Deployment, RoleAssignment, Rotation, User


class RoleAssignmentInline(ScopedStackedInline):
    model = RoleAssignment
    extra = 0
    filter_horizontal = ["areas"]
    raw_id_fields = ["unit"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [RoleAssignmentInline]


class DeploymentInline(ScopedTabularInline):
    model = Deployment
    extra = 0
    raw_id_fields = ["base"]


@admin.register(CLAProfile)
class CLAProfileAdmin(ScopedAdmin):
    scope_path = "base__mission"
    list_display = ["staff_id", "user", "base", "supervisor"]
    list_filter = ["base__mission"]
    search_fields = ["staff_id", "user__username"]
    raw_id_fields = ["user", "base", "supervisor"]
    inlines = [DeploymentInline]


class RotationInline(ScopedTabularInline):
    model = Rotation
    fk_name = "cla"
    extra = 0
    raw_id_fields = ["to_base", "recorded_by"]


class AbsenceInline(ScopedTabularInline):
    model = Absence
    extra = 0
    raw_id_fields = ["recorded_by"]


CLAProfileAdmin.inlines = [DeploymentInline, RotationInline, AbsenceInline]
