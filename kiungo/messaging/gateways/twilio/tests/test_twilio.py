"""Twilio: signed webhooks in, REST API out, status callbacks."""

import json

import pytest
import requests
from django.db import OperationalError

from kiungo.alerts.intake import process_received
from kiungo.alerts.models import Alert
from kiungo.messaging.gateways import transport_for
from kiungo.messaging.gateways.base import TransportError
from kiungo.messaging.gateways.testing import (
    assert_number_not_in_clear,
    fake_post,
    fixture,
    form,
    form_dict,
    make_channel,
    outbound,
    response,
    url,
)
from kiungo.messaging.gateways.twilio.transport import sign_twilio
from kiungo.messaging.models import InboundMessage, OutboundMessage

ACCOUNT_SID = "ACa1b2c3d4e5f60718293a4b5c6d7e8f90"
TOKEN = "0123456789abcdef0123456789abcdef"  # not a real token
FORM = "application/x-www-form-urlencoded"
INBOUND = fixture(__file__, "inbound_sms.txt")
SENDER = "+243997000123"


@pytest.fixture
def channel(world):
    return make_channel(
        world.mission, "twilio", "+15005550006", account_sid=ACCOUNT_SID, auth_token=TOKEN
    )


def deliver(client, channel, body=INBOUND, *, token=TOKEN, name="receive", signature=None):
    path = url(channel, name)
    if signature is None:
        signature = sign_twilio(f"http://testserver{path}", form_dict(body), token)
    return client.post(path, body, content_type=FORM, HTTP_X_TWILIO_SIGNATURE=signature)


def test_it_accepts_a_signed_sms(client, channel):
    response = deliver(client, channel)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert b"<Response/>" in response.content
    message = InboundMessage.objects.get()
    assert message.external_id == "SM8f2c3e6a1b7d4c9e0a5f3b2d1c4e6a7b"
    assert message.sender == SENDER
    assert message.text == "ALERTE Beni attaque des hommes armés près du marché"
    process_received()  # the worker understands what the gateway stored
    assert Alert.objects.get().inbound == message
    assert_number_not_in_clear(SENDER)


def test_it_refuses_an_unsigned_or_badly_signed_request(client, channel):
    path = url(channel)
    for body, signature in [
        (INBOUND, ""),  # missing
        (INBOUND, sign_twilio("http://testserver/elsewhere", form_dict(INBOUND), TOKEN)),
        (INBOUND, sign_twilio(f"http://testserver{path}", form_dict(INBOUND), "f" * 32)),
        (  # the body changed after signing
            form(INBOUND, Body="ALERTE Butembo"),
            sign_twilio(f"http://testserver{path}", form_dict(INBOUND), TOKEN),
        ),
    ]:
        response = deliver(client, channel, body, signature=signature)
        assert response.status_code == 403, signature
        assert "X-Twilio-Signature" in response.json()["error"]
    assert not InboundMessage.objects.exists()
    assert not Alert.objects.exists()


def test_it_checks_the_signature_against_the_public_url(client, channel):
    channel.set_config(
        account_sid=ACCOUNT_SID, auth_token=TOKEN, public_url="https://kiungo.example.org"
    )
    channel.save()
    path = url(channel)
    public = sign_twilio(f"https://kiungo.example.org{path}", form_dict(INBOUND), TOKEN)
    assert deliver(client, channel).status_code == 403  # signed for http://testserver
    assert deliver(client, channel, signature=public).status_code == 200


def test_a_redelivery_makes_no_second_alert(client, channel):
    assert deliver(client, channel).status_code == 200
    again = deliver(client, channel)
    assert again.status_code == 200
    assert b"<Response/>" in again.content
    assert InboundMessage.objects.count() == 1
    process_received()  # the worker understands what the gateway stored
    assert Alert.objects.count() == 1


def test_it_keeps_an_unreadable_request_for_review(client, channel):
    response = deliver(client, channel, form(INBOUND, Body=None))
    assert response.status_code == 400
    assert response.json() == {"error": "missing field 'Body'"}
    message = InboundMessage.objects.get()
    assert message.state == InboundMessage.State.NEEDS_REVIEW
    assert "missing field 'Body'" in message.error
    assert "MessageSid=SM8f2c" in message.raw
    assert message.sender == SENDER
    assert not Alert.objects.exists()
    assert_number_not_in_clear(SENDER)


def test_it_answers_503_when_the_database_is_locked(client, channel, monkeypatch):
    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr("kiungo.messaging.views.store_sms", locked)
    response = deliver(client, channel)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"


def test_it_answers_503_when_the_insert_fails(client, channel, monkeypatch):
    def read_only(*args, **kwargs):
        raise OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(InboundMessage, "save", read_only)
    response = deliver(client, channel)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert not Alert.objects.exists()


def test_unknown_inactive_or_mismatched_channels_are_404_and_get_is_405(client, channel):
    channel.active = False
    channel.save()
    assert deliver(client, channel).status_code == 404
    channel.active = True
    channel.kind = "external"
    channel.save()
    path = url(channel).replace("/external/", "/twilio/")
    assert client.post(path, INBOUND, content_type=FORM).status_code == 404
    assert client.post(path.replace("/twilio/", "/nokia/"), {}).status_code == 404
    channel.kind = "twilio"
    channel.save()
    assert client.get(url(channel)).status_code == 405  # gateways POST


# Sending ------------------------------------------------------------------------------------


def test_it_sends_and_returns_the_message_sid(channel, monkeypatch):
    channel.set_config(
        account_sid=ACCOUNT_SID, auth_token=TOKEN, public_url="https://kiungo.example.org/"
    )
    channel.save()
    created = json.loads(fixture(__file__, "send_created.json"))
    post = fake_post(monkeypatch, response(201, created))
    message = outbound(channel)
    assert transport_for(channel).send(message) == "SM5e1d2c3b4a5968778695a4b3c2d1e0f9"
    (call,) = post.calls
    assert call["url"] == f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert call["auth"] == (ACCOUNT_SID, TOKEN)
    assert call["data"] == {
        "To": SENDER,
        "From": "+15005550006",
        "Body": message.text,
        "StatusCallback": f"https://kiungo.example.org/sms/twilio/{channel.uuid}/status",
    }


def test_refused_recipients_and_bad_credentials_are_permanent_failures(channel, monkeypatch):
    for code in [21211, 21614, 21610]:
        error = json.loads(fixture(__file__, "send_error_21211.json")) | {"code": code}
        fake_post(monkeypatch, response(400, error))
        with pytest.raises(TransportError) as failure:
            transport_for(channel).send(outbound(channel))
        assert failure.value.permanent, code
        assert str(code) in failure.value.message
        assert "+2430000" not in failure.value.message  # Twilio's text quotes the number
    fake_post(monkeypatch, response(401, json.loads(fixture(__file__, "send_error_20003.json"))))
    with pytest.raises(TransportError) as failure:
        transport_for(channel).send(outbound(channel))
    assert failure.value.permanent
    assert "credentials" in failure.value.message


def test_overload_outages_and_timeouts_are_transient(channel, monkeypatch):
    for answer in [
        response(429, json.loads(fixture(__file__, "send_error_20429.json"))),
        response(500, text="Internal Server Error"),
        response(503, text="<html>Service Unavailable</html>"),
        requests.ConnectionError("Connection refused"),
        requests.Timeout("read timed out"),
    ]:
        fake_post(monkeypatch, answer)
        with pytest.raises(TransportError) as failure:
            transport_for(channel).send(outbound(channel))
        assert not failure.value.permanent, answer


# Status callbacks --------------------------------------------------------------------------


def test_a_delivery_report_marks_the_message_delivered_for_good(client, channel):
    sent = outbound(channel, state="sent", external_id="SM5e1d2c3b4a5968778695a4b3c2d1e0f9")
    body = fixture(__file__, "status_delivered.txt")
    assert deliver(client, channel, body, name="status").status_code == 200
    sent.refresh_from_db()
    assert sent.state == OutboundMessage.State.DELIVERED
    # Late or out-of-order reports never move it back.
    for late in [form(body, MessageStatus="sent"), fixture(__file__, "status_undelivered.txt")]:
        assert deliver(client, channel, late, name="status").status_code == 200
    sent.refresh_from_db()
    assert sent.state == OutboundMessage.State.DELIVERED


def test_an_undelivered_report_fails_the_message_with_the_reason(client, channel):
    sent = outbound(channel, state="sent", external_id="SM5e1d2c3b4a5968778695a4b3c2d1e0f9")
    body = fixture(__file__, "status_undelivered.txt")
    assert deliver(client, channel, body, name="status").status_code == 200
    sent.refresh_from_db()
    assert sent.state == OutboundMessage.State.FAILED
    assert sent.error == "Twilio undelivered, error 30003: unreachable destination handset"


def test_a_report_about_an_unknown_message_is_acknowledged(client, channel):
    body = fixture(__file__, "status_delivered.txt")
    assert deliver(client, channel, body, name="status").status_code == 200


def test_an_unsigned_report_is_refused(client, channel):
    sent = outbound(channel, state="sent", external_id="SM5e1d2c3b4a5968778695a4b3c2d1e0f9")
    body = fixture(__file__, "status_undelivered.txt")
    assert deliver(client, channel, body, name="status", signature="bad").status_code == 403
    sent.refresh_from_db()
    assert sent.state == OutboundMessage.State.SENT
