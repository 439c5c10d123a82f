"""The search page: reports and alerts the user may see, by words and filters (search.py)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from kiungo.geography.models import Area
from kiungo.missions.models import ArmedActor
from kiungo.people.access import (
    Capability,
    may,
    visible_areas,
    visible_bases,
    visible_missions,
)
from kiungo.reports.forms import SearchForm
from kiungo.reports.search import search


def may_search(user) -> bool:
    return any(
        may(user, capability)
        for capability in (
            Capability.VIEW_REPORTS,
            Capability.WRITE_REPORTS,
            Capability.VIEW_ALERTS,
        )
    )


@login_required
def search_page(request):
    if not may_search(request.user):
        raise PermissionDenied
    user = request.user
    form = SearchForm(
        request.GET or None,
        # Provinces and territories: the places people search by (localities are thousands).
        areas=visible_areas(user, Capability.VIEW_ALERTS)
        .filter(level__lte=Area.Level.TERRITORY)
        .order_by("pcode"),
        bases=visible_bases(user).order_by("name"),
        actors=ArmedActor.objects.filter(mission__in=visible_missions(user), active=True).order_by(
            "name"
        ),
    )
    results = search(user, form.criteria()) if form.is_bound and form.is_valid() else None
    return render(request, "reports/search.html", {"form": form, "results": results})
