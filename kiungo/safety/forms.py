from django import forms
from django.utils.translation import gettext_lazy as _

from kiungo.geography.models import Area


class LocationForm(forms.Form):
    """Where the CLA is, optionally: a place of the mission (name or P-code) and/or a point."""

    place = forms.CharField(
        label=_("Where are you? (optional)"),
        max_length=100,
        required=False,
        help_text=_("A place name or P-code of the mission."),
    )
    latitude = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(
        label=_("Longitude"), required=False, min_value=-180, max_value=180
    )

    def __init__(self, *args, mission=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.mission = mission

    def clean_place(self):
        text = self.cleaned_data["place"].strip()
        if not text:
            return None
        area = Area.objects.filter(mission=self.mission, pcode=text.upper()).first()
        area = area or Area.objects.named(self.mission, text).order_by("-level").first()
        if area is None:
            raise forms.ValidationError(_("No place of your mission has this name or P-code."))
        return area

    def clean(self):
        data = super().clean()
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise forms.ValidationError(_("Give both latitude and longitude, or neither."))
        return data

    def location(self) -> dict:
        return {
            "area": self.cleaned_data.get("place"),
            "latitude": self.cleaned_data.get("latitude"),
            "longitude": self.cleaned_data.get("longitude"),
        }


class CloseAlarmForm(forms.Form):
    note = forms.CharField(
        label=_("How was it resolved?"), max_length=500, widget=forms.Textarea({"rows": 2})
    )
