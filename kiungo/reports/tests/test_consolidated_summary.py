"""The consolidated report's summary: written by the early-warning cell or leadership."""

from datetime import date

import pytest
from django.urls import reverse

from kiungo.reports import consolidated
from kiungo.reports.models import ConsolidatedReport, Kind

pytestmark = pytest.mark.django_db

DAY = date(2025, 3, 12)


def summary_url(world, kind="daily", day=DAY):
    return (
        reverse("reports-consolidated-summary")
        + f"?mission={world.mission.pk}&kind={kind}&day={day}"
    )


def test_an_ewo_writes_then_rewrites_the_summary(client, world, frozen):
    client.force_login(world.users["ewo"])
    response = client.post(summary_url(world), {"summary": "  Situation calme.  "})
    assert response.status_code == 302
    record = ConsolidatedReport.objects.get()
    assert (record.summary, record.edited_by, record.period_start) == (
        "Situation calme.",
        world.users["ewo"],
        DAY,
    )
    client.force_login(world.users["leadership"])
    client.post(summary_url(world), {"summary": "Tension à Beni."})
    record.refresh_from_db()
    assert (record.summary, record.edited_by) == ("Tension à Beni.", world.users["leadership"])
    assert ConsolidatedReport.objects.count() == 1
    page = client.get(reverse("reports-consolidated") + f"?mission={world.mission.pk}&day={DAY}")
    assert "Tension à Beni." in page.content.decode()


def test_a_weekly_summary_is_kept_per_week(world, frozen):
    consolidated.save_summary(world.mission, Kind.WEEKLY, DAY, "Semaine.", user=world.users["ewo"])
    consolidated.save_summary(
        world.mission, Kind.WEEKLY, date(2025, 3, 16), "Même semaine.", user=world.users["ewo"]
    )
    record = ConsolidatedReport.objects.get()
    assert (record.kind, record.period_start, record.summary) == (
        Kind.WEEKLY,
        date(2025, 3, 10),
        "Même semaine.",
    )


@pytest.mark.parametrize("name", ["analyst", "manager", "duty", "cla", "other_ewo"])
def test_others_cannot_write_it(client, world, frozen, name):
    client.force_login(world.users[name])
    response = client.post(summary_url(world), {"summary": "x"})
    assert response.status_code in (403, 404)
    assert not ConsolidatedReport.objects.exists()
