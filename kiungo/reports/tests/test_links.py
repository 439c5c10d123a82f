"""A report offers the base's alerts and incidents of its period; the CLA ticks which to keep."""

from datetime import timedelta

import pytest
from django.urls import reverse

from kiungo.alerts.intake import log_alert
from kiungo.reports import writing
from kiungo.reports.models import Kind

pytestmark = pytest.mark.django_db


def alert_in(world, area, user="ewo"):
    level = {level.code: level for level in world.mission.alert_levels()}["high"]
    alert, _created = log_alert(
        mission=world.mission,
        user=world.users[user],
        text="Attaque signalée",
        source="call",
        area=area,
        threat="attack",
        level=level,
    )
    return alert


def test_the_days_alerts_and_incidents_of_the_base_are_offered_and_kept(client, world, cla, frozen):
    here = alert_in(world, world.beni)
    elsewhere = alert_in(world, world.bunia)  # another base's area
    report = writing.start_report(cla=cla, kind=Kind.DAILY)
    client.force_login(world.users["cla"])
    form = client.get(reverse("report-edit", args=[report.pk])).content.decode()
    assert here.reference in form and here.incident.reference in form
    assert elsewhere.reference not in form and elsewhere.incident.reference not in form

    client.post(
        reverse("report-edit", args=[report.pk]),
        {
            "day": "2025-03-12",
            "section_security": "Tendu.",
            "incidents": [here.incident.pk],
            "alerts": [here.pk],
            "action": "submit",
        },
    )
    report.refresh_from_db()
    assert list(report.incidents.all()) == [here.incident]
    version = report.versions.get()
    assert version.content["incidents"] == [here.incident.reference]
    assert version.content["alerts"] == [here.reference]


def test_another_bases_incident_cannot_be_linked(client, world, cla, frozen):
    elsewhere = alert_in(world, world.bunia)
    report = writing.start_report(cla=cla, kind=Kind.DAILY)
    client.force_login(world.users["cla"])
    client.post(
        reverse("report-autosave", args=[report.pk]),
        {"section_security": "x", "incidents": [elsewhere.incident.pk]},
    )
    assert not report.incidents.exists()


def test_yesterdays_incidents_are_not_offered_today(client, world, cla, frozen):
    old = alert_in(world, world.beni)
    frozen.shift(timedelta(days=2))
    report = writing.start_report(cla=cla, kind=Kind.DAILY)
    client.force_login(world.users["cla"])
    form = client.get(reverse("report-edit", args=[report.pk])).content.decode()
    assert old.incident.reference not in form
