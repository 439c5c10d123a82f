"""Fixtures of the report tests: the test world (kiungo.lib.testing) at a frozen time.

NOW is Wednesday 12 March 2025, 10:00 UTC = 12:00 in Beni (Africa/Lubumbashi, UTC+2).
"""

from datetime import UTC, datetime

import pytest
import time_machine

from kiungo.people.models import CLAProfile

NOW = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def cla(world) -> CLAProfile:
    return CLAProfile.objects.get(user=world.users["cla"])


@pytest.fixture
def cla_bunia(world) -> CLAProfile:
    return CLAProfile.objects.get(user=world.users["cla_bunia"])
