"""The consolidated daily (and weekly) report: what it lists, for whom, at what cost."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kiungo.alerts import response
from kiungo.alerts.taxonomy import Threat
from kiungo.lib.testing import check_matrix
from kiungo.people.models import CLAProfile, Deployment, User
from kiungo.reports import consolidated, writing
from kiungo.reports.models import Kind, Status
from kiungo.reports.tests.conftest import alert_in, submitted_report

pytestmark = pytest.mark.django_db

DAY = date(2025, 3, 12)
READERS = {"administrator", "leadership", "analyst", "ewo", "manager"}


def url(world, name="reports-consolidated", **extra):
    query = "&".join(
        f"{k}={v}" for k, v in {"mission": world.mission.pk, "day": DAY, **extra}.items()
    )
    return reverse(name) + "?" + query


def test_lists_every_submitted_report_of_the_day_and_the_days_incidents(
    world, cla, cla_bunia, frozen
):
    beni = submitted_report(cla, security="Calme à Beni, marché ouvert.")
    bunia = submitted_report(cla_bunia, nothing_to_report=True)
    writing.review(bunia, user=world.users["manager"], accept=True, comment="")
    here = alert_in(world, world.beni)
    there = alert_in(world, world.bunia, threat="abduction", level="medium")

    c = consolidated.assemble(world.users["ewo"], world.mission, Kind.DAILY, DAY)

    listed = {
        e.report.pk: (region.name, base.name)
        for region in c.regions
        for base in region.bases
        for e in base.reports
    }
    assert listed == {
        beni.pk: ("Nord-Kivu", world.base_beni.name),
        bunia.pk: ("Ituri", world.base_bunia.name),
    }
    beni_entry = next(e for r in c.regions for b in r.bases for e in b.reports if e.report == beni)
    assert ("Security situation", "Calme à Beni, marché ouvert.") in beni_entry.sections
    assert c.nothing_count == 1 and c.missing_count == 0
    assert {line.incident.reference for line in c.incidents} == {
        here.incident.reference,
        there.incident.reference,
    }
    assert c.alert_count == 2
    threats = dict(Threat.choices)
    assert dict(c.alerts_by_threat) == {threats["attack"]: 1, threats["abduction"]: 1}
    assert dict(c.incidents_by_threat) == {threats["attack"]: 1, threats["abduction"]: 1}
    line = next(line for line in c.incidents if line.incident == here.incident)
    assert line.place == world.beni.name and line.unit == world.company_beni.name
    assert line.state == "Awaiting acknowledgement"


def test_leaves_out_drafts_other_days_and_other_missions_and_names_the_missing(
    world, cla, cla_bunia, frozen
):
    writing.start_report(cla=cla, kind=Kind.DAILY)  # today's draft: still missing
    yesterday = submitted_report(cla_bunia, day=date(2025, 3, 11), security="Hier.")
    c = consolidated.assemble(world.users["ewo"], world.mission, Kind.DAILY, DAY)
    assert c.report_count == 0
    missing = {m for r in c.regions for b in r.bases for m in b.missing}
    assert missing == {"T-001", "T-002"}
    other = consolidated.assemble(
        world.users["other_ewo"], world.other_mission, Kind.DAILY, date(2025, 3, 11)
    )
    assert other.report_count == 0 and not other.regions
    old = consolidated.assemble(world.users["ewo"], world.mission, Kind.DAILY, date(2025, 3, 11))
    assert [e.report for r in old.regions for b in r.bases for e in b.reports] == [yesterday]


def test_the_response_state_of_an_incident(world, frozen):
    alert = alert_in(world, world.beni)
    response.acknowledge(alert.incident, response.Actor(user=world.users["ewo"]))
    c = consolidated.assemble(world.users["ewo"], world.mission, Kind.DAILY, DAY)
    assert c.incidents[0].state == "Acknowledged"


def test_weekly_lists_the_weeks_weekly_reports(world, cla, frozen):
    weekly = submitted_report(
        cla, day=date(2025, 3, 10), kind=Kind.WEEKLY, trends="Stable.", threats="ADF."
    )
    c = consolidated.assemble(world.users["ewo"], world.mission, Kind.WEEKLY, DAY)
    assert (c.first_day, c.last_day) == (date(2025, 3, 10), date(2025, 3, 16))
    assert [e.report for r in c.regions for b in r.bases for e in b.reports] == [weekly]


def test_a_cla_manager_sees_their_regions_part(world, cla, cla_bunia, frozen):
    submitted_report(cla, security="Beni.")
    submitted_report(cla_bunia, security="Bunia.")
    alert_in(world, world.bunia)
    cla_bunia.supervisor = None  # otherwise the manager reads their reports as supervisor
    cla_bunia.save()
    c = consolidated.assemble(world.users["manager"], world.mission, Kind.DAILY, DAY)
    assert [r.name for r in c.regions] == ["Nord-Kivu"]
    assert c.incidents == [] and c.alert_count == 0


def test_the_page(client, world, cla, frozen):
    submitted_report(cla, security="Calme à Beni.")
    client.force_login(world.users["ewo"])
    page = client.get(url(world)).content.decode()
    assert "Calme à Beni." in page and "T-001" in page
    assert "Amani" not in page  # CLAs by staff id


def test_permission_matrix(client, world, frozen):
    check_matrix(client, world, url(world), READERS)
    check_matrix(client, world, url(world, kind="weekly"), READERS)
    check_matrix(client, world, url(world, "reports-consolidated-pdf"), READERS)
    check_matrix(client, world, url(world, "reports-consolidated-docx"), READERS)
    check_matrix(
        client,
        world,
        url(world, "reports-consolidated-summary"),
        {"administrator", "leadership", "ewo"},
    )
    check_matrix(client, world, url(world, "reports-consolidated-send"), {"administrator", "ewo"})


def _more_reporters(world, count, start):
    for n in range(start, start + count):
        user = User.objects.create_user(username=f"reporter{n}", password="x")
        profile = CLAProfile.objects.create(
            user=user, staff_id=f"R-{n:03d}", languages=["fr"], base=world.base_butembo
        )
        Deployment.objects.create(cla=profile, base=world.base_butembo, starts_on=date(2025, 1, 6))
        report = submitted_report(profile, security=f"Rapport {n}.")
        assert report.status == Status.SUBMITTED


def test_the_query_count_does_not_grow_with_the_reports(world, frozen):
    ewo = world.users["ewo"]
    _more_reporters(world, 2, 0)
    alert_in(world, world.beni)
    with CaptureQueriesContext(connection) as few:
        small = consolidated.assemble(ewo, world.mission, Kind.DAILY, DAY)
    _more_reporters(world, 10, 2)
    alert_in(world, world.butembo)
    ewo = User.objects.get(pk=ewo.pk)  # a fresh scope cache, as in a new request
    with CaptureQueriesContext(connection) as many:
        large = consolidated.assemble(ewo, world.mission, Kind.DAILY, DAY)
    assert (small.report_count, large.report_count) == (2, 12)
    assert len(many.captured_queries) == len(few.captured_queries)
