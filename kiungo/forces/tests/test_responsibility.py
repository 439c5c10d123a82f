from datetime import date

import pytest

from kiungo.forces.responsibility import (
    haversine_km,
    place_point,
    responsible_for_area,
    responsible_for_point,
)
from kiungo.geography.models import Area
from kiungo.lib.testing import BENI, BUNIA, BUTEMBO


def test_it_finds_the_unit_for_each_base_locality(world):
    for base in [world.base_beni, world.base_butembo, world.base_bunia, world.other_base]:
        held = responsible_for_area(base.locality)
        assert held is not None
        assert (held.base, held.unit) == (base, base.unit)


def test_it_walks_up_from_any_level_below_the_aor(world):
    for area in Area.objects.within(world.beni_territory):
        assert responsible_for_area(area).unit == world.company_beni


def test_it_answers_none_above_every_aor(world):
    assert responsible_for_area(world.north_kivu) is None
    assert responsible_for_area(world.ituri) is None


def test_it_ignores_closed_bases(world):
    world.base_beni.closed_on = date(2026, 6, 30)
    world.base_beni.save()
    assert responsible_for_area(world.beni) is None


def test_it_places_points_between_bases_by_the_nearest_locality(world):
    # A point 30 % of the way from Beni to Butembo is nearer Beni, at 70 % nearer Butembo.
    for share, expected in [(0.3, world.company_beni), (0.7, world.company_butembo)]:
        lat = BENI[0] + share * (BUTEMBO[0] - BENI[0])
        lon = BENI[1] + share * (BUTEMBO[1] - BENI[1])
        held, placement = responsible_for_point(world.mission, lat, lon)
        assert placement.method == "nearest_locality"
        assert held.unit == expected


def test_it_prefers_a_drawn_boundary_to_proximity(world):
    # A boundary around a point much nearer Beni, drawn as part of Bunia's territory.
    lat, lon = BENI[0] + 0.05, BENI[1] + 0.05
    square = [
        [lon - 0.01, lat - 0.01],
        [lon + 0.01, lat - 0.01],
        [lon + 0.01, lat + 0.01],
        [lon - 0.01, lat + 0.01],
        [lon - 0.01, lat - 0.01],
    ]
    Area.objects.filter(pcode="CD540101").update(
        boundary={"type": "Polygon", "coordinates": [square]}
    )
    held, placement = responsible_for_point(world.mission, lat, lon)
    assert placement.method == "boundary"
    assert held.unit == world.company_bunia


def test_it_does_not_place_points_far_from_everything(world):
    assert place_point(world.mission, -10.0, 20.0) is None
    assert responsible_for_point(world.mission, -10.0, 20.0) == (None, None)


def test_it_does_not_cross_missions(world):
    # Juba is a locality of the other mission only.
    held, _placement = responsible_for_point(world.other_mission, 4.85, 31.58)
    assert held.unit.mission == world.other_mission
    assert responsible_for_point(world.mission, 4.85, 31.58) == (None, None)


@pytest.mark.parametrize(("a", "b", "km"), [(BENI, BUTEMBO, 43.6), (BENI, BUNIA, 147.0)])
def test_haversine_matches_known_distances(a, b, km):
    assert haversine_km(*a, *b) == pytest.approx(km, rel=0.02)
