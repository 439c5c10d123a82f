"""A flash report goes at once, by e-mail, to the mission's lists that receive flash reports."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kiungo.messaging.models import OutboundEmail, Purpose
from kiungo.missions.models import ArmedActor
from kiungo.reports import writing
from kiungo.reports.models import DistributionList, Kind

from .conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def lists(world):
    DistributionList.objects.create(
        mission=world.mission, name="JOC", addresses="joc@example.org\nduty.joc@example.org"
    )
    DistributionList.objects.create(
        mission=world.mission,
        name="Civil Affairs",
        addresses="ca@example.org",
        receives_flash=False,
    )
    DistributionList.objects.create(
        mission=world.mission, name="Old list", addresses="old@example.org", active=False
    )
    DistributionList.objects.create(
        mission=world.other_mission, name="JOC", addresses="other@example.org"
    )


def flash(world, cla):
    actor = ArmedActor.objects.create(
        mission=world.mission, name="Allied Democratic Forces", short_name="ADF"
    )
    report = writing.start_report(cla=cla, kind=Kind.FLASH)
    writing.save_draft(
        report,
        writing.Changes(
            sections={"what": "Attaque du village de Mavivi.", "actions": "Patrouille demandée."},
            flash={
                "occurred_at": NOW - timedelta(hours=1),
                "area": world.beni,
                "killed_male": 2,
                "killed_unknown": 1,
                "abducted_female": 3,
            },
            perpetrator_ids=[actor.pk],
        ),
    )
    return report


def test_submitting_a_flash_report_queues_it_to_each_address_at_once(world, cla, lists, frozen):
    report = flash(world, cla)
    assert not OutboundEmail.objects.exists()  # a draft goes nowhere
    writing.submit(report, user=cla.user)
    emails = OutboundEmail.objects.filter(purpose=Purpose.REPORT).order_by("to")
    assert [e.to for e in emails] == ["duty.joc@example.org", "joc@example.org"]
    email = emails[0]
    assert email.recipient_label == "JOC"
    assert email.subject.startswith("FLASH Beni : Beni (CD61010101001)")  # mission language
    assert "Attaque du village de Mavivi." in email.body
    assert "ADF" in email.body
    assert "3 (0 F, 2 M, 1 ?)" in email.body and "3 (3 F, 0 M, 0 ?)" in email.body
    assert "11:00" in email.body  # local time of the event (09:00 UTC)


def test_a_revision_is_sent_again_marked_as_such(world, cla, lists, frozen):
    report = flash(world, cla)
    writing.submit(report, user=cla.user)
    writing.review(report, user=world.users["manager"], accept=False, comment="Auteurs ?")
    writing.submit(report, user=cla.user)
    revised = OutboundEmail.objects.filter(subject__contains="révision 2")
    assert revised.count() == 2


def test_a_refused_submission_sends_nothing(world, cla, lists, frozen):
    report = writing.start_report(cla=cla, kind=Kind.FLASH)
    with pytest.raises(ValidationError):
        writing.submit(report, user=cla.user)
    assert not OutboundEmail.objects.exists()


def test_daily_reports_are_not_distributed(world, cla, lists, frozen):
    report = writing.start_report(cla=cla, kind=Kind.DAILY)
    writing.save_draft(report, writing.Changes(nothing_to_report=True))
    writing.submit(report, user=cla.user)
    assert not OutboundEmail.objects.exists()


def test_a_list_with_a_bad_address_is_refused(world):
    bad = DistributionList(
        mission=world.mission, name="Bad", addresses="joc@example.org\nnot an address"
    )
    with pytest.raises(ValidationError):
        bad.full_clean()


def test_each_delivery_is_recorded_and_shown_on_the_report(client, world, cla, lists, frozen):
    report = flash(world, cla)
    writing.submit(report, user=cla.user)
    deliveries = list(report.deliveries.select_related("email", "distribution"))
    assert [(d.version, d.distribution.name) for d in deliveries] == [(1, "JOC"), (1, "JOC")]
    assert {d.email.to for d in deliveries} == {"joc@example.org", "duty.joc@example.org"}
    client.force_login(world.users["manager"])
    page = client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert "Distribution" in page and "JOC" in page and "Queued" in page
    assert "joc@example.org" not in page  # officers see the list, not the addresses
