from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kiungo.people.models import CLAProfile, Deployment, Role, RoleAssignment


def test_a_cla_has_one_open_deployment_at_a_time(world):
    profile = CLAProfile.objects.get(staff_id="T-001")
    with pytest.raises(IntegrityError), transaction.atomic():
        Deployment.objects.create(cla=profile, base=world.base_butembo, starts_on=date(2026, 1, 1))


def test_deployments_of_a_cla_do_not_overlap(world):
    profile = CLAProfile.objects.get(staff_id="T-001")
    earlier = Deployment(
        cla=profile, base=world.base_butembo, starts_on=date(2024, 6, 1), ends_on=date(2025, 2, 1)
    )
    with pytest.raises(ValidationError, match="overlaps"):
        earlier.full_clean()
    earlier.ends_on = date(2025, 1, 5)
    earlier.full_clean()
    earlier.save()
    assert [d.base for d in profile.deployments.all()] == [world.base_beni, world.base_butembo]


def test_a_deployment_cannot_end_before_it_starts(world):
    profile = CLAProfile.objects.get(staff_id="T-002")
    with pytest.raises(IntegrityError), transaction.atomic():
        Deployment.objects.create(
            cla=profile, base=world.base_bunia, starts_on=date(2024, 6, 1), ends_on=date(2024, 5, 1)
        )


def test_a_unit_scope_needs_a_unit_and_only_then(world):
    user = world.users["outsider"]
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=user, role=Role.CLA, mission=world.mission, scope="unit")
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(
            user=user,
            role=Role.CLA,
            mission=world.mission,
            scope="mission",
            unit=world.company_beni,
        )


def test_a_unit_scope_stays_in_the_mission(world):
    assignment = RoleAssignment(
        user=world.users["outsider"],
        role=Role.UNIT_DUTY_OFFICER,
        mission=world.other_mission,
        scope="unit",
        unit=world.company_beni,
    )
    with pytest.raises(ValidationError, match="another mission"):
        assignment.full_clean()


def test_a_user_may_hold_several_roles(world):
    manager = world.users["manager"]
    RoleAssignment.objects.create(
        user=manager, role=Role.ANALYST, mission=world.mission, scope="mission"
    )
    assert manager.roles() == {Role.CLA_MANAGER, Role.ANALYST}
