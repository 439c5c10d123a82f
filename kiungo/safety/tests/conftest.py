"""A check-in policy for the test mission, and the people a CLA's safety reaches: the `manager`
(the CLAs' supervisor), a security officer, and another CLA manager of North Kivu."""

from datetime import UTC, datetime

import pytest
import time_machine

from kiungo.people.models import Role, RoleAssignment, User
from kiungo.safety.models import CheckInPolicy

T0 = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)  # 08:00 in Beni (Africa/Lubumbashi, UTC+2)
CLA_PHONE = "+243990000001"
BUNIA_PHONE = "+243990000002"


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def safety(world, clock):
    """The policy (every 12 hours, 30 min grace, then +60 min, +60 min) and the people."""
    policy = CheckInPolicy.objects.create(
        mission=world.mission,
        every_hours=12,
        grace_minutes=30,
        security_after_minutes=60,
        region_after_minutes=60,
        duress_word="Mangue",
    )
    users = world.users
    users["manager"].email = "manager@example.org"
    users["manager"].save()
    security = User.objects.create_user("security", password="x", email="security@example.org")
    RoleAssignment.objects.create(
        user=security, role=Role.SECURITY_OFFICER, mission=world.mission, scope="mission"
    )
    regional = User.objects.create_user("regional", password="x", email="regional@example.org")
    assignment = RoleAssignment.objects.create(
        user=regional, role=Role.CLA_MANAGER, mission=world.mission, scope="areas"
    )
    assignment.areas.set([world.north_kivu])
    users["security"], users["regional"] = security, regional
    for name, phone in (("cla", CLA_PHONE), ("cla_bunia", BUNIA_PHONE)):
        profile = users[name].cla_profile
        profile.phone = phone
        profile.save()
    return policy
