"""Fixtures of the alert-network tests: Beni base with a second locality, and key contacts."""

from datetime import UTC, datetime

import pytest

from kiungo.geography.models import Area
from kiungo.lib.testing import make_area
from kiungo.messaging.models import Channel
from kiungo.network.models import Contact
from kiungo.people.models import CLAProfile

NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
MAVIVI = (0.56, 29.45)


@pytest.fixture
def channel(world):
    return Channel.objects.create(
        mission=world.mission, kind="console", name="Hotline", phone_number="+243990000105"
    )


@pytest.fixture
def mavivi(world):
    """A second locality in Beni base's area of responsibility."""
    return make_area(
        world.mission,
        "CD61010101002",
        5,
        "Mavivi",
        Area.objects.get(pcode="CD61010101"),
        MAVIVI,
    )


_numbers = iter(range(10**6))


def contact(world, code, locality=None, **fields) -> Contact:
    """A consenting, active key contact with a fresh number, living in Beni unless told."""
    values = {
        "mission": world.mission,
        "code": code,
        "name": f"Name of {code}",
        "phone": f"+24397{1000000 + next(_numbers):07d}",
        "home_locality": locality or world.beni,
        "language": "fr",
        "consents_to_contact": True,
        "managed_by": CLAProfile.objects.get(user=world.users["cla"]),
    }
    values.update(fields)
    return Contact.objects.create(**values)
