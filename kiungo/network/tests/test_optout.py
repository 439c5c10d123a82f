"""Opting out by SMS: STOP / ARRET / ARRÊT from a contact's number; START / REPRISE."""

import pytest

from kiungo.alerts.intake import IncomingSMS, receive_sms
from kiungo.alerts.models import Alert
from kiungo.lib.crypto import keyed_hash
from kiungo.messaging.models import InboundMessage, OutboundMessage
from kiungo.network.models import ConsentRecord, Contact

from .conftest import BENI_PHONE, BENI_SECOND

_ids = iter(range(10**6))


def send(channel, text, sender):
    message, _created = receive_sms(
        channel, IncomingSMS(sender=sender, text=text, external_id=f"o-{next(_ids)}")
    )
    message.refresh_from_db()
    return message


def answer(number) -> str:
    return " ".join(
        m.text for m in OutboundMessage.objects.filter(to_hash=keyed_hash(number)).order_by("pk")
    )


@pytest.mark.parametrize("word", ["STOP", "stop", "Arret", "ARRÊT", "arrêt."])
def test_stop_opts_the_contact_out(world, contacts, channel, word):
    message = send(channel, word, BENI_SECOND)  # a secondary number works too
    contact = Contact.objects.get(pk=contacts.beni.pk)
    assert contact.opted_out_at is not None
    assert not contact.consents_to_contact and not contact.consents_to_feedback
    assert not contact.reachable
    record = contact.consents.first()
    assert record.method == ConsentRecord.Method.SMS and record.recorded_by is None
    assert message.state == InboundMessage.State.PROCESSED
    assert not Alert.objects.exists()
    assert "vous ne recevrez plus nos messages" in answer(BENI_SECOND)  # the contact's French


def test_the_confirmation_is_in_the_contacts_language(world, contacts, channel):
    contacts.beni.language = "en"
    contacts.beni.save()
    send(channel, "STOP", BENI_PHONE)
    assert "you will no longer receive our messages" in answer(BENI_PHONE)


def test_start_opts_back_in_without_feedback(world, contacts, channel):
    send(channel, "ARRET", BENI_PHONE)
    send(channel, "REPRISE", BENI_PHONE)
    contact = Contact.objects.get(pk=contacts.beni.pk)
    assert contact.opted_out_at is None and contact.consents_to_contact
    assert not contact.consents_to_feedback  # a CLA records it again in person
    assert contact.reachable
    assert contact.consents.count() == 3


def test_stop_from_an_unknown_number_is_an_alert(world, contacts, channel):
    send(channel, "STOP", "+243970009999")
    assert Alert.objects.count() == 1


def test_a_sentence_starting_with_stop_is_an_alert(world, contacts, channel):
    send(channel, "Stop les tirs à Beni", BENI_PHONE)
    assert Alert.objects.count() == 1
    assert Contact.objects.get(pk=contacts.beni.pk).opted_out_at is None
