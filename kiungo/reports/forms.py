"""The report form (built from the mission's headings), the review form and the filters."""

from datetime import timedelta

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kiungo.forces.models import ResponsibilityArea
from kiungo.geography.models import Area
from kiungo.missions.models import ArmedActor
from kiungo.reports import selectors
from kiungo.reports.headings import headings_for
from kiungo.reports.models import HARMS, SEXES, Kind, Report
from kiungo.reports.writing import Changes

WHEN_FORMAT = "%Y-%m-%dT%H:%M"
AREA_LIMIT = 500


class ReportForm(forms.Form):
    """The fields of one report: its period, its sections and, for a flash report, the facts.

    Used for the plain form (Save draft / Submit) and for autosaves, which send the same
    fields: only valid fields are saved by an autosave, the others are reported back.
    """

    def __init__(self, *args, report: Report, **kwargs):
        super().__init__(*args, **kwargs)
        self.report = report
        self.headings = headings_for(report.mission_id, report.kind)
        if report.kind == Kind.DAILY:
            self.fields["day"] = forms.DateField(
                label=_("Day"),
                initial=report.period_start,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
            self.fields["nothing_to_report"] = forms.BooleanField(
                label=_("Nothing to report today"),
                required=False,
                initial=report.nothing_to_report,
            )
        elif report.kind == Kind.WEEKLY:
            self.fields["day"] = forms.DateField(
                label=_("Week (any day of it)"),
                initial=report.period_start,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                help_text=_("The report covers Monday to Sunday of this week."),
            )
        else:
            self._flash_fields(report)
        for heading in self.headings:
            self.fields[f"section_{heading.key}"] = forms.CharField(
                label=heading.title,
                required=False,
                initial=report.sections.get(heading.key, ""),
                widget=forms.Textarea(attrs={"rows": 4}),
                max_length=20000,
                help_text=self._required_hint(report) if heading.required else "",
            )
        self.offered_alerts = list(selectors.offered_alerts(report))
        self.offered_incidents = list(selectors.offered_incidents(report))
        if self.offered_incidents:
            self.fields["incidents"] = forms.TypedMultipleChoiceField(
                label=_("Incidents of the base's area in this period"),
                choices=[(i.pk, selectors.incident_label(i)) for i in self.offered_incidents],
                coerce=int,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                initial=list(report.incidents.values_list("pk", flat=True)),
            )
        if self.offered_alerts:
            self.fields["alerts"] = forms.TypedMultipleChoiceField(
                label=_("Alerts received in the base's area in this period"),
                choices=[(a.pk, selectors.alert_label(a)) for a in self.offered_alerts],
                coerce=int,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                initial=list(report.alerts.values_list("pk", flat=True)),
            )

    @staticmethod
    def _required_hint(report: Report):
        if report.kind == Kind.DAILY:
            return _("Required to submit, unless there is nothing to report.")
        return _("Required to submit.")

    def _flash_fields(self, report: Report):
        self.fields["occurred_at"] = forms.DateTimeField(
            label=_("When"),
            initial=report.occurred_at,
            input_formats=[WHEN_FORMAT, "%Y-%m-%d %H:%M"],
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=WHEN_FORMAT),
        )
        self.fields["area"] = forms.ModelChoiceField(
            label=_("Where"),
            queryset=flash_areas(report),
            required=False,
            initial=report.area_id,
        )
        self.fields["latitude"] = forms.FloatField(
            label=_("Latitude"),
            required=False,
            min_value=-90,
            max_value=90,
            initial=report.latitude,
        )
        self.fields["longitude"] = forms.FloatField(
            label=_("Longitude"),
            required=False,
            min_value=-180,
            max_value=180,
            initial=report.longitude,
        )
        self.fields["perpetrators"] = forms.ModelMultipleChoiceField(
            label=_("Alleged perpetrators"),
            queryset=ArmedActor.objects.filter(mission_id=report.mission_id, active=True),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            initial=list(report.perpetrators.values_list("pk", flat=True)),
        )
        for harm, harm_label in HARMS:
            for sex, sex_label in SEXES:
                name = f"{harm}_{sex}"
                self.fields[name] = forms.IntegerField(
                    label=f"{harm_label} — {sex_label}",
                    min_value=0,
                    max_value=100000,
                    required=False,
                    initial=getattr(report, name),
                    widget=forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
                )

    def clean(self):
        data = super().clean()
        has_lat = data.get("latitude") is not None
        has_lon = data.get("longitude") is not None
        if has_lat != has_lon:
            self.add_error("longitude", _("Give both latitude and longitude, or neither."))
        return data

    def victim_rows(self):
        """[(harm label, [bound fields female, male, unknown])] for the template's table."""
        return [(label, [self[f"{harm}_{sex}"] for sex, _s in SEXES]) for harm, label in HARMS]

    def section_fields(self):
        return [self[f"section_{heading.key}"] for heading in self.headings]

    def changes(self) -> Changes:
        """What to save: the fields that validated (all of them after is_valid())."""
        data = getattr(self, "cleaned_data", {})
        sections = {
            h.key: data[f"section_{h.key}"] for h in self.headings if f"section_{h.key}" in data
        }
        changes = Changes(sections=sections)
        if data.get("day"):
            changes.day = data["day"]
        if "nothing_to_report" in data:
            changes.nothing_to_report = data["nothing_to_report"]
        if "alerts" in data:
            changes.alert_ids = data["alerts"]
        elif self.offered_alerts and "alerts" not in self.errors:
            changes.alert_ids = []
        if "incidents" in data:
            changes.incident_ids = data["incidents"]
        elif self.offered_incidents and "incidents" not in self.errors:
            changes.incident_ids = []
        if self.report.kind == Kind.FLASH:
            flash = {}
            for name in ("occurred_at", "area", "latitude", "longitude"):
                if name in data and name not in self.errors:
                    flash[name] = data[name]
            if "longitude" in self.errors:
                flash.pop("latitude", None)
            for harm, _h in HARMS:
                for sex, _s in SEXES:
                    name = f"{harm}_{sex}"
                    if name in data:
                        flash[name] = data[name] or 0
            changes.flash = flash
            if "perpetrators" in data:
                changes.perpetrator_ids = [actor.pk for actor in data["perpetrators"]]
        return changes


def flash_areas(report: Report):
    """Areas offered for a flash report: those of the base's area of responsibility (and
    everything below them), with the one already chosen."""
    pcodes = list(
        ResponsibilityArea.objects.filter(base_id=report.base_id).values_list(
            "area__pcode", flat=True
        )
    )
    condition = Q(pk__in=[report.area_id] if report.area_id else [])
    for pcode in pcodes:
        condition |= Q(pcode__startswith=pcode)
    # A form field cannot validate against a sliced queryset: slice the ids, then filter.
    offered = Area.objects.filter(mission_id=report.mission_id).filter(condition)
    ids = list(offered.order_by("level", "name").values_list("pk", flat=True)[:AREA_LIMIT])
    return Area.objects.filter(pk__in=ids).order_by("level", "name")


class NewReportForm(forms.Form):
    day = forms.DateField(
        label=_("Day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    occurred_at = forms.DateTimeField(
        label=_("When did it happen?"),
        required=False,
        input_formats=[WHEN_FORMAT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=WHEN_FORMAT),
    )
    nothing_to_report = forms.BooleanField(required=False, widget=forms.HiddenInput)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", _("Accept")), ("return", _("Return for revision"))]
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text=_("Required when returning the report: say what to revise."),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "return" and not data.get("comment", "").strip():
            self.add_error("comment", _("Say what to revise when returning a report."))
        return data


class ComplianceFilterForm(forms.Form):
    PERIODS = {"7": 7, "14": 14, "30": 30}

    kind = forms.ChoiceField(
        label=_("Report type"),
        choices=[(Kind.DAILY, Kind.DAILY.label), (Kind.WEEKLY, Kind.WEEKLY.label)],
        required=False,
    )
    end = forms.DateField(
        label=_("Until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    days = forms.ChoiceField(
        label=_("Over"),
        choices=[("7", _("7 days")), ("14", _("14 days")), ("30", _("30 days"))],
        required=False,
    )
    region = forms.ChoiceField(label=_("Region"), required=False)
    base = forms.ChoiceField(label=_("Base"), required=False)
    only_missing = forms.BooleanField(label=_("Only CLAs with missing reports"), required=False)

    def __init__(self, *args, regions, bases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", _("All")), *regions]
        self.fields["base"].choices = [("", _("All")), *bases]

    def span(self, today):
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        end = data.get("end") or today
        end = min(end, today)
        days = self.PERIODS.get(data.get("days") or "14", 14)
        return end - timedelta(days=days - 1), end


class ConsolidatedForm(forms.Form):
    """Which consolidated report: its type and a day of its period (today by default)."""

    kind = forms.ChoiceField(
        label=_("Report type"),
        choices=[(Kind.DAILY, Kind.DAILY.label), (Kind.WEEKLY, Kind.WEEKLY.label)],
        required=False,
    )
    day = forms.DateField(
        label=_("Day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class SummaryForm(forms.Form):
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 10}),
    )


class SearchForm(forms.Form):
    """What to look for in reports and alerts; the choices are the user's places only."""

    q = forms.CharField(label=_("Words"), required=False, max_length=200)
    area = forms.ChoiceField(label=_("Area"), required=False)
    base = forms.ChoiceField(label=_("Base"), required=False)
    first_day = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    last_day = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    type = forms.ChoiceField(label=_("Type"), required=False)
    threat = forms.ChoiceField(label=_("Threat"), required=False)
    actor = forms.ChoiceField(label=_("Armed actor"), required=False)

    def __init__(self, *args, areas, bases, actors, **kwargs):
        from kiungo.alerts.taxonomy import Threat

        super().__init__(*args, **kwargs)
        self.areas = {str(a.pk): a for a in areas}
        self.bases = {str(b.pk): b for b in bases}
        self.actors = {str(a.pk): a for a in actors}
        everything = [("", _("All"))]
        self.fields["area"].choices = everything + [(k, a.name) for k, a in self.areas.items()]
        self.fields["base"].choices = everything + [(k, b.name) for k, b in self.bases.items()]
        self.fields["actor"].choices = everything + [(k, a.name) for k, a in self.actors.items()]
        self.fields["type"].choices = [*everything, *Kind.choices, ("alert", _("Alerts"))]
        self.fields["threat"].choices = [*everything, *Threat.choices]

    def clean(self):
        data = super().clean()
        first, last = data.get("first_day"), data.get("last_day")
        if first and last and first > last:
            raise forms.ValidationError(_("The period ends before it starts."))
        return data

    def criteria(self):
        from kiungo.reports.search import Criteria

        data = self.cleaned_data
        return Criteria(
            text=data.get("q", ""),
            area=self.areas.get(data.get("area") or ""),
            base=self.bases.get(data.get("base") or ""),
            first_day=data.get("first_day"),
            last_day=data.get("last_day"),
            type=data.get("type") or "",
            threat=data.get("threat") or "",
            actor=self.actors.get(data.get("actor") or ""),
        )
