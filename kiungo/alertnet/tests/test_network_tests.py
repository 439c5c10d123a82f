"""Network tests: who is sent the test SMS, and which inbound SMS count as answers."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from kiungo.alertnet import health
from kiungo.alertnet.models import NetworkPolicy, NetworkTest, NetworkTestRecipient
from kiungo.alertnet.tests.conftest import NOW, contact
from kiungo.alerts.intake import IncomingSMS, receive_sms
from kiungo.alerts.models import Alert
from kiungo.messaging.models import InboundMessage, OutboundMessage
from kiungo.messaging.outbox import is_gsm7
from kiungo.network.models import Contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def contacts(world, mavivi, channel):
    return {
        "ok": contact(world, "NK-BEN-001"),
        "mavivi": contact(world, "NK-BEN-002", mavivi, language="sw"),
        "no_consent": contact(world, "NK-BEN-003", consents_to_contact=False),
        "inactive": contact(world, "NK-BEN-004", active=False),
        "opted_out": contact(world, "NK-BEN-005", opted_out_at=NOW - timedelta(days=3)),
        "no_phone": contact(world, "NK-BEN-006", phone=""),
        "elsewhere": contact(world, "NK-BUN-001", world.bunia),
    }


def sms(channel, sender, text, ref=[0]):  # noqa: B006 -- a counter for gateway ids
    ref[0] += 1
    message, _created = receive_sms(
        channel, IncomingSMS(sender=sender, text=text, external_id=f"t-{ref[0]}")
    )
    message.refresh_from_db()
    return message


def test_only_active_consenting_not_opted_out_contacts_of_the_base_are_sent_the_test(
    world, contacts
):
    with time_machine.travel(NOW, tick=False):
        test = health.start_test(world.base_beni, by=world.users["cla"])
    tested = set(test.recipients.values_list("contact__code", flat=True))
    assert tested == {"NK-BEN-001", "NK-BEN-002"}
    sent = OutboundMessage.objects.order_by("recipient_label")
    assert [message.to for message in sent] == [contacts["ok"].phone, contacts["mavivi"].phone]
    assert all("NK-BEN" in message.recipient_label for message in sent)
    # In the contact's language (Swahili is not shipped: the mission's first language, French).
    assert sent[0].text == "Kiungo : test. Répondez OK. Merci."
    assert all(is_gsm7(message.text) and len(message.text) <= 160 for message in sent)
    assert test.closes_at - test.started_at == timedelta(hours=48)
    row = test.recipients.get(contact=contacts["mavivi"])
    assert row.locality.name == "Mavivi" and row.answered_at is None


def test_a_base_with_nobody_to_test_is_refused_with_nothing_saved(world, channel):
    contact(world, "NK-BEN-001", consents_to_contact=False)
    with pytest.raises(ValidationError, match="No contact"):
        health.start_test(world.base_beni)
    assert not NetworkTest.objects.exists() and not OutboundMessage.objects.exists()


def test_without_an_sms_channel_the_test_is_refused(world):
    contact(world, "NK-BEN-001")
    with pytest.raises(ValidationError, match="channel"):
        health.start_test(world.base_beni)
    assert not NetworkTest.objects.exists()


def test_a_short_reply_from_a_tested_contact_is_an_answer_not_an_alert(world, contacts, channel):
    with time_machine.travel(NOW, tick=False):
        test = health.start_test(world.base_beni)
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        message = sms(channel, contacts["ok"].phone, "ok")
    assert message.state == InboundMessage.State.PROCESSED
    assert not Alert.objects.exists()
    row = test.recipients.get(contact=contacts["ok"])
    assert row.answered_at == NOW + timedelta(hours=3)
    assert Contact.objects.get(pk=contacts["ok"].pk).last_heard_at == NOW + timedelta(hours=3)
    # The other recipient has not answered.
    assert test.recipients.get(contact=contacts["mavivi"]).answered_at is None


@pytest.mark.parametrize("text", ["OK", "Reçu", "bien reçu", "TEST", "sawa!"])
def test_reply_words(world, contacts, channel, text):
    with time_machine.travel(NOW, tick=False):
        test = health.start_test(world.base_beni)
        sms(channel, contacts["mavivi"].phone, text)
    assert test.recipients.get(contact=contacts["mavivi"]).answered_at == NOW
    assert not Alert.objects.exists()


def test_an_alert_from_a_tested_contact_is_an_alert_and_an_answer(world, contacts, channel):
    with time_machine.travel(NOW, tick=False):
        test = health.start_test(world.base_beni)
        sms(channel, contacts["ok"].phone, "ALERTE Beni hommes armes au marche")
    assert Alert.objects.count() == 1
    answered = dict(
        health.with_answers(test.recipients.all()).values_list("contact__code", "answered")
    )
    assert answered == {"NK-BEN-001": True, "NK-BEN-002": False}
    assert health.reachability(world.base_beni).columns[0].total.answered == 1


def test_ok_from_a_contact_without_an_open_test_goes_through_as_an_alert(world, contacts, channel):
    with time_machine.travel(NOW, tick=False):
        health.start_test(world.base_beni)
    # Not tested (no consent), then after the window for a tested one.
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        sms(channel, contacts["no_consent"].phone, "OK")
    with time_machine.travel(NOW + timedelta(hours=49), tick=False):
        sms(channel, contacts["ok"].phone, "OK")
    assert Alert.objects.count() == 2
    assert not NetworkTestRecipient.objects.filter(answered_at__isnull=False).exists()
    # The late alert is outside the window: not an answer either.
    assert health.reachability(world.base_beni).columns[0].total.answered == 0


def test_a_second_answer_keeps_the_first(world, contacts, channel):
    with time_machine.travel(NOW, tick=False):
        test = health.start_test(world.base_beni)
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        sms(channel, contacts["ok"].phone, "OK")
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        second = sms(channel, contacts["ok"].phone, "OK")
    # No open test any more for this contact: the second "OK" is an alert like any other.
    assert Alert.objects.filter(inbound=second).exists()
    assert test.recipients.get(contact=contacts["ok"]).answered_at == NOW + timedelta(hours=1)


def test_scheduled_tests_once_per_base_and_period_even_when_run_twice(world, contacts):
    NetworkPolicy.objects.create(mission=world.mission, test_every_days=7)
    with time_machine.travel(NOW, tick=False):
        assert health.run_scheduled_tests() == 2  # Beni and Bunia; Butembo has nobody
        assert health.run_scheduled_tests() == 0
    assert NetworkTest.objects.count() == 2
    assert OutboundMessage.objects.count() == 3
    test = NetworkTest.objects.get(base=world.base_beni)
    assert test.automatic and test.started_by is None
    with time_machine.travel(NOW + timedelta(days=7), tick=False):
        assert health.run_scheduled_tests() == 2  # the next period
    assert NetworkTest.objects.count() == 4


def test_the_same_period_twice_is_refused_by_the_database(world, contacts):
    period = health.schedule_period(world.mission, NetworkPolicy.of(world.mission), NOW)
    health.start_test(world.base_beni, now=NOW, period=period)
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        health.start_test(world.base_beni, now=NOW, period=period)


def test_a_test_by_hand_in_the_period_replaces_the_scheduled_one(world, contacts):
    NetworkPolicy.objects.create(mission=world.mission, test_every_days=30)
    period = health.schedule_period(world.mission, NetworkPolicy.of(world.mission), NOW)
    with time_machine.travel(NOW, tick=False):
        health.start_test(world.base_beni, by=world.users["cla"])
        assert health.run_scheduled_tests() == 1  # Bunia's
    assert NetworkTest.objects.filter(base=world.base_beni, period=period).count() == 0
    assert NetworkTest.objects.filter(base=world.base_bunia, period=period).count() == 1


def test_no_schedule_no_automatic_test(world, contacts):
    NetworkPolicy.objects.create(mission=world.mission, test_every_days=0)
    with time_machine.travel(NOW, tick=False):
        assert health.run_scheduled_tests() == 0


def test_start_from_the_health_page(client, world, contacts):
    client.force_login(world.users["cla"])
    url = f"/network/bases/{world.base_beni.pk}/tests/"
    response = client.post(url)
    assert response.status_code == 302
    assert NetworkTest.objects.get().started_by == world.users["cla"]
    page = client.get(f"/network/bases/{world.base_beni.pk}/health/")
    assert "0/2" in page.content.decode()
    # A CLA of another base cannot start one here.
    client.force_login(world.users["cla_bunia"])
    assert client.post(url).status_code == 404
    assert NetworkTest.objects.count() == 1
