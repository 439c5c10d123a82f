"""What the people who raise alerts hear back: a neutral receipt for each SMS alert (at most
one per sender every ten minutes), and word that the mission is responding for contacts who
agreed to it (kiungo.alerts.notify, through kiungo.alerts.intake and kiungo.alerts.response)."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kiungo.alerts import notify, response
from kiungo.alerts.intake import IncomingSMS, log_alert, receive_sms
from kiungo.alerts.models import Alert, AlertEvent, Incident, Response
from kiungo.alerts.response import Actor
from kiungo.lib.crypto import keyed_hash
from kiungo.messaging.models import Channel, InboundMessage, OutboundMessage, Purpose
from kiungo.network.models import Contact

KAVIRA = "+243997654321"
MUHINDO = "+243997654322"
SAFARI = "+243997654323"
UNKNOWN = "+243811111111"
TEXT = "ALERTE Beni attaque hommes armés"
ALERT_WORDS = ["beni", "attaque", "hommes", "armes", "armés", "alerte"]


@pytest.fixture
def channel(world):
    return Channel.objects.create(mission=world.mission, kind="console", name="Gateway")


def make_contact(world, code, phone, *, consents=True, active=True, language=""):
    return Contact.objects.create(
        mission=world.mission,
        code=code,
        name=f"Name of {code}",
        phone=phone,
        home_locality=world.beni,
        consents_to_feedback=consents,
        active=active,
        language=language,
    )


@pytest.fixture
def kavira(world):
    """A key contact who agreed to hear about the response."""
    return make_contact(world, "NK-BEN-001", KAVIRA, language="fr")


_ids = iter(range(10**6))


def send(channel, text=TEXT, sender=KAVIRA):
    message, _created = receive_sms(
        channel, IncomingSMS(sender=sender, text=text, external_id=f"gw-{next(_ids)}")
    )
    message.refresh_from_db()
    return message


def sent(purpose, to=None) -> list[OutboundMessage]:
    found = OutboundMessage.objects.filter(purpose=purpose).order_by("pk")
    return list(found.filter(to_hash=keyed_hash(to)) if to else found)  # `to` is encrypted


def assert_says_nothing_of_the_alert(message: OutboundMessage):
    said = message.text.lower()
    for word in ALERT_WORDS:
        assert word not in said, (word, message.text)


@pytest.fixture
def spoken(monkeypatch):
    """The language chosen each time notify picks one: (preferred, chosen)."""
    choices = []
    real = notify.language_for

    def spy(mission, preferred=""):
        chosen = real(mission, preferred)
        choices.append((preferred, chosen))
        return chosen

    monkeypatch.setattr(notify, "language_for", spy)
    return choices


# The receipt.


def test_an_sms_alert_gets_one_neutral_receipt(world, channel, kavira):
    message = send(channel)
    alert = Alert.objects.get(inbound=message)
    [receipt] = sent(Purpose.RECEIPT)
    assert (receipt.to, receipt.channel) == (KAVIRA, channel)
    assert receipt.incident_id == alert.incident_id
    assert alert.reference in receipt.text
    assert_says_nothing_of_the_alert(receipt)
    assert receipt.recipient_label.endswith("NK-BEN-001")
    assert KAVIRA[4:] not in receipt.recipient_label and "Name of" not in receipt.recipient_label


def test_an_unknown_sender_gets_a_receipt_labelled_by_the_alerts_reference(world, channel):
    message = send(channel, sender=UNKNOWN)
    alert = Alert.objects.get(inbound=message)
    [receipt] = sent(Purpose.RECEIPT)
    assert receipt.to == UNKNOWN
    assert alert.reference in receipt.recipient_label
    assert UNKNOWN[4:] not in receipt.recipient_label
    assert_says_nothing_of_the_alert(receipt)


def test_a_national_number_is_answered_in_e164(world, channel, kavira):
    send(channel, sender="0997654321")
    [receipt] = sent(Purpose.RECEIPT)
    assert receipt.to == KAVIRA


def test_the_receipt_goes_through_the_channel_that_replies(world):
    outgoing = Channel.objects.create(mission=world.mission, kind="console", name="Out")
    incoming = Channel.objects.create(
        mission=world.mission, kind="smssync", name="In", replies_via=outgoing
    )
    send(incoming, sender=UNKNOWN)
    [receipt] = sent(Purpose.RECEIPT)
    assert receipt.channel == outgoing
    # An inactive reply channel is passed over: the answer goes back the way it came.
    Channel.objects.filter(pk=outgoing.pk).update(active=False)
    incoming = Channel.objects.get(pk=incoming.pk)  # as the next request reads it
    send(incoming, sender=MUHINDO)
    assert sent(Purpose.RECEIPT, MUHINDO)[0].channel == incoming


def test_one_receipt_per_sender_every_ten_minutes(world, channel, kavira, time_machine):
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    send(channel)
    time_machine.move_to(start + timedelta(minutes=9, seconds=59), tick=False)
    second = send(channel, text="ALERTE Beni attaque encore")
    assert Alert.objects.filter(inbound=second).exists()  # the alert is taken all the same
    assert len(sent(Purpose.RECEIPT)) == 1
    send(channel, sender=UNKNOWN)  # the quiet period is per sender
    assert len(sent(Purpose.RECEIPT, UNKNOWN)) == 1
    time_machine.move_to(start + timedelta(minutes=10, seconds=1), tick=False)
    third = send(channel, text="ALERTE Beni attaque toujours")
    receipts = sent(Purpose.RECEIPT, KAVIRA)
    assert len(receipts) == 2
    assert Alert.objects.get(inbound=third).reference in receipts[-1].text


def test_no_receipt_for_alerts_logged_on_the_web_or_the_api(world, channel, kavira):
    for source in ["call", "api", "in_person"]:
        log_alert(
            mission=world.mission,
            user=world.users["ewo"],
            text=TEXT,
            source=source,
            contact=kavira,
            area=world.beni,
        )
    assert Alert.objects.count() == 3
    assert not sent(Purpose.RECEIPT)


@pytest.mark.parametrize("sender", ["AIRTEL", "12345", ""])
def test_no_receipt_when_the_sender_is_not_a_number(world, channel, sender):
    message = send(channel, sender=sender)
    assert message.state == InboundMessage.State.PROCESSED
    assert Alert.objects.filter(inbound=message).exists()
    assert not sent(Purpose.RECEIPT)


def test_a_reply_code_gets_an_answer_not_a_receipt(world, channel):
    incident = Alert.objects.get(inbound=send(channel, sender=UNKNOWN)).incident
    OutboundMessage.objects.all().delete()
    send(channel, text=f"OK {incident.reference}", sender="+243991234567")
    assert not sent(Purpose.RECEIPT) and sent(Purpose.REPLY)


# The receipt is part of the alert's transaction.


def test_no_receipt_when_the_alert_cannot_be_saved(world, channel, kavira, monkeypatch):
    def broken(alert):
        raise RuntimeError("grouping failed")

    monkeypatch.setattr("kiungo.alerts.intake.incidents.attach", broken)
    message = send(channel)
    assert message.state == InboundMessage.State.NEEDS_REVIEW
    assert "grouping failed" in message.error
    assert message.text == TEXT  # the SMS is kept for a person
    assert not Alert.objects.exists()
    assert not OutboundMessage.objects.exists()


def test_no_alert_without_its_receipt(world, channel, kavira, monkeypatch):
    real = notify.queue_sms

    def broken(*args, purpose, **kwargs):
        if purpose == Purpose.RECEIPT:
            raise RuntimeError("outbox full")
        return real(*args, purpose=purpose, **kwargs)

    monkeypatch.setattr(notify, "queue_sms", broken)
    message = send(channel)
    assert message.state == InboundMessage.State.NEEDS_REVIEW
    assert not Alert.objects.exists() and not Incident.objects.exists()
    assert not AlertEvent.objects.exists()


# The follow-up.


@pytest.fixture
def sources(world, channel, kavira):
    """One incident in Beni reported by: Kavira (consents, twice), Muhindo (does not consent),
    Safari (consents, no longer active), an unknown number, and an officer on the phone."""
    make_contact(world, "NK-BEN-002", MUHINDO, consents=False)
    make_contact(world, "NK-BEN-003", SAFARI, active=False)
    first = send(channel)
    send(channel, text="ALERTE Beni attaque encore")
    send(channel, sender=MUHINDO)
    send(channel, sender=SAFARI)
    send(channel, sender=UNKNOWN)
    log_alert(
        mission=world.mission,
        user=world.users["ewo"],
        text=TEXT,
        source="call",
        area=world.beni,
        threat="attack",
    )
    incidents = set(Alert.objects.values_list("incident", flat=True))
    assert len(incidents) == 1
    return Alert.objects.get(inbound=first)


def duty(world):
    return Actor(user=world.users["duty"], unit=world.battalion_a)


def test_the_first_response_tells_each_consenting_contact_once(world, sources):
    incident = sources.incident
    response.respond(incident, Response.PATROL_SENT, duty(world))
    [follow_up] = sent(Purpose.FOLLOW_UP)
    assert follow_up.to == KAVIRA
    assert follow_up.channel == sources.inbound.channel
    assert follow_up.incident_id == incident.pk
    assert sources.reference in follow_up.text  # her first alert's reference
    assert_says_nothing_of_the_alert(follow_up)
    assert follow_up.recipient_label.endswith("NK-BEN-001")
    assert KAVIRA[4:] not in follow_up.recipient_label
    [told] = AlertEvent.objects.filter(incident=incident, kind="contacts_told")
    assert told.details == {"contacts": 1}


def test_nobody_is_told_twice(world, sources):
    incident = sources.incident
    response.respond(incident, Response.PATROL_SENT, duty(world))
    response.respond(incident, Response.ARRIVED, duty(world))
    response.respond(incident, Response.REFERRED, duty(world))
    assert len(sent(Purpose.FOLLOW_UP)) == 1
    assert AlertEvent.objects.filter(incident=incident, kind="contacts_told").count() == 1


def test_no_action_tells_nobody_until_a_response_is_decided(world, sources):
    incident = sources.incident
    response.respond(incident, Response.NO_ACTION, duty(world), reason="Too far")
    assert not sent(Purpose.FOLLOW_UP)
    response.respond(incident, Response.PATROL_SENT, duty(world))
    assert len(sent(Purpose.FOLLOW_UP)) == 1


def test_acknowledging_closing_or_dismissing_tells_nobody(world, sources):
    incident = sources.incident
    response.acknowledge(incident, duty(world))
    response.verify(incident, Actor(user=world.users["ewo"]))
    response.close(incident, "deterred", duty(world))
    assert not sent(Purpose.FOLLOW_UP)


def test_unknown_senders_and_officers_hear_nothing_more(world, channel):
    send(channel, sender=UNKNOWN)
    incident = Alert.objects.get().incident
    response.respond(incident, Response.PATROL_SENT, duty(world))
    assert not sent(Purpose.FOLLOW_UP)
    assert not AlertEvent.objects.filter(incident=incident, kind="contacts_told").exists()


def test_a_contact_whose_alert_was_logged_by_an_officer_hears_through_the_notifier(
    world, channel, kavira
):
    alert, _created = log_alert(
        mission=world.mission,
        user=world.users["cla"],
        text=TEXT,
        source="call",
        contact=kavira,
        area=world.beni,
    )
    response.respond(alert.incident, Response.REFERRED, duty(world))
    [follow_up] = sent(Purpose.FOLLOW_UP)
    assert (follow_up.to, follow_up.channel) == (KAVIRA, channel)
    assert alert.reference in follow_up.text


# Language.


@pytest.fixture
def swahili_first(world):
    """A mission whose first language Kiungo does not ship: English is its first shipped."""
    world.mission.languages = ["sw", "en", "fr"]
    world.mission.save()
    return world


@pytest.mark.parametrize(
    ("language", "expected"), [("fr", "fr"), ("en", "en"), ("sw", "en"), ("", "en")]
)
def test_the_receipt_speaks_the_contacts_language_when_shipped(
    swahili_first, channel, spoken, language, expected
):
    world = swahili_first
    make_contact(world, "NK-BEN-009", MUHINDO, language=language)
    message = send(channel, sender=MUHINDO, text="ALERT Beni attack")  # English text
    alert = Alert.objects.get(inbound=message)
    assert alert.language == "en"
    assert spoken[-1] == (language, expected)  # the receipt, after the unit was told
    with translation.override(expected):
        text = _("Kiungo: message received, reference %(reference)s. Thank you.") % {
            "reference": alert.reference
        }
    assert sent(Purpose.RECEIPT)[0].text == text


def test_an_unknown_senders_receipt_speaks_the_language_of_the_alert(
    swahili_first, channel, spoken
):
    send(channel, sender=UNKNOWN, text=TEXT)  # French text
    assert spoken[-1] == ("fr", "fr")


@pytest.mark.parametrize(("language", "expected"), [("fr", "fr"), ("en", "en"), ("sw", "en")])
def test_the_follow_up_speaks_the_contacts_language_when_shipped(
    swahili_first, channel, spoken, language, expected
):
    world = swahili_first
    make_contact(world, "NK-BEN-009", MUHINDO, language=language)
    alert = Alert.objects.get(inbound=send(channel, sender=MUHINDO))
    spoken.clear()
    response.respond(alert.incident, Response.PATROL_SENT, duty(world))
    assert (language, expected) in spoken
    with translation.override(expected):
        text = _(
            "Kiungo: about your message %(reference)s, the mission is responding. Thank you."
        ) % {"reference": alert.reference}
    assert sent(Purpose.FOLLOW_UP)[0].text == text


def test_a_follow_up_does_not_wait_on_a_gateway_closed_since(world, kavira):
    old = Channel.objects.create(mission=world.mission, kind="console", name="Old gateway")
    alert = Alert.objects.get(inbound=send(old))
    Channel.objects.filter(pk=old.pk).update(active=False, notifies=False)
    notifier = Channel.objects.create(
        mission=world.mission, kind="smssync", name="New", notifies=True
    )
    response.respond(alert.incident, Response.PATROL_SENT, duty(world))
    [follow_up] = sent(Purpose.FOLLOW_UP)
    assert (follow_up.to, follow_up.channel) == (KAVIRA, notifier)
