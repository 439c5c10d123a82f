"""Which unit answers for a place: by area (walking up the hierarchy) or by a map point."""

import math
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from kiungo.forces.models import Base, ResponsibilityArea, Unit
from kiungo.geography.models import Area
from kiungo.missions.models import Mission

# How far from the nearest known locality a point may be and still be placed by proximity.
NEAREST_LOCALITY_MAX_KM = 60.0


@dataclass(frozen=True)
class Responsibility:
    unit: Unit
    base: Base
    area: Area  # the AOR area that holds the place (the place itself or an ancestor)


@dataclass(frozen=True)
class PointPlacement:
    area: Area
    method: str  # "boundary" or "nearest_locality"
    distance_km: float

    @property
    def method_label(self):
        return {
            "boundary": _("inside the area's boundary"),
            "nearest_locality": _("nearest known locality"),
        }[self.method]


def responsible_for_area(area: Area) -> Responsibility | None:
    """The base (and its unit) whose AOR holds `area`, nearest enclosing area first."""
    holder = (
        ResponsibilityArea.objects.filter(
            area__mission_id=area.mission_id,
            area__pcode__in=[area.pcode, *area.ancestor_pcodes()],
            base__closed_on__isnull=True,
        )
        .select_related("base__unit", "area")
        .order_by("-area__level")
        .first()
    )
    if holder is None:
        return None
    return Responsibility(unit=holder.base.unit, base=holder.base, area=holder.area)


def place_point(mission: Mission, latitude: float, longitude: float) -> PointPlacement | None:
    """The most precise area holding a point: a drawn boundary, else the nearest locality."""
    from shapely.geometry import Point, shape

    point = Point(longitude, latitude)
    bounded = Area.objects.filter(mission=mission, boundary__isnull=False).order_by("-level")
    for area in bounded.only("id", "pcode", "level", "boundary", "mission_id", "name"):
        if shape(area.boundary).covers(point):
            return PointPlacement(area=area, method="boundary", distance_km=0.0)

    # Nearest locality with a point, searched in a box first so the index does the work.
    margin_lat = NEAREST_LOCALITY_MAX_KM / 111.0
    margin_lon = margin_lat / max(math.cos(math.radians(latitude)), 0.01)
    candidates = Area.objects.filter(
        mission=mission,
        level=Area.Level.LOCALITY,
        latitude__range=(latitude - margin_lat, latitude + margin_lat),
        longitude__range=(longitude - margin_lon, longitude + margin_lon),
    )
    best, best_km = None, NEAREST_LOCALITY_MAX_KM
    for area in candidates:
        km = haversine_km(latitude, longitude, area.latitude, area.longitude)
        if km <= best_km:
            best, best_km = area, km
    if best is None:
        return None
    return PointPlacement(area=best, method="nearest_locality", distance_km=round(best_km, 2))


def responsible_for_point(
    mission: Mission, latitude: float, longitude: float
) -> tuple[Responsibility | None, PointPlacement | None]:
    placement = place_point(mission, latitude, longitude)
    if placement is None:
        return None, None
    return responsible_for_area(placement.area), placement


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))
