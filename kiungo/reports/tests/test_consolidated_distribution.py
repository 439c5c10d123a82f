"""Distributing the consolidated report: one e-mail per address of the lists that take it,
recorded, and never twice unless the officer confirms a resend."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kiungo.messaging.models import OutboundEmail, Purpose
from kiungo.reports import consolidated
from kiungo.reports.models import ConsolidatedDelivery, ConsolidatedReport, DistributionList, Kind

pytestmark = pytest.mark.django_db

DAY = date(2025, 3, 12)


@pytest.fixture
def lists(world):
    return [
        DistributionList.objects.create(
            mission=world.mission, name="JOC", addresses="joc@un.test\njoc2@un.test"
        ),
        DistributionList.objects.create(
            mission=world.mission,
            name="Civil Affairs",
            addresses="ca@un.test",
            receives_daily=False,
        ),
        DistributionList.objects.create(
            mission=world.mission, name="Old", addresses="old@un.test", active=False
        ),
    ]


def send_url(world):
    return reverse("reports-consolidated-send") + f"?mission={world.mission.pk}&day={DAY}"


def test_sends_once_to_the_lists_that_take_daily_reports(client, world, lists, frozen):
    client.force_login(world.users["ewo"])
    assert client.post(send_url(world), {"after_round": "0"}).status_code == 302
    emails = OutboundEmail.objects.order_by("to")
    assert [e.to for e in emails] == ["joc2@un.test", "joc@un.test"]
    assert {e.purpose for e in emails} == {Purpose.REPORT}
    assert f"mission={world.mission.pk}" in emails[0].body and "2025-03-12" in emails[0].subject
    assert ConsolidatedDelivery.objects.filter(round=1, distribution=lists[0]).count() == 2

    client.post(send_url(world), {"after_round": "0"})  # a double click, a retried request
    assert OutboundEmail.objects.count() == 2
    assert ConsolidatedReport.objects.get().sent_rounds == 1


def test_a_confirmed_resend_sends_again(client, world, lists, frozen):
    client.force_login(world.users["ewo"])
    client.post(send_url(world), {"after_round": "0"})
    page = client.get(send_url(world)).content.decode()
    assert 'name="after_round" value="1"' in page and "Already sent once." in page
    client.post(send_url(world), {"after_round": "1"})
    assert OutboundEmail.objects.count() == 4
    assert ConsolidatedDelivery.objects.filter(round=2).count() == 2


def test_the_weekly_report_goes_to_the_weekly_lists(world, lists, frozen):
    queued = consolidated.distribute(
        world.mission, Kind.WEEKLY, DAY, user=world.users["ewo"], link="https://k.test/x"
    )
    assert queued == 3  # JOC (2) and Civil Affairs (1)
    with pytest.raises(consolidated.AlreadySent):
        consolidated.distribute(
            world.mission, Kind.WEEKLY, date(2025, 3, 14), user=world.users["ewo"], link="x"
        )


def test_nothing_is_claimed_without_a_list(world, frozen):
    with pytest.raises(ValidationError):
        consolidated.distribute(world.mission, Kind.DAILY, DAY, user=world.users["ewo"], link="x")
    assert not ConsolidatedReport.objects.filter(sent_rounds__gt=0).exists()


@pytest.mark.parametrize("name", ["leadership", "analyst", "manager", "cla", "other_ewo"])
def test_only_the_early_warning_cell_sends(client, world, lists, frozen, name):
    client.force_login(world.users[name])
    assert client.post(send_url(world), {"after_round": "0"}).status_code in (403, 404)
    assert not OutboundEmail.objects.exists()
