"""Who sees what, by role and by place: the rules of kiungo.people.access."""

import pytest
from django.http import Http404

from kiungo.forces.models import Base, Unit
from kiungo.geography.models import Area
from kiungo.people.access import (
    Capability,
    access,
    can_see,
    has_capability,
    visible_bases,
    visible_clas,
    visible_missions,
    visible_units,
)
from kiungo.people.models import CLAProfile


def bases_of(world, name):
    return {base.code for base in visible_bases(world.users[name])}


def test_mission_wide_roles_see_every_base_of_their_mission_only(world):
    for name in ["administrator", "leadership", "analyst", "ewo"]:
        assert bases_of(world, name) == {"beni", "butembo", "bunia"}
    assert bases_of(world, "other_ewo") == {"juba"}


def test_a_manager_sees_their_region(world):
    assert bases_of(world, "manager") == {"beni", "butembo"}


def test_a_duty_officer_sees_the_aor_of_their_unit_and_the_units_below(world):
    assert bases_of(world, "duty") == {"beni", "butembo"}


def test_a_cla_sees_their_base_area(world):
    assert bases_of(world, "cla") == {"beni"}
    assert bases_of(world, "cla_bunia") == {"bunia"}


def test_someone_without_a_role_sees_nothing(world):
    outsider = world.users["outsider"]
    assert bases_of(world, "outsider") == set()
    assert not visible_missions(outsider).exists()
    assert not has_capability(outsider, Capability.VIEW_REFERENCE)


def test_an_inactive_user_sees_nothing(world):
    ewo = world.users["ewo"]
    ewo.is_active = False
    assert not visible_bases(ewo).exists()


def test_area_scope_covers_everything_below(world):
    cla = world.users["cla"]
    assert can_see(cla, world.beni)
    assert can_see(cla, Area.objects.get(pcode="CD61010101"))
    assert not can_see(cla, world.butembo)
    assert not can_see(cla, world.north_kivu)  # the province is larger than the CLA's area


def test_units_visible_include_the_chain_above_but_not_sideways(world):
    cla_units = set(visible_units(world.users["cla"]))
    assert cla_units == {world.company_beni, world.battalion_a, world.sector_north, world.force_hq}
    assert world.company_bunia not in set(visible_units(world.users["duty"]))


def test_people_are_visible_to_managers_and_leadership_only(world):
    assert {p.staff_id for p in visible_clas(world.users["manager"])} == {"T-001", "T-002"}
    assert {p.staff_id for p in visible_clas(world.users["leadership"])} == {"T-001", "T-002"}
    for name in ["ewo", "duty", "cla", "analyst", "outsider", "other_ewo"]:
        assert not visible_clas(world.users[name]).exists(), name


def test_a_manager_sees_the_clas_they_supervise_even_outside_their_region(world):
    # T-002 is at Bunia (Ituri), outside the manager's North Kivu scope, but supervised.
    manager = world.users["manager"]
    assert can_see(manager, CLAProfile.objects.get(staff_id="T-002"))


def test_only_administrators_manage_reference_data(world):
    for name in ["leadership", "analyst", "ewo", "manager", "duty", "cla", "outsider"]:
        assert not has_capability(world.users[name], Capability.MANAGE_REFERENCE), name
    assert has_capability(world.users["administrator"], Capability.MANAGE_REFERENCE)


def test_access_hides_what_is_out_of_scope_as_missing(world):
    cla = world.users["cla"]
    assert access(cla, Base, pk=world.base_beni.pk) == world.base_beni
    with pytest.raises(Http404):
        access(cla, Base, pk=world.base_bunia.pk)
    with pytest.raises(Http404):
        access(cla, Unit, pk=world.company_bunia.pk)
    with pytest.raises(Http404):
        access(world.users["other_ewo"], Base, pk=world.base_beni.pk)


def test_superusers_see_everything(world, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x")
    assert visible_bases(root).count() == 4


def test_scope_is_computed_once_per_request(world, django_assert_max_num_queries):
    manager = world.users["manager"]
    visible_bases(manager).count()
    with django_assert_max_num_queries(1):
        visible_bases(manager).count()
