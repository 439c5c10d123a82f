from django import forms
from django.utils.translation import gettext_lazy as _

from kiungo.forces.models import Base
from kiungo.people.models import Absence


class RotationForm(forms.Form):
    to_base = forms.ModelChoiceField(queryset=Base.objects.none(), label=_("To base"))
    planned_on = forms.DateField(label=_("Planned date"), widget=forms.DateInput({"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, bases=None, **kwargs):
        super().__init__(*args, **kwargs)
        if bases is not None:
            self.fields["to_base"].queryset = bases


class CompleteRotationForm(forms.Form):
    on = forms.DateField(
        label=_("Carried out on"),
        widget=forms.DateInput({"type": "date"}),
        help_text=_("The first day at the new base."),
    )


class AbsenceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Absence.Kind.choices)
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput({"type": "date"}))
    ends_on = forms.DateField(
        label=_("Until"),
        widget=forms.DateInput({"type": "date"}),
        help_text=_("The last day away."),
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("An absence cannot end before it starts."))
        return data
