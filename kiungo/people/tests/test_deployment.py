"""Rotations, absences, who is present at a base, and the pages managers use for them."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from kiungo.lib.testing import check_matrix
from kiungo.people.deployment import (
    absent_on,
    cancel_rotation,
    complete_rotation,
    plan_rotation,
    presence,
    record_absence,
)
from kiungo.people.models import Absence, CLAProfile, Deployment, Rotation

TODAY = date(2025, 3, 3)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime(2025, 3, 3, 8, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture
def cla(world):
    return world.users["cla"].cla_profile


# Rotations.


def test_carrying_out_a_rotation_closes_the_deployment_and_opens_the_next(world, cla):
    rotation = plan_rotation(cla, to_base=world.base_butembo, planned_on=TODAY)
    deployment = complete_rotation(rotation, on=TODAY, by=world.users["manager"])
    deployments = list(cla.deployments.order_by("starts_on").values_list("base__code", "ends_on"))
    assert deployments == [("beni", TODAY - timedelta(days=1)), ("butembo", None)]
    assert deployment.starts_on == TODAY
    cla.refresh_from_db()
    assert cla.base == world.base_butembo
    rotation.refresh_from_db()
    assert (rotation.status, rotation.done_on) == (Rotation.Status.DONE, TODAY)


def test_a_rotation_is_carried_out_once(world, cla):
    rotation = plan_rotation(cla, to_base=world.base_butembo, planned_on=TODAY)
    complete_rotation(rotation, on=TODAY)
    with pytest.raises(ValidationError, match="no longer planned"):
        complete_rotation(rotation, on=TODAY)
    assert cla.deployments.count() == 2


@pytest.mark.parametrize(
    ("on", "problem"),
    [
        (TODAY + timedelta(days=1), "in the future"),
        (date(2025, 1, 6), "choose a later day"),  # the day the current deployment started
    ],
)
def test_a_rotation_on_an_impossible_day_changes_nothing(world, cla, on, problem):
    rotation = plan_rotation(cla, to_base=world.base_butembo, planned_on=TODAY)
    with pytest.raises(ValidationError, match=problem):
        complete_rotation(rotation, on=on)
    assert list(cla.deployments.values_list("base__code", "ends_on")) == [("beni", None)]
    assert CLAProfile.objects.get(pk=cla.pk).base == world.base_beni


def test_planning_refuses_another_mission_the_same_base_and_a_second_plan(world, cla):
    with pytest.raises(ValidationError, match="another mission"):
        plan_rotation(cla, to_base=world.other_base, planned_on=TODAY)
    with pytest.raises(ValidationError, match="already serves"):
        plan_rotation(cla, to_base=world.base_beni, planned_on=TODAY)
    plan_rotation(cla, to_base=world.base_butembo, planned_on=TODAY)
    with pytest.raises(ValidationError, match="already has a planned rotation"):
        plan_rotation(cla, to_base=world.base_bunia, planned_on=TODAY)


def test_a_cancelled_rotation_cannot_be_carried_out(world, cla):
    rotation = plan_rotation(cla, to_base=world.base_butembo, planned_on=TODAY)
    assert cancel_rotation(rotation) is True
    assert cancel_rotation(rotation) is False
    with pytest.raises(ValidationError):
        complete_rotation(rotation, on=TODAY)


# Absences.


def test_overlapping_absences_are_refused_with_the_clash_named(cla):
    record_absence(cla, kind="leave", starts_on=date(2025, 3, 10), ends_on=date(2025, 3, 20))
    for start, end in [((3, 20), (3, 25)), ((3, 1), (3, 10)), ((3, 12), (3, 13)), ((3, 1), (4, 1))]:
        with pytest.raises(ValidationError, match="overlaps the CLA's leave from 2025-03-10"):
            record_absence(cla, kind="sick", starts_on=date(2025, *start), ends_on=date(2025, *end))
    record_absence(cla, kind="training", starts_on=date(2025, 3, 21), ends_on=date(2025, 3, 21))
    assert Absence.objects.count() == 2


def test_an_absence_cannot_end_before_it_starts(cla):
    with pytest.raises(ValidationError, match="cannot end before"):
        record_absence(cla, kind="leave", starts_on=date(2025, 3, 10), ends_on=date(2025, 3, 9))


def test_absent_on_lists_the_clas_away_that_day(world, cla):
    bunia = world.users["cla_bunia"].cla_profile
    record_absence(cla, kind="travel", starts_on=date(2025, 3, 2), ends_on=date(2025, 3, 3))
    assert absent_on([cla.pk, bunia.pk], date(2025, 3, 3)) == {cla.pk}
    assert absent_on([cla.pk, bunia.pk], date(2025, 3, 4)) == set()
    assert absent_on([], date(2025, 3, 3)) == set()


# Presence.


def test_bases_with_fewer_than_two_present_are_flagged(world, cla):
    second = CLAProfile.objects.create(
        user=world.users["outsider"], staff_id="T-009", base=world.base_beni
    )
    Deployment.objects.create(cla=second, base=world.base_beni, starts_on=date(2025, 1, 1))
    rows = {row.base.code: row for row in presence([world.base_beni, world.base_bunia], TODAY)}
    assert (len(rows["beni"].present), rows["beni"].short) == (2, False)
    assert rows["bunia"].short and rows["beni"].region == "Nord-Kivu"
    assert rows["beni"].present[0].deployed_since == date(2025, 1, 6)
    record_absence(second, kind="sick", starts_on=TODAY, ends_on=TODAY)
    rows = {row.base.code: row for row in presence([world.base_beni], TODAY)}
    assert rows["beni"].short and rows["beni"].absent == [second]


# Pages.


def test_the_deployment_page(client, world):
    check_matrix(client, world, "/clas/", {"administrator", "leadership", "manager"})


def test_the_forms_are_for_managers_in_scope(client, world, cla):
    rotation = plan_rotation(cla, to_base=world.base_butembo, planned_on=TODAY)
    managers = {"administrator", "manager"}
    check_matrix(client, world, f"/clas/{cla.pk}/rotations/new/", managers)
    check_matrix(client, world, f"/clas/{cla.pk}/absences/new/", managers)
    check_matrix(client, world, f"/rotations/{rotation.pk}/complete/", managers)


def test_the_cla_page_shows_the_history(client, world, cla):
    rotation = plan_rotation(cla, to_base=world.base_butembo, planned_on=TODAY, note="swap")
    record_absence(cla, kind="training", starts_on=date(2025, 2, 1), ends_on=date(2025, 2, 3))
    complete_rotation(rotation, on=TODAY)
    client.force_login(world.users["leadership"])  # reads, does not manage
    page = client.get(f"/clas/{cla.pk}/").content.decode()
    assert "Butembo" in page and "swap" in page and "2025-02-03" in page and "Training" in page
    assert "Plan a rotation" not in page


def test_an_overlapping_absence_on_the_form_is_a_clear_error(client, world, cla):
    record_absence(cla, kind="leave", starts_on=date(2025, 3, 10), ends_on=date(2025, 3, 20))
    client.force_login(world.users["manager"])
    response = client.post(
        f"/clas/{cla.pk}/absences/new/",
        {"kind": "sick", "starts_on": "2025-03-15", "ends_on": "2025-03-16", "note": "flu"},
    )
    assert response.status_code == 200
    assert "overlaps the CLA" in response.content.decode()
    assert Absence.objects.count() == 1
    response = client.post(
        f"/clas/{cla.pk}/absences/new/",
        {"kind": "sick", "starts_on": "2025-03-22", "ends_on": "2025-03-21"},
    )
    assert "cannot end before" in response.content.decode()


def test_a_manager_plans_and_carries_out_a_rotation_on_the_web(client, world, cla):
    client.force_login(world.users["manager"])
    response = client.post(
        f"/clas/{cla.pk}/rotations/new/",
        {"to_base": world.base_butembo.pk, "planned_on": "2025-03-03"},
    )
    assert response.status_code == 302
    rotation = Rotation.objects.get()
    response = client.post(f"/rotations/{rotation.pk}/complete/", {"on": "2025-03-04"})
    assert "in the future" in response.content.decode()
    response = client.post(f"/rotations/{rotation.pk}/complete/", {"on": "2025-03-03"})
    assert response.status_code == 302
    assert CLAProfile.objects.get(pk=cla.pk).base == world.base_butembo
    page = client.get("/clas/").content.decode()
    assert "below two" in page
