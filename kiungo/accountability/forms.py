from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kiungo.accountability.figures import DEFAULT_AREA_LEVEL
from kiungo.geography.models import Area
from kiungo.people.access import Capability, visible_missions

DEFAULT_DAYS = 30
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)  # keeps date arithmetic in range

DAY_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # ISO in any language
GROUP_CHOICES = [
    ("unit", _("Unit")),
    ("base", _("Base")),
    ("contingent", _("Contingent")),
    ("area", _("Area")),
]


class ReportForm(forms.Form):
    """The report's parameters, from the query string; what is left out gets its default.

    Defaults: the first of the user's missions (by code), by unit, the last 30 days (today
    included) in the mission's time zone, areas rolled up to territories. Dates are whole
    mission-local days.
    """

    mission = forms.ModelChoiceField(queryset=None, label=_("Mission"), empty_label=None)
    group = forms.ChoiceField(label=_("Group by"), choices=GROUP_CHOICES)
    start = forms.DateField(label=_("From"), widget=DAY_INPUT)
    end = forms.DateField(label=_("To (included)"), widget=DAY_INPUT)
    level = forms.TypedChoiceField(
        label=_("Area level"),
        choices=Area.Level.choices,
        coerce=int,
        help_text=_("Used when grouping by area."),
    )

    def __init__(self, data, *, user):
        self.missions = visible_missions(user, Capability.VIEW_ACCOUNTABILITY).order_by("code")
        missions = list(self.missions)
        data = data.copy()
        chosen = next((m for m in missions if str(m.pk) == data.get("mission")), None)
        chosen = chosen or (missions[0] if missions else None)
        if chosen is not None and not data.get("mission"):
            data["mission"] = str(chosen.pk)
        for name, default in (("group", "unit"), ("level", str(DEFAULT_AREA_LEVEL))):
            data[name] = data.get(name) or default
        today = timezone.localdate(timezone.now(), ZoneInfo(chosen.time_zone) if chosen else None)
        if not data.get("end"):
            data["end"] = today.isoformat()
        if not data.get("start"):
            try:
                last = min(max(date.fromisoformat(data["end"]), FIRST_DAY), LAST_DAY)
            except ValueError:
                last = today  # the error on "end" is what the user needs to see
            data["start"] = max(last - timedelta(days=DEFAULT_DAYS - 1), FIRST_DAY).isoformat()
        super().__init__(data)
        self.fields["mission"].queryset = self.missions
        if len(missions) < 2:
            self.fields["mission"].widget = forms.HiddenInput()

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        for name, day in (("start", start), ("end", end)):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(
                    name,
                    _("Choose a date between %(first)s and %(last)s.")
                    % {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
                )
        if "start" in data and "end" in data and data["start"] > data["end"]:
            self.add_error("end", _("The period ends before it starts."))
        return data

    def period(self) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes: midnight starting the first day, and ending the
        last, in the mission's time zone."""
        data = self.cleaned_data
        zone = ZoneInfo(data["mission"].time_zone)
        first = datetime.combine(data["start"], time.min, tzinfo=zone)
        after = datetime.combine(data["end"] + timedelta(days=1), time.min, tzinfo=zone)
        return first, after

    def query(self) -> dict:
        """The parameters as resolved (defaults included), for links such as the CSV's."""
        data = self.cleaned_data
        return {
            "mission": data["mission"].pk,
            "group": data["group"],
            "start": data["start"].isoformat(),
            "end": data["end"].isoformat(),
            "level": data["level"],
        }
