"""Erasure on request: the identity goes (name, numbers, hashes, also in the stored SMS); the
pseudonym, the consent history and the alerts the contact sent stay."""

from django.urls import reverse

from kiungo.alerts.intake import IncomingSMS, receive_sms
from kiungo.alerts.models import Alert
from kiungo.messaging.models import InboundMessage, OutboundMessage
from kiungo.network.models import Contact, ContactPhone, SourceAccess

from .conftest import BENI_NAME, BENI_PHONE, BENI_SECOND


def test_erasure_removes_the_identity_and_keeps_the_alerts(client, world, contacts, channel):
    message, _created = receive_sms(
        channel,
        IncomingSMS(sender=BENI_PHONE, text="Hommes armés vus à Beni ce matin", external_id="e1"),
    )
    alert = Alert.objects.get(inbound=message)
    assert alert.contact == contacts.beni
    assert OutboundMessage.objects.filter(recipient_label__contains="NK-BEN-001").exists()

    client.force_login(world.users["cla"])
    url = reverse("contact-erase", args=[contacts.beni.pk])
    client.post(url, {"confirm_code": "NK-BEN-009"})  # wrong pseudonym: nothing happens
    assert Contact.objects.get(pk=contacts.beni.pk).name == BENI_NAME
    response = client.post(url, {"confirm_code": "nk-ben-001"})
    assert response.status_code == 302

    contact = Contact.objects.get(pk=contacts.beni.pk)
    assert contact.status == Contact.Status.ERASED
    assert (contact.name, contact.phone, contact.phone_hash) == ("", "", "")
    assert not ContactPhone.objects.filter(contact=contact).exists()
    assert not contact.consents_to_contact and not contact.active
    assert contact.code == "NK-BEN-001"
    erasure = SourceAccess.objects.get(action=SourceAccess.Action.ERASE)
    assert (erasure.user, erasure.contact) == (world.users["cla"], contact)
    assert contact.consents.count() == 1  # the history stays (it holds no identity)
    for number in (BENI_PHONE, BENI_SECOND):
        assert not Contact.objects.with_number(world.mission, number).exists()

    alert = Alert.objects.get(pk=alert.pk)  # kept, still attributed to the pseudonym
    assert alert.contact_id == contact.pk and alert.sender_hash == ""
    stored = InboundMessage.objects.get(pk=message.pk)
    assert (stored.sender, stored.sender_hash, stored.raw) == ("", "", "")
    assert (
        not OutboundMessage.objects.exclude(to="")
        .filter(recipient_label__contains="NK-BEN-001")
        .exists()
    )
    assert not OutboundMessage.objects.filter(
        recipient_label__contains="NK-BEN-001", state=OutboundMessage.State.QUEUED
    ).exists()

    client.force_login(world.users["ewo"])
    page = client.get(reverse("alert-detail", args=[alert.reference])).content.decode()
    assert "NK-BEN-001" in page


def test_an_erased_contact_cannot_be_edited_reactivated_or_revealed(client, world, contacts):
    from kiungo.network import contacts as contact_rules

    contact_rules.erase(contacts.beni)
    client.force_login(world.users["cla"])
    assert client.get(reverse("contact-edit", args=[contacts.beni.pk])).status_code == 404
    client.post(reverse("contact-status", args=[contacts.beni.pk]), {"active": "1"})
    assert Contact.objects.get(pk=contacts.beni.pk).status == Contact.Status.ERASED
    page = client.get(reverse("contact-detail", args=[contacts.beni.pk])).content.decode()
    assert "Reveal" not in page
    response = client.post(
        reverse("contact-reveal", args=[contacts.beni.pk]), {"reason": "a good reason here"}
    )
    assert BENI_NAME not in response.content.decode()


def test_a_new_contact_may_take_an_erased_contacts_number(world, contacts):
    from kiungo.network import contacts as contact_rules

    contact_rules.erase(contacts.beni)
    assert contact_rules.duplicate_error(world.mission, [BENI_PHONE], world.users["cla"]) is None
