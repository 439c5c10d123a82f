"""SMS reply codes from duty phones (kiungo.alerts.replies), through the inbound pipeline."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kiungo.alerts import notify, replies
from kiungo.alerts.incidents import merge_incidents
from kiungo.alerts.intake import IncomingSMS, log_alert, receive_sms
from kiungo.alerts.models import Alert, AlertEvent, Incident, Outcome, Response
from kiungo.alerts.replies import ACKNOWLEDGE, CLOSE, parse
from kiungo.forces.models import DutyPhone
from kiungo.lib.crypto import keyed_hash
from kiungo.messaging.models import Channel, InboundMessage, OutboundMessage, Purpose

OPS_ROOM = "+243991234567"  # indbatt-a's duty phone (kiungo.lib.testing)
BATTALION_PHONE = "+243991111111"
BUNIA_PHONE = "+243992222222"
FORCE_HQ_PHONE = "+243993333333"
STRANGER = "+243997654321"


# Parsing.


@pytest.mark.parametrize(
    ("text", "action", "rest", "language"),
    [
        ("OK K7HQ3M2", ACKNOWLEDGE, "", ""),
        ("ok k7hq3m2", ACKNOWLEDGE, "", ""),
        ("ok K 7HQ3M2", ACKNOWLEDGE, "", ""),
        ("  Ok,  K7HQ3M2 !", ACKNOWLEDGE, "!", ""),
        ("ACK K7HQ3M2", ACKNOWLEDGE, "", "en"),
        ("Reçu k7hq3m2.", ACKNOWLEDGE, "", "fr"),
        ("RECU K7HQ3M2", ACKNOWLEDGE, "", "fr"),
        ("vu K7HQ3M2", ACKNOWLEDGE, "", "fr"),
        ("PATROL K7HQ3M2", Response.PATROL_SENT, "", "en"),
        ("Patrouille K7HQ3M2", Response.PATROL_SENT, "", "fr"),
        ("ARRIVED K7HQ3M2", Response.ARRIVED, "", "en"),
        ("Arrivé K7HQ3M2", Response.ARRIVED, "", "fr"),
        ("SURPLACE K7HQ3M2", Response.ARRIVED, "", "fr"),
        ("REFER K7HQ3M2", Response.REFERRED, "", "en"),
        ("referred K7HQ3M2", Response.REFERRED, "", "en"),
        ("Référé K7HQ3M2", Response.REFERRED, "", "fr"),
        ("TRANSMIS K7HQ3M2 FARDC", Response.REFERRED, "FARDC", "fr"),
        ("NOACTION K7HQ3M2 too far", Response.NO_ACTION, "too far", "en"),
        ("no action KHQ3M27 too far", Response.NO_ACTION, "too far", "en"),
        ("No-Action K7HQ3M2 too far", Response.NO_ACTION, "too far", "en"),
        ("AUCUNE K7HQ3M2 Route coupée", Response.NO_ACTION, "Route coupée", "fr"),
        ("sans-action K7HQ3M2 pont cassé", Response.NO_ACTION, "pont cassé", "fr"),
        ("CLOSE K7HQ3M2 DETERRED all calm", CLOSE, "DETERRED all calm", "en"),
        ("closed K7HQ3M2", CLOSE, "", "en"),
        ("Clos K7HQ3M2 dissuadé", CLOSE, "dissuadé", "fr"),
        ("Clôturé K7HQ3M2 rien", CLOSE, "rien", "fr"),
        ("FIN K7HQ3M2 faux", CLOSE, "faux", "fr"),
    ],
)
def test_each_code_in_english_and_french(text, action, rest, language):
    code = parse(text)
    assert code is not None
    assert (code.action, code.rest, code.language) == (action, rest, language)
    assert code.reference == ("KHQ3M27" if "KHQ3M27" in text else "K7HQ3M2")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ok",
        "OK merci",
        "OK merci beaucoup",
        "attaque à Beni",
        "ALERTE Beni attaque K7HQ3M2",  # the code word must come first
        "OK K7HQ3M",  # too short
        "OK K7HQ3M22",  # too long
        "OK K7HQ3MO",  # O is not in the references' alphabet
        "OK K1HQ3M2",  # nor 1
        "OK 7HQ3M2",  # no K
        "OK A7HQ3M2",  # an alert's reference, not an incident's
        "PATROUILLE vers Beni",
        "Vu des hommes armés à Kasindi",
        "no action",
    ],
)
def test_anything_else_is_an_alert(text):
    assert parse(text) is None


# Through the inbound pipeline.


@pytest.fixture
def channel(world):
    return Channel.objects.create(mission=world.mission, kind="console", name="Gateway")


def levels(mission):
    return {level.code: level for level in mission.alert_levels()}


def report(world, area=None, threat="attack") -> Incident:
    alert, _created = log_alert(
        mission=world.mission,
        user=world.users["ewo"],
        text="Attaque à Beni",
        source="call",
        area=area or world.beni,
        threat=threat,
        level=levels(world.mission)["high"],
    )
    return fresh(alert.incident)


def fresh(incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)


@pytest.fixture
def incident(world, channel):
    return report(world)


_ids = iter(range(10**6))


def send(channel, text, sender=OPS_ROOM, external_id=None):
    """One SMS to the gateway; returns the stored message, re-read."""
    external_id = external_id if external_id is not None else f"gw-{next(_ids)}"
    message, _created = receive_sms(
        channel, IncomingSMS(sender=sender, text=text, external_id=external_id)
    )
    message.refresh_from_db()
    return message


def answers(to=None):
    found = OutboundMessage.objects.filter(purpose=Purpose.REPLY).order_by("pk")
    return list(found.filter(to_hash=keyed_hash(to)) if to else found)  # `to` is encrypted


def answer_to(to) -> str:
    return " ".join(message.text for message in answers(to))


def events(incident, kind):
    return list(AlertEvent.objects.filter(incident=incident, kind=kind).order_by("pk"))


def test_ok_from_the_duty_phone_acknowledges(world, channel, incident):
    message = send(channel, f"OK {incident.reference}")
    assert message.state == InboundMessage.State.PROCESSED
    incident = fresh(incident)
    assert incident.acknowledged_at is not None
    assert incident.acknowledged_by_unit == world.company_beni
    [event] = events(incident, "acknowledged")
    assert (event.channel, event.actor) == ("sms", None)
    assert event.details == {
        "inbound": message.pk,
        "unit": "indbatt-a",
        "phone": "indbatt-a Ops room",
        "late": False,
    }
    stored = json.dumps(event.details)
    assert OPS_ROOM not in stored and OPS_ROOM[4:] not in stored
    assert not Alert.objects.filter(inbound=message).exists()


def test_the_answer_goes_back_to_the_phone(world, channel, incident):
    send(channel, f"OK {incident.reference}")
    [answer] = answers()
    assert (answer.to, answer.channel, answer.incident_id) == (OPS_ROOM, channel, incident.pk)
    assert incident.reference in answer.text
    assert "indbatt-a Ops room" in answer.recipient_label
    assert OPS_ROOM[4:] not in answer.recipient_label
    assert answer.to_hash and answer.state == OutboundMessage.State.QUEUED


def test_the_answer_goes_through_the_channel_that_replies(world, incident):
    outgoing = Channel.objects.create(mission=world.mission, kind="console", name="Out")
    incoming = Channel.objects.create(
        mission=world.mission, kind="smssync", name="In", replies_via=outgoing
    )
    send(incoming, f"OK {incident.reference}")
    assert {answer.channel for answer in answers()} == {outgoing}


def test_a_second_ok_is_answered_but_changes_nothing(channel, incident):
    send(channel, f"OK {incident.reference}")
    acknowledged = fresh(incident).acknowledged_at
    send(channel, f"Reçu {incident.reference}")
    assert fresh(incident).acknowledged_at == acknowledged
    assert len(events(incident, "acknowledged")) == 1
    assert len(answers(OPS_ROOM)) == 2


@pytest.mark.parametrize(
    ("code", "expected", "reason"),
    [
        ("PATROL {ref}", Response.PATROL_SENT, None),
        ("Patrouille {ref}", Response.PATROL_SENT, None),
        ("ARRIVED {ref}", Response.ARRIVED, None),
        ("Arrivé {ref}", Response.ARRIVED, None),
        ("SURPLACE {ref}", Response.ARRIVED, None),
        ("REFER {ref}", Response.REFERRED, None),
        ("Transmis {ref}", Response.REFERRED, None),
        ("NOACTION {ref} too far", Response.NO_ACTION, "too far"),
        ("no action {ref} river in flood", Response.NO_ACTION, "river in flood"),
        ("AUCUNE {ref} route coupée", Response.NO_ACTION, "route coupée"),
    ],
)
def test_each_response_code(world, channel, incident, code, expected, reason):
    message = send(channel, code.format(ref=incident.reference))
    assert message.state == InboundMessage.State.PROCESSED
    incident = fresh(incident)
    assert incident.response == expected
    assert incident.responded_at is not None
    assert incident.acknowledged_at == incident.responded_at  # the response acknowledges
    assert incident.next_escalation_at is None
    [event] = events(incident, "responded")
    assert event.channel == "sms"
    assert event.details["response"] == expected.value
    assert event.details["inbound"] == message.pk
    assert event.details.get("reason") == reason
    assert incident.reference in answer_to(OPS_ROOM)


@pytest.mark.parametrize(
    ("code", "outcome", "note"),
    [
        ("CLOSE {ref} DETERRED all calm now", Outcome.DETERRED, "all calm now"),
        ("close {ref} clash", Outcome.CLASHED, None),
        ("CLOSE {ref} referred", Outcome.REFERRED, None),
        ("CLOSE {ref} nothing", Outcome.NOTHING_FOUND, None),
        ("Closed {ref} false.", Outcome.FALSE_ALARM, None),
        ("CLOSE {ref} LATE", Outcome.TOO_LATE, None),
        ("CLOSE {ref} other", Outcome.OTHER, None),
        ("Clos {ref} dissuadé", Outcome.DETERRED, None),
        ("CLOS {ref} accrochage", Outcome.CLASHED, None),
        ("FIN {ref} référé FARDC", Outcome.REFERRED, "FARDC"),
        ("Fin {ref} rien", Outcome.NOTHING_FOUND, None),
        ("fin {ref} fausse alerte", Outcome.FALSE_ALARM, "alerte"),
        ("Clôture {ref} tard", Outcome.TOO_LATE, None),
        ("FIN {ref} autre", Outcome.OTHER, None),
    ],
)
def test_each_close_code(channel, incident, code, outcome, note):
    send(channel, code.format(ref=incident.reference))
    incident = fresh(incident)
    assert (incident.status, incident.outcome) == (Incident.Status.CLOSED, outcome)
    assert incident.closed_at is not None and incident.next_escalation_at is None
    [event] = events(incident, "closed")
    assert event.channel == "sms"
    assert event.details["outcome"] == outcome.value
    assert event.details.get("note") == note
    assert incident.reference in answer_to(OPS_ROOM)


@pytest.mark.parametrize(
    ("code", "how_to"),
    [
        ("NOACTION {ref}", "NOACTION {ref}"),
        ("Aucune {ref}", "AUCUNE {ref}"),  # a French code word: answered in French
        ("no action {ref}", "NOACTION {ref}"),
    ],
)
def test_no_action_without_a_reason_is_answered_with_how_to(channel, incident, code, how_to):
    message = send(channel, code.format(ref=incident.reference))
    assert message.state == InboundMessage.State.PROCESSED
    incident = fresh(incident)
    assert (incident.response, incident.responded_at, incident.acknowledged_at) == ("", None, None)
    assert not events(incident, "responded")
    text = answer_to(OPS_ROOM)
    assert how_to.format(ref=incident.reference) in text


@pytest.mark.parametrize(
    ("code", "how_to"),
    [
        ("CLOSE {ref}", "CLOSE {ref} DETERRED"),
        ("CLOSE {ref} finished", "CLOSE {ref} DETERRED"),
        ("Fin {ref} ?", "CLOS {ref} DISSUADE"),
    ],
)
def test_close_without_a_known_outcome_is_answered_with_how_to(channel, incident, code, how_to):
    send(channel, code.format(ref=incident.reference))
    incident = fresh(incident)
    assert incident.status == Incident.Status.OPEN and incident.outcome == ""
    assert not events(incident, "closed")
    assert how_to.format(ref=incident.reference) in answer_to(OPS_ROOM)


def test_a_code_for_a_closed_incident_is_answered_and_changes_nothing(channel, incident):
    send(channel, f"CLOSE {incident.reference} nothing")
    send(channel, f"PATROL {incident.reference}")
    incident = fresh(incident)
    assert incident.response == "" and incident.status == Incident.Status.CLOSED
    last = answers(OPS_ROOM)[-1].text
    assert incident.reference in last and "closed" in last


def _nothing_happened(incident):
    incident = fresh(incident)
    assert incident.acknowledged_at is None and incident.response == ""
    assert incident.status == Incident.Status.OPEN
    assert not AlertEvent.objects.filter(incident=incident).exclude(kind="routed").exists()


def test_a_code_from_an_unregistered_phone_is_refused_neutrally(world, channel, incident):
    alerts = Alert.objects.count()
    message = send(channel, f"OK {incident.reference}", sender=STRANGER)
    assert message.state == InboundMessage.State.REFUSED
    assert message.error
    _nothing_happened(incident)
    assert Alert.objects.count() == alerts  # not an alert either
    [answer] = answers()
    assert answer.to == STRANGER and answer.incident_id is None
    said = answer.text.lower()
    for secret in [incident.reference.lower(), "beni", "attack", "attaque", "indbatt"]:
        assert secret not in said
    assert STRANGER[4:] not in answer.recipient_label


def test_a_code_from_an_inactive_duty_phone_is_refused(channel, incident):
    DutyPhone.objects.filter(number=OPS_ROOM).update(active=False)
    message = send(channel, f"OK {incident.reference}")
    assert message.state == InboundMessage.State.REFUSED
    _nothing_happened(incident)


def test_a_code_from_a_name_instead_of_a_number_is_refused_unanswered(channel, incident):
    message = send(channel, f"OK {incident.reference}", sender="AIRTEL")
    assert message.state == InboundMessage.State.REFUSED
    _nothing_happened(incident)
    assert not answers()


def test_a_phone_outside_the_incidents_chain_is_refused(world, channel, incident):
    DutyPhone.objects.create(unit=world.company_bunia, number=BUNIA_PHONE, label="Ops")
    message = send(channel, f"OK {incident.reference}", sender=BUNIA_PHONE)
    assert message.state == InboundMessage.State.REFUSED
    _nothing_happened(incident)
    text = answer_to(BUNIA_PHONE).lower()
    assert "beni" not in text and "attack" not in text and "attaque" not in text


def test_a_sister_companys_phone_is_refused(world, channel, incident):
    DutyPhone.objects.create(unit=world.company_butembo, number=BUNIA_PHONE, label="Ops")
    assert send(channel, f"OK {incident.reference}", sender=BUNIA_PHONE).state == "refused"
    _nothing_happened(incident)


def test_an_unknown_reference_is_refused(channel, incident):
    message = send(channel, "OK K222222")
    assert message.state == InboundMessage.State.REFUSED
    _nothing_happened(incident)


def test_a_superior_units_phone_may_answer(world, channel, incident):
    DutyPhone.objects.create(unit=world.battalion_a, number=BATTALION_PHONE, label="Bn ops")
    message = send(channel, f"OK {incident.reference}", sender=BATTALION_PHONE)
    assert message.state == InboundMessage.State.PROCESSED
    incident = fresh(incident)
    assert incident.acknowledged_by_unit == world.battalion_a
    [event] = events(incident, "acknowledged")
    assert (event.details["unit"], event.details["phone"]) == ("indbatt", "indbatt Bn ops")
    assert answer_to(BATTALION_PHONE)


def test_force_hq_may_take_an_incident_no_unit_holds(world, channel):
    # Escalation asks force HQ to "reply OK to take charge" of an unrouted incident.
    DutyPhone.objects.create(unit=world.force_hq, number=FORCE_HQ_PHONE, label="JOC")
    incident = report(world, area=world.north_kivu)
    assert incident.unit_id is None
    message = send(channel, f"OK {incident.reference}", sender=FORCE_HQ_PHONE)
    assert message.state == InboundMessage.State.PROCESSED
    incident = fresh(incident)
    assert incident.acknowledged_by_unit == world.force_hq
    # Any other phone still may not.
    other = report(world, area=world.north_kivu, threat="looting")
    assert send(channel, f"OK {other.reference}").state == InboundMessage.State.REFUSED


def test_a_redelivered_code_is_applied_once(channel, incident):
    first = send(channel, f"PATROL {incident.reference}", external_id="dup-1")
    again = send(channel, f"PATROL {incident.reference}", external_id="dup-1")
    assert first.pk == again.pk
    assert InboundMessage.objects.count() == 1
    assert len(events(incident, "responded")) == 1
    assert len(answers()) == 1


def test_a_code_for_a_merged_incident_applies_to_the_one_it_went_into(world, channel):
    merged = report(world, threat="attack")
    target = report(world, threat="looting")
    merge_incidents(target, [merged], world.users["ewo"])
    send(channel, f"PATROL {merged.reference}")
    target, merged = fresh(target), fresh(merged)
    assert target.response == Response.PATROL_SENT
    assert merged.response == "" and merged.status == Incident.Status.MERGED
    [event] = events(target, "responded")
    assert event.channel == "sms"
    [answer] = answers()
    assert answer.incident_id == target.pk and target.reference in answer.text


def test_a_failure_while_applying_keeps_the_message_for_a_person(channel, incident, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("kiungo.alerts.response.escalation.reschedule", broken)
    message = send(channel, f"OK {incident.reference}")
    assert message.state == InboundMessage.State.NEEDS_REVIEW
    assert "disk on fire" in message.error
    _nothing_happened(incident)
    assert not answers()  # the answer went with the rolled-back change


# Language of the answers.


@pytest.fixture
def spoken(monkeypatch):
    """The language active when each answer is queued."""
    languages = []
    real = notify.reply

    def spy(*args, **kwargs):
        languages.append(translation.get_language())
        return real(*args, **kwargs)

    monkeypatch.setattr(replies.notify, "reply", spy)
    return languages


def test_language_selection(world):
    assert world.mission.languages == ["fr", "en", "sw"]
    assert notify.language_for(world.mission, "fr") == "fr"
    assert notify.language_for(world.mission, "en") == "en"
    assert notify.language_for(world.mission, "") == "fr"  # the mission's first
    assert notify.language_for(world.mission, "sw") == "fr"  # not shipped: the mission's
    assert notify.language_for(world.other_mission, "") == "en"


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("Reçu {ref}", "fr"),
        ("Patrouille {ref}", "fr"),
        ("ACK {ref}", "en"),
        ("PATROL {ref}", "en"),
        ("OK {ref}", "fr"),  # both languages: the mission's first
    ],
)
def test_the_answer_is_in_the_language_of_the_code_word(channel, incident, spoken, code, language):
    with translation.override("en"):
        send(channel, code.format(ref=incident.reference))
    assert spoken == [language]


def test_a_french_acknowledgement_reads_french_when_translated(channel, incident):
    with translation.override("en"):
        send(channel, f"Reçu {incident.reference}")
    incident = fresh(incident)
    names = {
        "reference": incident.reference,
        "respond": notify.local_time(incident.mission, incident.respond_due_at),
    }
    msgid = (
        "Kiungo %(reference)s: acknowledged. Decide by %(respond)s: PATROL, REFER or "
        "NOACTION %(reference)s <reason>."
    )
    with translation.override("fr"):
        expected = _(msgid) % names
    # Equal to the English text until the French catalogue has the string; French after.
    assert answer_to(OPS_ROOM) == expected


def test_the_neutral_refusal_follows_the_code_word_too(channel, incident, spoken):
    send(channel, f"ACK {incident.reference}", sender=STRANGER)
    send(channel, f"Vu {incident.reference}", sender=STRANGER)
    assert spoken == ["en", "fr"]


def test_a_late_sms_acknowledgement_is_marked_late(channel, incident, time_machine):
    time_machine.move_to(incident.acknowledge_due_at + timedelta(minutes=5), tick=False)
    send(channel, f"OK {incident.reference}")
    [event] = events(incident, "acknowledged")
    assert event.details["late"] is True
    assert fresh(incident).acknowledged_at == timezone.now()


@pytest.mark.parametrize(
    "text",
    [
        "Arrivé Kasenye des hommes armés",  # Kasenye, Ituri: reads like ARRIVE K + 6
        "OK K222222",  # a well-formed reference to no incident
    ],
)
def test_a_strangers_text_that_only_looks_like_a_code_is_an_alert(world, channel, text):
    assert parse(text) is not None
    message = send(channel, text, sender=STRANGER)
    assert message.state == InboundMessage.State.PROCESSED
    alert = Alert.objects.get(inbound=message)
    assert alert.text == text
    assert not answers() and OutboundMessage.objects.filter(purpose=Purpose.RECEIPT).exists()


def test_a_duty_phone_mistyping_a_reference_is_told_so(channel, incident):
    message = send(channel, "OK K222222")
    assert message.state == InboundMessage.State.REFUSED
    assert not Alert.objects.filter(inbound=message).exists()
    assert "K222222" in answer_to(OPS_ROOM)
