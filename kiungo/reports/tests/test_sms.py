"""The daily report by SMS: RAS / NTR and RAP / REP <text>, from the CLA's registered phone."""

import logging
from datetime import date, timedelta

import pytest

from kiungo.alerts.intake import IncomingSMS, receive_sms
from kiungo.alerts.models import Alert
from kiungo.lib.crypto import keyed_hash
from kiungo.messaging.models import Channel, InboundMessage, OutboundMessage, Purpose
from kiungo.network.models import Contact
from kiungo.reports import writing
from kiungo.reports.models import Kind, Report, Source, Status
from kiungo.reports.sms import HELP, NOTHING, REPORT, parse

pytestmark = pytest.mark.django_db

CLA_PHONE = "+243970000001"
STRANGER = "+243997654321"
CONTACT_PHONE = "+243971111111"
TODAY = date(2025, 3, 12)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("RAS", (NOTHING, "", "fr")),
        ("ras.", (NOTHING, "", "fr")),
        ("R.A.S", (NOTHING, "", "fr")),
        (" NTR ", (NOTHING, "", "en")),
        ("RAP Calme a Beni", (REPORT, "Calme a Beni", "fr")),
        ("Rap: calme", (REPORT, "calme", "fr")),
        ("REP quiet day", (REPORT, "quiet day", "en")),
        ("RAP", (HELP, "", "fr")),
    ],
)
def test_codes(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Rapt de 3 enfants a Mavivi",  # an alert, not RAP
        "RAS sauf des tirs la nuit",  # RAS stands alone; with more it is an alert
        "Reporting armed men near Oicha",
        "RAPPORT attaque",
        "Attaque RAS",
    ],
)
def test_anything_else_is_not_a_report_code(text):
    assert parse(text) is None


@pytest.fixture
def channel(world):
    return Channel.objects.create(mission=world.mission, kind="console", name="Gateway")


@pytest.fixture
def registered(cla):
    cla.phone = CLA_PHONE
    cla.save()
    return cla


_ids = iter(range(10**6))


def send(channel, text, sender=CLA_PHONE):
    message, _created = receive_sms(
        channel, IncomingSMS(sender=sender, text=text, external_id=f"gw-{next(_ids)}")
    )
    message.refresh_from_db()
    return message


def answers(to):
    return list(
        OutboundMessage.objects.filter(to_hash=keyed_hash(to), purpose=Purpose.REPORT).order_by(
            "pk"
        )
    )


def todays(cla):
    return Report.objects.get(cla=cla, kind=Kind.DAILY, period_start=TODAY)


def test_ras_submits_today_nothing_to_report_and_answers_in_french(
    world, channel, registered, frozen
):
    message = send(channel, "RAS")
    assert message.state == InboundMessage.State.PROCESSED
    report = todays(registered)
    assert (report.status, report.nothing_to_report, report.source) == (
        Status.SUBMITTED,
        True,
        Source.SMS,
    )
    [version] = report.versions.all()
    assert version.source == Source.SMS and version.submitted_by == registered.user
    [answer] = answers(CLA_PHONE)
    assert answer.text == "Kiungo: rapport du 12/03 recu (rien à signaler). Merci."
    assert not Alert.objects.exists()


def test_rap_submits_the_text_and_answers_in_english_to_an_english_speaker(
    world, channel, registered, frozen
):
    registered.languages = ["sw", "en"]
    registered.save()
    send(channel, "REP Calm. Market open, 2 FARDC patrols.")
    report = todays(registered)
    assert report.status == Status.SUBMITTED and not report.nothing_to_report
    assert report.sections["security"] == "Calm. Market open, 2 FARDC patrols."
    [answer] = answers(CLA_PHONE)
    assert answer.text == "Kiungo: report for 12/03 received. Thank you."


def test_a_second_ras_changes_nothing(world, channel, registered, frozen):
    send(channel, "RAS")
    frozen.shift(timedelta(minutes=5))
    message = send(channel, "ras")
    assert message.state == InboundMessage.State.PROCESSED
    report = todays(registered)
    assert report.versions.count() == 1 and Report.objects.count() == 1
    assert "déjà envoyé" in answers(CLA_PHONE)[-1].text


def test_a_second_rap_is_appended_as_a_revision(world, channel, registered, frozen):
    send(channel, "RAP Calme.")
    writing.review(todays(registered), user=world.users["manager"], accept=True)
    frozen.shift(timedelta(hours=2))
    send(channel, "RAP Tirs entendus vers 14 h.")
    report = todays(registered)
    assert report.sections["security"] == "Calme.\n\nTirs entendus vers 14 h."
    assert report.status == Status.SUBMITTED  # back to the manager
    assert [v.number for v in report.versions.all()] == [1, 2]
    assert report.versions.get(number=1).content["sections"]["security"] == "Calme."
    assert Report.objects.count() == 1
    assert "version 2" in answers(CLA_PHONE)[-1].text


def test_rap_completes_a_web_draft(world, channel, registered, frozen):
    draft = writing.start_report(cla=registered, kind=Kind.DAILY)
    writing.save_draft(draft, writing.Changes(sections={"perceptions": "Inquiétude."}))
    send(channel, "RAP Calme.")
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED
    assert draft.sections == {"perceptions": "Inquiétude.", "security": "Calme."}


def test_rap_alone_from_the_cla_is_answered_with_how_to(world, channel, registered, frozen):
    send(channel, "RAP")
    assert not Report.objects.exists()
    assert "RAP" in answers(CLA_PHONE)[0].text


def test_an_unregistered_phone_is_refused_neutrally_and_logged_without_its_number(
    world, channel, registered, frozen, caplog
):
    with caplog.at_level(logging.INFO):
        message = send(channel, "RAS", sender=STRANGER)
    assert message.state == InboundMessage.State.REFUSED
    assert "registered" in message.error
    assert not Report.objects.exists() and not Alert.objects.exists()
    [answer] = answers(STRANGER)
    assert answer.text == "Kiungo: ce téléphone ne peut pas envoyer de rapports."
    assert STRANGER not in caplog.text and STRANGER[4:] not in caplog.text
    assert "refused" in caplog.text


def test_a_key_contacts_message_stays_an_alert(world, channel, registered, frozen):
    Contact.objects.create(mission=world.mission, code="NK-BEN-001", phone=CONTACT_PHONE)
    message = send(channel, "RAP hommes armés à Mavivi", sender=CONTACT_PHONE)
    assert message.state == InboundMessage.State.PROCESSED
    assert Alert.objects.filter(inbound=message).exists()
    assert not Report.objects.exists()


def test_an_alert_that_starts_like_a_code_is_an_alert(world, channel, frozen):
    message = send(channel, "Rapt de deux enfants à Mavivi", sender=STRANGER)
    assert Alert.objects.filter(inbound=message).exists()


def test_an_inactive_clas_phone_is_refused(world, channel, registered, frozen):
    registered.user.is_active = False
    registered.user.save()
    message = send(channel, "RAS")
    assert message.state == InboundMessage.State.REFUSED
    assert not Report.objects.exists()
