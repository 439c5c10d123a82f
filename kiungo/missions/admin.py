from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from kiungo.lib.admin import ScopedAdmin, ScopedTabularInline
from kiungo.missions.models import (
    AlertLevel,
    ArmedActor,
    EscalationStep,
    Mission,
    validate_alert_policy,
)


class AlertLevelFormSet(BaseInlineFormSet):
    """Validates the mission's levels together: ranks, deadlines ordered by severity."""

    def clean(self):
        super().clean()
        levels = [
            form.instance
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if any(form.errors for form in self.forms):
            return
        validate_alert_policy(levels, {})


class AlertLevelInline(ScopedTabularInline):
    model = AlertLevel
    formset = AlertLevelFormSet
    extra = 0
    show_change_link = True


class ArmedActorInline(ScopedTabularInline):
    model = ArmedActor
    extra = 0


@admin.register(Mission)
class MissionAdmin(ScopedAdmin):
    list_display = ["code", "name", "country", "time_zone", "closed_on"]
    search_fields = ["code", "name"]
    inlines = [AlertLevelInline, ArmedActorInline]


class EscalationStepFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms):
            return
        steps = [
            form.instance
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            validate_alert_policy([], {self.instance.rank: steps})
        except ValidationError as error:
            raise ValidationError(error.messages) from None


class EscalationStepInline(ScopedTabularInline):
    model = EscalationStep
    formset = EscalationStepFormSet
    extra = 0


@admin.register(AlertLevel)
class AlertLevelAdmin(ScopedAdmin):
    scope_path = "mission"
    list_display = ["mission", "rank", "name", "acknowledge_within", "respond_within"]
    list_filter = ["mission"]
    inlines = [EscalationStepInline]
