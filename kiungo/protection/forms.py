from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kiungo.geography.models import Area
from kiungo.lib.text import fold
from kiungo.missions.models import ArmedActor
from kiungo.people.access import Capability, visible_areas
from kiungo.people.models import User
from kiungo.protection.models import (
    Committee,
    CommitteeMeeting,
    CommitteeMember,
    CommitteeTraining,
    FieldVisit,
    FollowUpAction,
    MitigationMeasure,
    PlanThreat,
    ProtectionPlan,
)
from kiungo.protection.risk import SCALE
from kiungo.protection.sharing import UNIT_ANSWERS

DATE = forms.DateInput(attrs={"type": "date"})
SCALE_CHOICES = [(value, str(value)) for value in SCALE]


def resolve_places(text: str, areas) -> list[Area]:
    """Areas named in `text` (P-codes or names separated by ";"), among `areas`.

    Raises ValidationError naming what was not found, or what is ambiguous."""
    found, unknown, ambiguous = [], [], []
    for part in (piece.strip() for piece in text.split(";")):
        if not part:
            continue
        by_code = areas.filter(pcode=part.upper()).first()
        if by_code is not None:
            found.append(by_code)
            continue
        matches = list(areas.filter(names__folded=fold(part)).distinct()[:2])
        if len(matches) == 1:
            found.append(matches[0])
        elif matches:
            ambiguous.append(part)
        else:
            unknown.append(part)
    errors = []
    if unknown:
        errors.append(
            _("No place in your area is called: %(names)s.") % {"names": ", ".join(unknown)}
        )
    if ambiguous:
        errors.append(
            _("Several places are called %(names)s: type the P-code.")
            % {"names": ", ".join(ambiguous)}
        )
    if errors:
        raise ValidationError(errors)
    return list(dict.fromkeys(found))


class CommitteeForm(forms.ModelForm):
    locality_name = forms.CharField(
        label=_("Locality"),
        help_text=_("Name or P-code of a locality in your area."),
        widget=forms.TextInput(attrs={"list": "localities"}),
    )

    class Meta:
        model = Committee
        fields = ["name", "language", "created_on", "status"]
        widgets = {"created_on": DATE}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.localities = visible_areas(user, Capability.MANAGE_PROTECTION).filter(
            level=Area.Level.LOCALITY
        )

    def clean_locality_name(self):
        places = resolve_places(self.cleaned_data["locality_name"], self.localities)
        if len(places) != 1:
            raise ValidationError(_("Give exactly one locality."))
        self.instance.locality = places[0]
        self.instance.mission_id = places[0].mission_id
        return self.cleaned_data["locality_name"]


class MemberForm(forms.ModelForm):
    class Meta:
        model = CommitteeMember
        fields = ["position", "category", "sex", "joined_on"]
        widgets = {"joined_on": DATE}


class MeetingForm(forms.ModelForm):
    class Meta:
        model = CommitteeMeeting
        fields = ["held_on", "women", "men", "topics", "decisions"]
        widgets = {"held_on": DATE, "topics": forms.Textarea(attrs={"rows": 2})}


class TrainingForm(forms.ModelForm):
    class Meta:
        model = CommitteeTraining
        fields = ["held_on", "topic", "facilitator", "women", "men"]
        widgets = {"held_on": DATE}


class StartPlanForm(forms.Form):
    review_on = forms.DateField(label=_("Review date"), widget=DATE)


class PlanForm(forms.ModelForm):
    class Meta:
        model = ProtectionPlan
        fields = ["vulnerabilities", "capacities", "review_on"]
        widgets = {
            "review_on": DATE,
            "vulnerabilities": forms.Textarea(attrs={"rows": 3}),
            "capacities": forms.Textarea(attrs={"rows": 3}),
        }


class ThreatForm(forms.ModelForm):
    places_named = forms.CharField(
        label=_("Places"),
        required=False,
        help_text=_("Names or P-codes of areas, separated by ';'."),
    )
    likelihood = forms.TypedChoiceField(
        label=_("Likelihood (1-5)"), choices=SCALE_CHOICES, coerce=int
    )
    impact = forms.TypedChoiceField(label=_("Impact (1-5)"), choices=SCALE_CHOICES, coerce=int)

    class Meta:
        model = PlanThreat
        fields = ["threat", "description", "perpetrators", "places_text", "timing"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "perpetrators": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, plan: ProtectionPlan, **kwargs):
        super().__init__(*args, **kwargs)
        mission = plan.committee.mission
        self.fields["perpetrators"].queryset = ArmedActor.objects.filter(
            mission=mission, active=True
        )
        self.areas = Area.objects.filter(mission=mission)
        self.instance.plan = plan

    def clean_places_named(self):
        self.places = resolve_places(self.cleaned_data["places_named"], self.areas)
        return self.cleaned_data["places_named"]

    def clean(self):
        data = super().clean()
        self.instance.likelihood = data.get("likelihood")
        self.instance.impact = data.get("impact")
        return data

    def save(self, commit=True):
        threat = super().save(commit=commit)
        if commit:
            threat.places.set(self.places)
        return threat


class MeasureForm(forms.ModelForm):
    class Meta:
        model = MitigationMeasure
        fields = ["by", "description", "responsible", "status", "due_on"]
        widgets = {"due_on": DATE, "description": forms.Textarea(attrs={"rows": 2})}


class MeasureStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=MitigationMeasure.Status.choices)


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(
        label=_("Answer"),
        choices=[(value, MitigationMeasure.Answer(value).label) for value in UNIT_ANSWERS],
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("Details"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when declining: the reason."),
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("answer") == MitigationMeasure.Answer.DECLINED
            and not (data.get("text") or "").strip()
        ):
            self.add_error("text", _("Say why the request is declined."))
        return data


class FieldVisitForm(forms.ModelForm):
    places_named = forms.CharField(
        label=_("Places"), help_text=_("Names or P-codes of areas, separated by ';'.")
    )

    class Meta:
        model = FieldVisit
        fields = ["kind", "starts_on", "ends_on", "team", "team_members", "findings"]
        widgets = {
            "starts_on": DATE,
            "ends_on": DATE,
            "team": forms.Textarea(attrs={"rows": 2}),
            "findings": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.areas = visible_areas(user, Capability.MANAGE_PROTECTION)
        missions = self.areas.values("mission_id")
        self.fields["team_members"].queryset = User.objects.filter(
            is_active=True, role_assignments__mission_id__in=missions
        ).distinct()
        self.fields["team_members"].required = False

    def clean_places_named(self):
        self.places = resolve_places(self.cleaned_data["places_named"], self.areas)
        if not self.places:
            raise ValidationError(_("Give at least one place."))
        if len({place.mission_id for place in self.places}) > 1:
            raise ValidationError(_("The places belong to different missions."))
        self.instance.mission_id = self.places[0].mission_id
        return self.cleaned_data["places_named"]

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("A visit cannot end before it starts."))
        return data


class ActionForm(forms.ModelForm):
    class Meta:
        model = FollowUpAction
        fields = ["description", "owner_text", "owner_user", "due_on", "status"]
        widgets = {"due_on": DATE, "description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, visit: FieldVisit, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.visit = visit
        self.fields["owner_user"].queryset = User.objects.filter(
            is_active=True, role_assignments__mission_id=visit.mission_id
        ).distinct()

    def clean(self):
        data = super().clean()
        if not (data.get("owner_text") or "").strip() and not data.get("owner_user"):
            self.add_error("owner_text", _("Name an owner, or choose a Kiungo user."))
        return data


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=FollowUpAction.Status.choices)
