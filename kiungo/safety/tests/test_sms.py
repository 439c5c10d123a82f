"""Safety codes by SMS: OK / SAFE / BIEN, SOS and the duress word, from a CLA's registered
phone only; the same words from any other phone stay what they were."""

import pytest

from kiungo.alerts.intake import IncomingSMS, receive_sms
from kiungo.alerts.models import Alert
from kiungo.lib.crypto import keyed_hash
from kiungo.messaging.gateways.testing import make_channel
from kiungo.messaging.models import InboundMessage, OutboundEmail, OutboundMessage, Purpose
from kiungo.safety.models import Alarm, CheckIn, SafetyStatus
from kiungo.safety.sms import SAFETY_PLACEHOLDER
from kiungo.safety.tests.conftest import CLA_PHONE

STRANGER = "+243997654321"
_ids = iter(range(10**6))


@pytest.fixture
def channel(world, safety):
    return make_channel(world.mission, "console")


def send(channel, text, sender=CLA_PHONE):
    message, _created = receive_sms(
        channel, IncomingSMS(sender=sender, text=text, external_id=f"gw-{next(_ids)}")
    )
    message.refresh_from_db()
    return message


def answer_to(phone) -> str:
    found = OutboundMessage.objects.filter(purpose=Purpose.REPLY, to_hash=keyed_hash(phone))
    return " ".join(message.text for message in found.order_by("pk"))


@pytest.mark.parametrize("text", ["OK", "ok", "Safe", "BIEN", "bien.", "OK Beni"])
def test_a_check_in_word_from_the_cla_phone_checks_in(world, channel, text):
    message = send(channel, text)
    check = CheckIn.objects.get()
    assert (check.cla.staff_id, check.channel) == ("T-001", "sms")
    assert SafetyStatus.objects.get(cla=check.cla).last_check_in == check
    assert "check-in received" in answer_to(CLA_PHONE).lower() or "pointage" in answer_to(CLA_PHONE)
    assert not Alert.objects.exists()
    assert message.state == InboundMessage.State.PROCESSED
    assert message.text == SAFETY_PLACEHOLDER and message.raw == ""
    if text == "OK Beni":
        assert check.area == world.beni


def test_the_answer_names_the_next_deadline_in_local_time(channel):
    send(channel, "OK")
    assert "20:00" in answer_to(CLA_PHONE)  # 08:00 + 12 h, Beni time


@pytest.mark.parametrize("text", ["OK", "SAFE", "SOS", "Mangue"])
def test_the_same_words_from_another_phone_stay_alerts(channel, text):
    send(channel, text, sender=STRANGER)
    assert not CheckIn.objects.exists() and not Alarm.objects.exists()
    assert Alert.objects.count() == 1  # exactly what a bare OK was before


def test_a_duty_phone_reply_code_is_not_taken_for_a_check_in(world, channel):
    send(channel, "OK K7HQ3M2", sender="+243991234567")  # the ops room's duty phone
    assert not CheckIn.objects.exists()


def test_a_long_message_from_the_cla_phone_is_an_alert(channel):
    send(channel, "OK des hommes armés sont entrés à Beni ce matin vers six heures")
    assert not CheckIn.objects.exists()
    assert Alert.objects.count() == 1


def test_sos_tells_the_manager_and_security_at_once(channel):
    send(channel, "SOS")
    alarm = Alarm.objects.get()
    assert (alarm.kind, alarm.channel) == (Alarm.Kind.SOS, "sms")
    emails = OutboundEmail.objects.filter(purpose=Purpose.ALERT)
    assert sorted(email.to for email in emails) == [
        "manager@example.org",
        "security@example.org",
    ]
    assert "SOS" in answer_to(CLA_PHONE)


def test_the_duress_word_raises_an_sos_but_answers_like_a_check_in(channel):
    send(channel, "OK")
    normal = answer_to(CLA_PHONE)
    OutboundMessage.objects.all().delete()
    message = send(channel, "mangue")
    alarm = Alarm.objects.get()
    assert alarm.kind == Alarm.Kind.DURESS
    assert answer_to(CLA_PHONE) == normal  # the same words, the same next time
    assert "SOS" not in answer_to(CLA_PHONE)
    urgent = OutboundEmail.objects.filter(purpose=Purpose.ALERT)
    assert sorted(urgent.values_list("to", flat=True)) == [
        "manager@example.org",
        "security@example.org",
    ]
    assert "mangue" not in message.text.lower()  # not on the inbound-SMS page


def test_an_unregistered_cla_phone_number_changes_nothing_of_safety(world, channel):
    profile = world.users["cla"].cla_profile
    profile.phone = ""
    profile.save()
    send(channel, "OK")
    assert not CheckIn.objects.exists()
