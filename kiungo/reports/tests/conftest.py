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


# --- consolidated reports -------------------------------------------------------------------


def submitted_report(cla, day=None, kind="daily", **sections):
    """A report of `cla` submitted through the real rules (writing.submit)."""
    from kiungo.reports import writing

    report = writing.start_report(cla=cla, kind=kind, day=day)
    nothing = sections.pop("nothing_to_report", False)
    writing.save_draft(
        report, writing.Changes(sections=sections or None, nothing_to_report=nothing)
    )
    return writing.submit(report, user=cla.user).report


def alert_in(world, area, user="ewo", threat="attack", level="high"):
    from kiungo.alerts.intake import log_alert

    levels = {lv.code: lv for lv in world.mission.alert_levels()}
    alert, _created = log_alert(
        mission=world.mission,
        user=world.users[user],
        text="Attaque signalée",
        source="call",
        area=area,
        threat=threat,
        level=levels[level],
    )
    return alert
