import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kiungo.geography.models import Area, AreaName
from kiungo.lib.text import fold


@pytest.mark.parametrize("pcode", ["cd", "61", "CD-61", "CD 61", "CDé1", "SS6103"])
def test_it_refuses_malformed_or_foreign_pcodes(world, pcode):
    area = Area(mission=world.mission, pcode=pcode, level=2, name="X", parent=world.north_kivu)
    with pytest.raises(ValidationError):
        area.full_clean()


def test_the_database_refuses_a_malformed_pcode(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Area.objects.create(mission=world.mission, pcode="cd-61", level=1, name="X")


def test_a_child_pcode_extends_its_parent(world):
    area = Area(mission=world.mission, pcode="CD5499", level=2, name="X", parent=world.north_kivu)
    with pytest.raises(ValidationError, match="extend the parent"):
        area.full_clean()


def test_a_parent_is_at_a_higher_level(world):
    area = Area(
        mission=world.mission, pcode="CD610199", level=1, name="X", parent=world.beni_territory
    )
    with pytest.raises(ValidationError):
        area.full_clean()


def test_the_hierarchy_cannot_loop(world):
    world.north_kivu.parent = world.beni
    world.north_kivu.level = 5
    with pytest.raises(ValidationError, match="inside itself"):
        world.north_kivu.full_clean()


def test_a_province_has_no_parent_at_the_database(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Area.objects.create(
            mission=world.mission, pcode="CD6199", level=1, name="X", parent=world.north_kivu
        )


def test_an_area_with_children_keeps_its_pcode(world):
    world.beni_territory.pcode = "CD6109"
    with pytest.raises(ValidationError, match="cannot change"):
        world.beni_territory.full_clean()


def test_lookup_by_pcode_is_forgiving_of_case_and_spaces(world):
    assert Area.objects.by_pcode(" cd6101 ") == world.beni_territory


@pytest.mark.parametrize("typed", ["Beni", "BENI", "béni", " beni! ", "بيني"])
def test_lookup_by_name_or_alias_is_case_accent_and_script_tolerant(world, typed):
    assert list(Area.objects.named(world.mission, typed)) == [world.beni]


def test_lookup_by_name_stays_in_the_mission(world):
    assert not Area.objects.named(world.other_mission, "Beni").exists()


def test_names_are_folded_for_matching():
    assert fold("Béni-Ville!") == "beni ville"
    assert fold("  Kasaï   Oriental ") == "kasai oriental"
    assert AreaName(name="Ndélé").name == "Ndélé"


def test_ancestors_and_descendants(world):
    assert list(world.beni.ancestors()) == [
        Area.objects.get(pcode="CD61010101"),
        Area.objects.get(pcode="CD610101"),
        world.beni_territory,
        world.north_kivu,
    ]
    assert set(Area.objects.within(world.beni_territory)) >= {world.beni}
    assert world.bunia not in set(Area.objects.within(world.north_kivu))


def test_time_zone_is_inherited_and_validated(world):
    assert world.beni.effective_time_zone() == "Africa/Lubumbashi"
    world.north_kivu.time_zone = "Africa/Kinshasa"
    world.north_kivu.save()
    assert world.beni.effective_time_zone() == "Africa/Kinshasa"
    world.beni.time_zone = "Mars/Olympus"
    with pytest.raises(ValidationError, match="time zone"):
        world.beni.full_clean()


@pytest.mark.parametrize(
    "boundary",
    [
        {"type": "Point", "coordinates": [29.4, 0.5]},
        {"type": "Polygon", "coordinates": "nonsense"},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
        {"type": "Polygon", "coordinates": [[[200, 0], [201, 0], [201, 1], [200, 0]]]},
    ],
)
def test_it_refuses_bad_boundaries(world, boundary):
    world.beni.boundary = boundary
    with pytest.raises(ValidationError):
        world.beni.full_clean()


def test_it_refuses_half_a_point(world):
    world.beni.longitude = None
    with pytest.raises(ValidationError, match="latitude"):
        world.beni.full_clean()
