"""Broadcast SMS: only to active, consented contacts who have not opted out, each in their
language, after a confirmation showing the count; sent once however often it is confirmed."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kiungo.alerts.intake import IncomingSMS, receive_sms
from kiungo.lib.crypto import keyed_hash
from kiungo.lib.testing import check_matrix
from kiungo.messaging.models import OutboundMessage, Purpose
from kiungo.network import broadcasts
from kiungo.network import contacts as contact_rules
from kiungo.network.models import Broadcast, BroadcastTemplate

from .conftest import BENI_PHONE, BENI_SECOND, BUNIA_PHONE, make_contact

TEXTS = {
    "fr": "Réunion de sécurité samedi au marché de Beni.",
    "sw": "Mkutano wa usalama Jumamosi sokoni Beni.",
    "en": "Security meeting on Saturday at Beni market.",
}


@pytest.fixture
def template(world):
    return BroadcastTemplate.objects.create(mission=world.mission, name="Meeting", texts=TEXTS)


def sent_to(number):
    return OutboundMessage.objects.filter(to_hash=keyed_hash(number), purpose=Purpose.BROADCAST)


def test_only_consented_contacts_in_the_area_receive_it(world, contacts, template, channel):
    swahili = make_contact(world, "NK-BEN-004", world.beni, "+243970001004", language="sw")
    broadcast = broadcasts.prepare(template, world.north_kivu, ["fr", "sw"], world.users["manager"])
    # NK-BEN-001 (fr), NK-BEN-002 (fr), NK-BEN-004 (sw); not NK-BEN-003 (no consent), not
    # IT-BUN-001 (Ituri)
    assert broadcast.expected == 3
    assert broadcasts.send(broadcast) == 3
    assert sent_to(BENI_PHONE).get().text == TEXTS["fr"]  # é is GSM-7
    assert sent_to("+243970001004").get().text == TEXTS["sw"]
    assert not sent_to(BENI_SECOND).exists()  # one SMS per contact, to the main number
    assert not sent_to("+243970001003").exists()
    assert not sent_to(BUNIA_PHONE).exists()
    recipients = {r.contact.code: r.language for r in broadcast.recipients.all()}
    assert recipients == {"NK-BEN-001": "fr", "NK-BEN-002": "fr", "NK-BEN-004": "sw"}
    assert swahili.pk in broadcast.recipients.values_list("contact", flat=True)


def test_a_contact_who_did_not_consent_is_never_a_recipient(world, contacts, template, channel):
    broadcast = broadcasts.prepare(template, world.beni, ["sw"], world.users["administrator"])
    assert broadcast.expected == 0  # NK-BEN-003 speaks Swahili but never agreed
    assert broadcasts.send(broadcast) == 0
    assert not OutboundMessage.objects.filter(purpose=Purpose.BROADCAST).exists()


def test_only_the_chosen_languages(world, contacts, template, channel):
    broadcast = broadcasts.prepare(template, world.beni, ["en"], world.users["manager"])
    assert broadcast.expected == 0


def test_stop_by_sms_then_the_broadcast_skips_them(world, contacts, template, channel):
    broadcast = broadcasts.prepare(template, world.beni, ["fr"], world.users["manager"])
    assert broadcast.expected == 2
    receive_sms(channel, IncomingSMS(sender=BENI_SECOND, text="STOP", external_id="s1"))
    assert broadcasts.send(broadcast) == 1
    assert not sent_to(BENI_PHONE).exists()
    assert sent_to("+243970001002").exists()


def test_inactive_and_erased_contacts_are_skipped(world, contacts, template, channel):
    contact_rules.set_active(contacts.beni, False)
    contact_rules.erase(contacts.beni_unmanaged)
    broadcast = broadcasts.prepare(template, world.beni, ["fr", "sw"], world.users["manager"])
    assert broadcast.expected == 0


def test_sending_twice_sends_once(world, contacts, template, channel):
    broadcast = broadcasts.prepare(template, world.beni, ["fr"], world.users["manager"])
    assert broadcasts.send(broadcast) == 2
    assert broadcasts.send(broadcast) is None
    assert OutboundMessage.objects.filter(purpose=Purpose.BROADCAST).count() == 2
    assert Broadcast.objects.get(pk=broadcast.pk).state == Broadcast.State.SENT


def test_a_template_without_the_language_is_refused(world, contacts, channel):
    template = BroadcastTemplate.objects.create(
        mission=world.mission, name="French only", texts={"fr": "Bonjour"}
    )
    with pytest.raises(ValidationError):
        broadcasts.prepare(template, world.beni, ["sw"], world.users["manager"])


def test_without_a_channel_nothing_is_sent(world, contacts, template):
    broadcast = broadcasts.prepare(template, world.beni, ["fr"], world.users["manager"])
    with pytest.raises(ValidationError):
        broadcasts.send(broadcast)
    assert Broadcast.objects.get(pk=broadcast.pk).state == Broadcast.State.PREPARED


def test_the_pages_confirm_the_count_then_send_once(client, world, contacts, template, channel):
    client.force_login(world.users["manager"])
    response = client.post(
        reverse("broadcast-new"),
        {"template": template.pk, "area": world.beni.pk, "languages": ["fr", "sw"]},
    )
    broadcast = Broadcast.objects.get()
    assert response["Location"] == reverse("broadcast-detail", args=[broadcast.pk])
    page = client.get(response["Location"]).content.decode()
    assert "It will go to 2 contacts." in page
    assert "NK-BEN-001" not in page and not OutboundMessage.objects.exists()
    url = reverse("broadcast-send", args=[broadcast.pk])
    client.post(url, {"action": "send"})
    client.post(url, {"action": "send"})  # a double click
    assert OutboundMessage.objects.filter(purpose=Purpose.BROADCAST).count() == 2
    page = client.get(reverse("broadcast-detail", args=[broadcast.pk])).content.decode()
    assert "2 recipients" in page and "Queued" in page
    delivery = broadcasts.delivery(broadcast)
    assert dict(delivery["by_state"])["Queued"] == 2
    OutboundMessage.objects.filter(purpose=Purpose.BROADCAST).update(
        state=OutboundMessage.State.DELIVERED
    )
    assert dict(broadcasts.delivery(broadcast)["by_state"])["Delivered"] == 2


def test_a_cancelled_broadcast_cannot_be_sent(client, world, contacts, template, channel):
    broadcast = broadcasts.prepare(template, world.beni, ["fr"], world.users["manager"])
    client.force_login(world.users["manager"])
    client.post(reverse("broadcast-send", args=[broadcast.pk]), {"action": "cancel"})
    client.post(reverse("broadcast-send", args=[broadcast.pk]), {"action": "send"})
    assert not OutboundMessage.objects.exists()


def test_the_form_refuses_a_missing_language(client, world, contacts, channel):
    template = BroadcastTemplate.objects.create(
        mission=world.mission, name="French only", texts={"fr": "Bonjour"}
    )
    client.force_login(world.users["manager"])
    response = client.post(
        reverse("broadcast-new"),
        {"template": template.pk, "area": world.beni.pk, "languages": ["sw"]},
    )
    assert "The template has no text in: sw." in response.content.decode()
    assert not Broadcast.objects.exists()


SENDERS = {"administrator", "manager"}


@pytest.mark.parametrize("name", ["broadcast-list", "broadcast-new"])
def test_permission_matrix_of_the_pages(client, world, name):
    check_matrix(client, world, reverse(name), SENDERS)


def test_permission_matrix_of_a_broadcast(client, world, contacts, template, channel):
    broadcast = broadcasts.prepare(template, world.beni, ["fr"], world.users["administrator"])
    check_matrix(client, world, reverse("broadcast-detail", args=[broadcast.pk]), SENDERS)
    ituri = broadcasts.prepare(template, world.bunia, ["fr"], world.users["administrator"])
    check_matrix(client, world, reverse("broadcast-detail", args=[ituri.pk]), {"administrator"})
    for name in world.users:
        if name in SENDERS:
            continue
        client.force_login(world.users[name])
        response = client.post(reverse("broadcast-send", args=[broadcast.pk]), {"action": "send"})
        assert response.status_code in (403, 404), name
    assert not OutboundMessage.objects.exists()


def test_the_confirmation_in_french(client, world, contacts, template, channel):
    broadcast = broadcasts.prepare(template, world.beni, ["fr"], world.users["manager"])
    client.force_login(world.users["manager"])
    client.cookies["kiungo_language"] = "fr"
    page = client.get(reverse("broadcast-detail", args=[broadcast.pk])).content.decode()
    assert "Elle ira à 2 points focaux." in page


def test_preparing_twice_gives_one_broadcast_to_confirm(world, contacts, template, channel):
    first = broadcasts.prepare(template, world.beni, ["sw", "fr"], world.users["manager"])
    again = broadcasts.prepare(template, world.beni, ["fr", "sw"], world.users["manager"])
    assert again.pk == first.pk and Broadcast.objects.count() == 1
    other = broadcasts.prepare(template, world.beni, ["fr"], world.users["manager"])
    assert other.pk != first.pk
