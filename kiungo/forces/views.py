from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from kiungo.forces.models import Base, Unit
from kiungo.forces.responsibility import responsible_for_area, responsible_for_point
from kiungo.geography.models import Area
from kiungo.missions.models import Mission
from kiungo.people.access import access, visible_areas, visible_clas, visible_missions


@login_required
def base_detail(request, pk: int):
    base = access(request.user, Base, pk=pk)
    context = {
        "base": base,
        "aor": base.responsibility.select_related("area").order_by("area__pcode"),
        "cla_count": base.clas.count(),
        "clas": visible_clas(request.user).filter(base=base).select_related("user"),
        "chain": base.unit.chain(),
    }
    return render(request, "forces/base_detail.html", context)


@login_required
def unit_detail(request, pk: int):
    unit = access(request.user, Unit, pk=pk)
    context = {
        "unit": unit,
        "chain": unit.chain(),
        "children": unit.children.order_by("code"),
        "bases": unit.bases.select_related("locality").order_by("name"),
        "duty_phones": unit.duty_phones.filter(active=True),
    }
    return render(request, "forces/unit_detail.html", context)


@login_required
def area_detail(request, pcode: str):
    area = access(request.user, Area, pcode=pcode.upper())
    context = {
        "area": area,
        "ancestors": list(area.ancestors())[::-1],
        "children": area.children.order_by("name")[:200],
        "names": area.names.order_by("kind", "name"),
        "responsibility": responsible_for_area(area),
        "time_zone": area.effective_time_zone(),
    }
    return render(request, "forces/area_detail.html", context)


class LookupForm(forms.Form):
    mission = forms.ModelChoiceField(queryset=Mission.objects.none(), label=_("Mission"))
    place = forms.CharField(
        label=_("P-code or name"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. CD61 or Beni")}),
    )
    latitude = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(
        label=_("Longitude"), required=False, min_value=-180, max_value=180
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mission"].queryset = visible_missions(user)

    def clean(self):
        data = super().clean()
        has_point = data.get("latitude") is not None and data.get("longitude") is not None
        if not data.get("place") and not has_point:
            raise ValidationError(_("Give a P-code or name, or a latitude and longitude."))
        return data


@login_required
def responsibility_lookup(request):
    """'Which unit answers for this place?' by P-code, name or map point, within one's scope."""
    form = LookupForm(request.GET or None, user=request.user)
    result = placement = None
    matches = []
    if form.is_valid():
        mission = form.cleaned_data["mission"]
        areas = visible_areas(request.user).filter(mission=mission)
        place = form.cleaned_data["place"].strip()
        if place:
            matches = list(
                areas.filter(pcode=place.upper()) or areas.named(mission, place).order_by("level")
            )[:20]
            if len(matches) == 1:
                result = responsible_for_area(matches[0])
        else:
            result, placement = responsible_for_point(
                mission, form.cleaned_data["latitude"], form.cleaned_data["longitude"]
            )
            if placement and not areas.filter(pk=placement.area.pk).exists():
                result = placement = None  # outside the user's scope: say nothing about it
    context = {
        "form": form,
        "result": result,
        "placement": placement,
        "matches": matches,
        "searched": form.is_bound and form.is_valid(),
    }
    return render(request, "forces/responsibility.html", context)
