"""The demo's field reports (kiungo/demo/reports.py), on the demo scenario loaded once."""

import pytest
from django.db.models import Count, F
from django.urls import reverse

from kiungo.demo import reports as demo_reports
from kiungo.people.models import CLAProfile, User
from kiungo.reports.compliance import State
from kiungo.reports.models import DistributionList, Kind, Report, ReportingSchedule, Status


@pytest.fixture
def demo(demo_output, db):
    return demo_output


def test_the_output_says_what_was_loaded(demo):
    assert "Demo reports:" in demo


def test_the_cla_login_has_reports_and_a_draft_for_today(demo):
    cla = CLAProfile.objects.get(user__username="cla")
    mine = Report.objects.filter(cla=cla)
    assert mine.filter(kind=Kind.DAILY).exclude(status=Status.DRAFT).count() >= 8
    assert mine.filter(kind=Kind.DAILY, status=Status.DRAFT).count() == 1
    assert mine.filter(kind=Kind.FLASH).exists()


def test_the_mix_of_outcomes(demo):
    daily = Report.objects.filter(mission__code="MONUSCO", kind=Kind.DAILY)
    assert daily.filter(nothing_to_report=True).exists()
    assert daily.filter(status=Status.RETURNED).exists() or daily.filter(version=2).exists()
    assert daily.filter(status=Status.ACCEPTED).exists()
    assert Report.objects.filter(kind=Kind.WEEKLY).exists()
    assert 2 <= Report.objects.filter(kind=Kind.FLASH).count() <= 3
    assert ReportingSchedule.objects.filter(mission__code="MONUSCO").exists()
    assert DistributionList.objects.filter(mission__code="MONUSCO", receives_flash=True).exists()


def test_every_sent_report_has_its_versions(demo):
    sent = Report.objects.exclude(status=Status.DRAFT).annotate(n=Count("versions"))
    assert not sent.exclude(n=F("version")).exists()
    assert not sent.filter(submitted_at__isnull=True).exists()


def test_the_managers_dashboard_shows_all_its_clas(demo, client):
    manager = User.objects.get(username="manager")
    client.force_login(manager)
    response = client.get(reverse("reports-compliance"))
    assert response.status_code == 200
    shown = {row.cla.pk for block in response.context["blocks"] for row in block.rows}
    supervised = set(
        CLAProfile.objects.filter(
            supervisor=manager, deployments__ends_on__isnull=True, user__is_active=True
        ).values_list("pk", flat=True)
    )
    assert supervised and supervised <= shown
    states = {
        cell.state
        for block in response.context["blocks"]
        for row in block.rows
        for _day, cell in row.cells
        if cell
    }
    assert {State.ON_TIME, State.LATE, State.MISSING} <= states


def test_a_second_run_changes_nothing(demo):
    before = Report.objects.count()
    summary = demo_reports.ensure(2026)
    assert summary.already and Report.objects.count() == before
