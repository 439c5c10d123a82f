"""Silent contacts flagged to their CLA: once per contact and silence period."""

from datetime import timedelta

import pytest
import time_machine

from kiungo.alertnet import health
from kiungo.alertnet.models import NetworkPolicy, SilenceNotice
from kiungo.alertnet.tests.conftest import NOW, contact
from kiungo.alerts.intake import IncomingSMS, receive_sms
from kiungo.lib import worker
from kiungo.messaging.models import OutboundEmail
from kiungo.network.models import Contact
from kiungo.people.models import CLAProfile

pytestmark = pytest.mark.django_db


@pytest.fixture
def cla(world):
    user = world.users["cla"]
    user.email = "cla@example.org"
    user.save()
    return CLAProfile.objects.get(user=user)


def test_a_contact_silent_beyond_the_threshold_is_flagged_once(world, cla):
    silent = contact(world, "NK-BEN-001", last_heard_at=NOW - timedelta(days=31))
    contact(world, "NK-BEN-002", last_heard_at=NOW - timedelta(days=29))  # within 30 days
    contact(world, "NK-BEN-003", last_heard_at=NOW - timedelta(days=60), active=False)
    contact(world, "NK-BEN-004", last_heard_at=NOW - timedelta(days=60), opted_out_at=NOW)
    with time_machine.travel(NOW, tick=False):
        assert health.flag_silent_contacts() == 1
        assert health.flag_silent_contacts() == 0  # a second run (another worker): nothing
    notice = SilenceNotice.objects.get()
    assert notice.contact == silent and notice.cla == cla
    email = OutboundEmail.objects.get()
    assert email.to == "cla@example.org"
    assert "NK-BEN-001" in email.body and "NK-BEN-002" not in email.body
    assert "Name of" not in email.body and silent.phone not in email.body


def test_the_threshold_is_the_missions(world, cla):
    NetworkPolicy.objects.create(mission=world.mission, silence_days=7)
    contact(world, "NK-BEN-001", last_heard_at=NOW - timedelta(days=8))
    with time_machine.travel(NOW, tick=False):
        assert health.flag_silent_contacts() == 1


def test_heard_again_then_silent_again_is_a_new_period(world, cla, channel):
    who = contact(world, "NK-BEN-001", last_heard_at=NOW - timedelta(days=40))
    with time_machine.travel(NOW, tick=False):
        health.flag_silent_contacts()
    # An alert from the contact: intake sets last_heard_at.
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        receive_sms(channel, IncomingSMS(who.phone, "ALERTE Beni attaque", external_id="x1"))
    assert Contact.objects.get(pk=who.pk).last_heard_at == NOW + timedelta(days=1)
    with time_machine.travel(NOW + timedelta(days=20), tick=False):
        assert health.flag_silent_contacts() == 0
    with time_machine.travel(NOW + timedelta(days=32), tick=False):
        assert health.flag_silent_contacts() == 1
        assert health.flag_silent_contacts() == 0
    assert SilenceNotice.objects.filter(contact=who).count() == 2
    assert OutboundEmail.objects.count() == 2


def test_never_heard_from_is_flagged_once_a_test_went_unanswered(world, cla, channel):
    contact(world, "NK-BEN-001")
    with time_machine.travel(NOW, tick=False):
        assert health.flag_silent_contacts() == 0  # just registered: not silent yet
        health.start_test(world.base_beni)
        assert health.flag_silent_contacts() == 0  # the test is still open
    with time_machine.travel(NOW + timedelta(hours=49), tick=False):
        assert health.flag_silent_contacts() == 1
    with time_machine.travel(NOW + timedelta(days=40), tick=False):
        assert health.flag_silent_contacts() == 0
    assert SilenceNotice.objects.get().last_heard_at is None


def test_one_email_per_cla_listing_their_silent_contacts(world, cla):
    for code in ("NK-BEN-001", "NK-BEN-002"):
        contact(world, code, last_heard_at=NOW - timedelta(days=45))
    with time_machine.travel(NOW, tick=False):
        assert health.flag_silent_contacts() == 2
    email = OutboundEmail.objects.get()
    assert "NK-BEN-001" in email.body and "NK-BEN-002" in email.body


def test_without_a_managing_cla_the_base_clas_are_told(world, cla):
    contact(world, "NK-BEN-001", last_heard_at=NOW - timedelta(days=45), managed_by=None)
    with time_machine.travel(NOW, tick=False):
        health.flag_silent_contacts()
    assert SilenceNotice.objects.get().cla == cla
    assert OutboundEmail.objects.get().to == "cla@example.org"


def test_the_notice_is_on_the_clas_network_page(client, world, cla):
    contact(world, "NK-BEN-001", last_heard_at=NOW - timedelta(days=45))
    with time_machine.travel(NOW, tick=False):
        health.flag_silent_contacts()
    client.force_login(world.users["cla"])
    page = client.get(f"/network/bases/{world.base_beni.pk}/").content.decode()
    assert "NK-BEN-001: flagged on 2026-03-10" in page


def test_the_worker_task_runs_at_most_once_a_minute(world, cla, monkeypatch):
    contact(world, "NK-BEN-001", last_heard_at=NOW - timedelta(days=45))
    monkeypatch.setattr(worker, "_next_run", {})

    def worker_pass():  # what `manage.py worker` runs of this task in one iteration
        for task in worker.due():
            if task is health.network_health:
                task()

    with time_machine.travel(NOW, tick=False):
        worker_pass()
        assert SilenceNotice.objects.count() == 1
        contact(world, "NK-BEN-002", last_heard_at=NOW - timedelta(days=45))
        worker_pass()  # within the minute: not run again
        assert SilenceNotice.objects.count() == 1
