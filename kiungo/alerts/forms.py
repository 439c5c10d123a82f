import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kiungo.alerts import selectors
from kiungo.alerts.models import Alert, Incident, Outcome, Response
from kiungo.alerts.taxonomy import Threat
from kiungo.forces.models import Unit
from kiungo.geography.models import Area
from kiungo.missions.models import AlertLevel
from kiungo.network.models import Contact
from kiungo.people.access import Capability, visible_areas, visible_incidents, visible_missions

WHEN_FORMAT = "%Y-%m-%dT%H:%M"
CLOCK_SKEW = timedelta(minutes=10)  # a phone's clock a little ahead is not an error


def _level_choices(missions, empty_label):
    """Level codes across missions, most severe first, each once (missions share codes)."""
    choices, seen = [("", empty_label)], set()
    for code, name in (
        AlertLevel.objects.filter(mission__in=missions)
        .order_by("rank", "code")
        .values_list("code", "name")
    ):
        if code not in seen:
            seen.add(code)
            choices.append((code, name))
    return choices


def _ambiguity(candidates: list[Area]) -> str:
    listed = ", ".join(f"{area.name} ({area.pcode})" for area in candidates[:8])
    return _("Several places have this name: %(places)s. Type the P-code of the one you mean.") % {
        "places": listed
    }


class BoardFilterForm(forms.Form):
    mission = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Mission"), empty_label=_("All missions")
    )
    area = forms.CharField(
        label=_("Place"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("P-code or name")}),
    )
    level = forms.ChoiceField(label=_("Level"), required=False)
    threat = forms.ChoiceField(
        label=_("Threat"), required=False, choices=[("", _("All threats")), *Threat.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("open", _("Open")),
            ("closed", _("Closed")),
            ("merged", _("Merged")),
            ("all", _("All")),
        ],
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.missions = visible_missions(user, Capability.VIEW_ALERTS)
        missions = list(self.missions)
        self.fields["mission"].queryset = self.missions
        if len(missions) < 2:
            del self.fields["mission"]
        # Lazy: the board's stamp, polled every 2 s, never needs them unless a level is chosen.
        self.fields["level"].choices = lambda: _level_choices(missions, _("All levels"))
        self.areas = None  # None: no place asked for; []: a place that matched nothing

    def clean(self):
        data = super().clean()
        text = (data.get("area") or "").strip()
        if text:
            mission = data.get("mission")
            missions = self.missions.filter(pk=mission.pk) if mission else self.missions
            self.areas = selectors.areas_matching(missions, text)
            if not self.areas:
                self.add_error("area", _("No place with this P-code or name."))
        return data

    def filters(self) -> dict:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {
            "mission": data.get("mission"),
            "areas": self.areas,
            "level": data.get("level") or "",
            "threat": data.get("threat") or "",
            "status": data.get("status") or "open",
            "overdue": bool(data.get("overdue")),
        }


class LogAlertForm(forms.Form):
    """A call, radio message or visit, logged by a CLA in under thirty seconds."""

    SOURCES = [
        (Alert.Source.CALL, _("Phone call")),
        (Alert.Source.RADIO, _("Radio")),
        (Alert.Source.IN_PERSON, _("In person")),
    ]

    mission = forms.ModelChoiceField(queryset=None, label=_("Mission"))
    place = forms.CharField(
        label=_("Place"),
        required=False,
        max_length=200,
        help_text=_("Village or area name, or its P-code."),
        widget=forms.TextInput(attrs={"list": "localities", "autocomplete": "off"}),
    )
    text = forms.CharField(
        label=_("What happened"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("As the caller said it: who, what, how many, where exactly."),
    )
    threat = forms.ChoiceField(
        label=_("Threat"),
        required=False,
        choices=[("", _("Understand from the text")), *Threat.choices],
    )
    level = forms.ChoiceField(label=_("Level"), required=False)
    source = forms.ChoiceField(
        label=_("Received by"), choices=SOURCES, initial=Alert.Source.CALL, widget=forms.RadioSelect
    )
    contact = forms.CharField(
        label=_("Source contact (pseudonym code)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. NK-BEN-017"), "autocomplete": "off"}),
    )
    when = forms.DateTimeField(
        label=_("When"),
        required=False,
        input_formats=[WHEN_FORMAT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=WHEN_FORMAT),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=100, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.missions = visible_missions(user, Capability.LOG_ALERTS)
        missions = list(self.missions)
        self.fields["mission"].queryset = self.missions
        if len(missions) == 1:
            self.fields["mission"].initial = missions[0].pk
            self.fields["mission"].widget = forms.HiddenInput()
        self.fields["level"].choices = _level_choices(missions, _("Set from the threat"))
        zone = missions[0].time_zone if len(missions) == 1 else timezone.get_current_timezone_name()
        self.fields["when"].help_text = _("Local time (%(zone)s). Leave as is for now.") % {
            "zone": zone
        }

    def clean(self):
        data = super().clean()
        mission = data.get("mission")
        if mission is None:
            return data
        preferred = visible_areas(self.user, Capability.LOG_ALERTS)
        match = selectors.resolve_typed_place(mission, data.get("place", ""), preferred)
        if match.ambiguous:
            self.add_error("place", _ambiguity(match.candidates))
        data["area"] = match.area

        code = (data.get("contact") or "").strip().upper()
        data["contact_obj"] = None
        if code:
            data["contact_obj"] = (
                Contact.objects.filter(mission=mission, code__iexact=code)
                .defer("name", "phone")
                .first()
            )
            if data["contact_obj"] is None:
                self.add_error("contact", _("No contact with this code in the mission."))

        data["level_obj"] = None
        if data.get("level"):
            data["level_obj"] = mission.levels.filter(code=data["level"]).first()
            if data["level_obj"] is None:
                self.add_error("level", _("This mission has no such level."))

        when = data.get("when")
        if when is not None:
            # The form read the time in the page's zone; the alert happened in the mission's.
            local = timezone.make_naive(when).replace(second=0, microsecond=0)
            when = timezone.make_aware(local, ZoneInfo(mission.time_zone))
            if when > timezone.now() + CLOCK_SKEW:
                self.add_error("when", _("This time is in the future."))
            data["when"] = when
        return data


class CorrectionForm(forms.Form):
    place = forms.CharField(
        label=_("Place"),
        required=False,
        max_length=200,
        help_text=_("P-code or name. Leave empty if the place is unknown."),
    )
    threat = forms.ChoiceField(label=_("Threat"), choices=Threat.choices)
    level = forms.ModelChoiceField(queryset=None, label=_("Level"), empty_label=None)

    def __init__(self, *args, alert: Alert, user, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "place": alert.area.pcode if alert.area else "",
                "threat": alert.threat,
                "level": alert.level_id,
            },
        )
        super().__init__(*args, **kwargs)
        self.alert, self.user = alert, user
        self.fields["level"].queryset = alert.mission.levels.order_by("rank")

    def clean(self):
        data = super().clean()
        text = (data.get("place") or "").strip()
        match = selectors.resolve_typed_place(
            self.alert.mission, text, visible_areas(self.user, Capability.TRIAGE_ALERTS)
        )
        if match.ambiguous:
            self.add_error("place", _ambiguity(match.candidates))
        elif text and match.area is None:
            self.add_error("place", _("No place with this P-code or name in the mission."))
        data["area"] = match.area
        return data


class MergeForm(forms.Form):
    references = forms.CharField(
        label=_("Incidents to merge into this one"),
        max_length=500,
        help_text=_("Their references, separated by commas, e.g. K7XQ2M, K4HB9R."),
    )

    def __init__(self, *args, incident: Incident, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.incident, self.user = incident, user

    def clean_references(self):
        references = [ref for ref in re.split(r"[\s,;]+", self.cleaned_data["references"].upper())]
        references = list(dict.fromkeys(ref for ref in references if ref))
        if not references:
            raise ValidationError(_("Give at least one incident reference."))
        mine = visible_incidents(self.user, Capability.TRIAGE_ALERTS)
        found = {incident.reference: incident for incident in mine.filter(reference__in=references)}
        errors, others = [], []
        for ref in references:
            other = found.get(ref)
            if other is None:
                errors.append(_("%(ref)s: no such incident in your scope.") % {"ref": ref})
            elif other.pk == self.incident.pk:
                errors.append(_("%(ref)s is this incident.") % {"ref": ref})
            elif other.mission_id != self.incident.mission_id:
                errors.append(_("%(ref)s belongs to another mission.") % {"ref": ref})
            elif other.status == Incident.Status.MERGED:
                errors.append(_("%(ref)s was already merged.") % {"ref": ref})
            else:
                others.append(other)
        if errors:
            raise ValidationError(errors)
        return others


class SplitForm(forms.Form):
    alerts = forms.MultipleChoiceField(
        label=_("Alerts to split off"),
        error_messages={"required": _("Tick the alerts to move into a new incident.")},
    )

    def __init__(self, *args, alerts: list[Alert], **kwargs):
        super().__init__(*args, **kwargs)
        self.by_reference = {alert.reference: alert for alert in alerts}
        self.fields["alerts"].choices = [(ref, ref) for ref in self.by_reference]

    def clean_alerts(self):
        chosen = [self.by_reference[ref] for ref in self.cleaned_data["alerts"]]
        if len(chosen) == len(self.by_reference):
            raise ValidationError(_("Leave at least one alert in this incident."))
        return chosen


# The response to an incident. These forms only read what was typed: the rules (a reason for
# "no action", an open incident, a level of the same mission...) are kiungo.alerts.response's
# and kiungo.alerts.routing's, whose ValidationErrors the views show on the form.


def _reason(label=None, help_text=""):
    return forms.CharField(
        label=label or _("Reason"),
        required=False,
        max_length=500,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ActionForm(forms.Form):
    """One of the several forms of an incident's page: its own ids, so that labels point to
    the right field (the field names stay plain: each form posts to its own URL)."""

    action = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.action}_%s")
        super().__init__(*args, **kwargs)


class RespondForm(ActionForm):
    action = "respond"
    response = forms.ChoiceField(
        label=_("Response"), choices=Response.choices, widget=forms.RadioSelect
    )
    reason = _reason(help_text=_("Required for “No action”."))


class CloseForm(ActionForm):
    action = "close"
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    note = _reason(_("Note"))


class VerifyForm(ActionForm):
    action = "verify"
    note = _reason(_("Note"), help_text=_("How it was checked (optional)."))


class DismissForm(ActionForm):
    action = "dismiss"
    reason = _reason(help_text=_("Why it is not credible or not for the mission."))


class RelevelForm(ActionForm):
    action = "relevel"
    level = forms.ModelChoiceField(queryset=None, label=_("New level"), empty_label=None)
    reason = _reason()

    def __init__(self, *args, incident: Incident, **kwargs):
        kwargs.setdefault("initial", {"level": incident.level_id})
        super().__init__(*args, **kwargs)
        self.fields["level"].queryset = incident.mission.levels.order_by("rank")
        self.fields["level"].label_from_instance = lambda level: _(level.name)


class ReassignForm(ActionForm):
    action = "reassign"
    unit = forms.ModelChoiceField(queryset=None, label=_("Unit"))
    reason = _reason()

    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = (
            Unit.objects.filter(mission_id=incident.mission_id)
            .exclude(pk=incident.unit_id)
            .order_by("kind", "code")
        )
        self.fields["unit"].label_from_instance = lambda unit: f"{unit.code} — {unit.name}"
