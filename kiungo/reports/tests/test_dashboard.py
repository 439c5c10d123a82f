"""The manager's compliance dashboard: per region and per CLA, with filters."""

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from kiungo.reports import writing
from kiungo.reports.models import Kind

pytestmark = pytest.mark.django_db


def test_the_manager_sees_each_cla_by_region_with_todays_state(
    client, world, cla, cla_bunia, frozen
):
    report = writing.start_report(cla=cla, kind=Kind.DAILY, day=date(2025, 3, 11))
    writing.save_draft(report, writing.Changes(nothing_to_report=True))
    writing.submit(report, user=cla.user)  # the next day: late
    client.force_login(world.users["manager"])
    response = client.get(reverse("reports-compliance"), {"days": "7"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Nord-Kivu" in page and "Ituri" in page  # cla_bunia: supervised, in Ituri
    assert "T-001" in page and "T-002" in page
    blocks = {block.name: block for block in response.context["blocks"]}
    nk = blocks["Nord-Kivu"]
    assert (nk.tally.expected, nk.tally.late, nk.tally.missing, nk.tally.pending) == (7, 1, 5, 1)
    assert response.context["total"].expected == 14
    [row] = nk.rows
    assert row.today.state == "pending"


def test_filters_by_region_and_missing(client, world, cla, cla_bunia, frozen):
    client.force_login(world.users["manager"])
    region = world.ituri.pk
    response = client.get(reverse("reports-compliance"), {"region": region})
    names = [row.cla.staff_id for block in response.context["blocks"] for row in block.rows]
    assert names == ["T-002"]
    for day in range(6, 13):  # cla reports every day of the week shown, on time
        noon = datetime(2025, 3, day, 10, 0, tzinfo=UTC)
        report = writing.start_report(cla=cla, kind=Kind.DAILY, day=date(2025, 3, day), now=noon)
        writing.save_draft(report, writing.Changes(nothing_to_report=True), now=noon)
        writing.submit(report, user=cla.user, now=noon)
    response = client.get(reverse("reports-compliance"), {"only_missing": "on", "days": "7"})
    names = [row.cla.staff_id for block in response.context["blocks"] for row in block.rows]
    assert names == ["T-002"]


def test_weekly_view(client, world, cla, frozen):
    client.force_login(world.users["leadership"])
    response = client.get(reverse("reports-compliance"), {"kind": "weekly", "days": "14"})
    assert response.status_code == 200 and response.context["kind"] == Kind.WEEKLY
    assert len(response.context["periods"]) == 3  # weeks of 24 Feb, 3 and 10 March
