"""What a user's home page lists: the things each of their roles makes them answer for."""

from dataclasses import dataclass

from django.db.models import Count

from kiungo.people.access import (
    Capability,
    has_capability,
    visible_bases,
    visible_clas,
    visible_missions,
    visible_units,
)
from kiungo.people.models import User


@dataclass
class Responsibilities:
    assignments: list
    missions: list
    bases: list
    units: list
    clas: list
    cla_profile: object | None
    bases_short_of_clas: list


def responsibilities(user: User, list_limit: int = 50) -> Responsibilities:
    assignments = list(
        user.role_assignments.select_related("mission", "unit").prefetch_related("areas")
    )
    bases = (
        visible_bases(user)
        .select_related("unit", "locality")
        .annotate(cla_count=Count("clas", distinct=True))
        .order_by("mission__code", "name")
    )
    clas = []
    if has_capability(user, Capability.VIEW_PEOPLE):
        clas = list(visible_clas(user).select_related("user", "base")[:list_limit])
    profile = getattr(user, "cla_profile", None) if hasattr(user, "cla_profile") else None
    base_list = list(bases[:list_limit])
    return Responsibilities(
        assignments=assignments,
        missions=list(visible_missions(user)),
        bases=base_list,
        units=list(visible_units(user).select_related("parent")[:list_limit]),
        clas=clas,
        cla_profile=profile,
        bases_short_of_clas=[base for base in base_list if base.cla_count < 2],
    )
