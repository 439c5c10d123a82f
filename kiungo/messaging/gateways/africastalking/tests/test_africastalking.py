"""Africa's Talking: unsigned callbacks (secret URL, optional IP allow-list), bulk SMS API."""

import json
from datetime import UTC, datetime

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
    make_channel,
    outbound,
    response,
    url,
)
from kiungo.messaging.models import InboundMessage, OutboundMessage

FORM = "application/x-www-form-urlencoded"
INBOUND = fixture(__file__, "inbound_sms.txt")
SENDER = "+243997000123"
AT_ID = "ATXid_5b1f7c2e9d3a4f6081c2e3d4b5a69780"


@pytest.fixture
def channel(world):
    return make_channel(world.mission, "africastalking", "21525", username="kiungo", api_key="k")


def deliver(client, channel, body=INBOUND, name="receive", address="127.0.0.1"):
    return client.post(url(channel, name), body, content_type=FORM, REMOTE_ADDR=address)


def test_it_accepts_an_sms(client, channel):
    response = deliver(client, channel)
    assert response.status_code == 200
    assert response.content == b"OK"
    message = InboundMessage.objects.get()
    assert message.external_id == "6c0f2f0e-8b1d-4a57-9e3c-2b7d9a1f4e68"
    assert message.sender == SENDER
    assert message.text == "ALERTE Beni enlèvement de deux femmes aux champs"
    assert message.sent_at == datetime(2025, 11, 25, 9, 41, 7, tzinfo=UTC)
    process_received()  # the worker understands what the gateway stored
    assert Alert.objects.get().inbound == message
    assert_number_not_in_clear(SENDER)


def test_an_unparseable_date_is_not_a_reason_to_refuse(client, channel):
    assert deliver(client, channel, form(INBOUND, date="hier soir")).status_code == 200
    assert InboundMessage.objects.get().sent_at is None


def test_the_allow_list_refuses_other_addresses(client, channel):
    channel.allowed_ips = ["196.201.214.0/24", "2001:db8::1"]
    channel.save()
    for address in ["127.0.0.1", "196.201.215.10", "2001:db8::2"]:
        response = deliver(client, channel, address=address)
        assert response.status_code == 403, address
        assert "not allowed" in response.json()["error"]
    assert not InboundMessage.objects.exists()
    assert not Alert.objects.exists()
    assert deliver(client, channel, address="196.201.214.200").status_code == 200
    second = deliver(client, channel, form(INBOUND, id="x2"), address="2001:db8::1")
    assert second.status_code == 200


def test_a_wrong_channel_uuid_is_404(client, channel):
    path = url(channel).replace(str(channel.uuid), "00000000-0000-4000-8000-000000000000")
    assert client.post(path, INBOUND, content_type=FORM).status_code == 404
    assert not InboundMessage.objects.exists()


def test_a_redelivery_makes_no_second_alert(client, channel):
    assert deliver(client, channel).status_code == 200
    again = deliver(client, channel)
    assert again.status_code == 200
    assert InboundMessage.objects.count() == 1
    process_received()  # the worker understands what the gateway stored
    assert Alert.objects.count() == 1


def test_it_keeps_an_unreadable_request_for_review(client, channel):
    response = deliver(client, channel, form(INBOUND, text=None))
    assert response.status_code == 400
    assert response.json() == {"error": "missing field 'text'"}
    message = InboundMessage.objects.get()
    assert message.state == InboundMessage.State.NEEDS_REVIEW
    assert "linkId=" in message.raw
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


# Sending ------------------------------------------------------------------------------------


def test_it_sends_and_returns_the_message_id(channel, monkeypatch):
    post = fake_post(monkeypatch, response(201, json.loads(fixture(__file__, "send_success.json"))))
    message = outbound(channel)
    assert transport_for(channel).send(message) == AT_ID
    (call,) = post.calls
    assert call["url"] == "https://api.africastalking.com/version1/messaging"
    assert call["headers"] == {"apiKey": "k", "Accept": "application/json"}
    assert call["data"] == {
        "username": "kiungo",
        "to": SENDER,
        "message": message.text,
        "from": "21525",
    }


def test_the_sandbox_username_uses_the_sandbox(channel, monkeypatch):
    channel.set_config(username="sandbox", api_key="k")
    channel.save()
    post = fake_post(monkeypatch, response(201, json.loads(fixture(__file__, "send_success.json"))))
    transport_for(channel).send(outbound(channel))
    assert post.calls[0]["url"] == "https://api.sandbox.africastalking.com/version1/messaging"


def recipient(code: int, status: str) -> requests.Response:
    payload = json.loads(fixture(__file__, "send_invalid_number.json"))
    payload["SMSMessageData"]["Recipients"][0] |= {"statusCode": code, "status": status}
    return response(201, payload)


def test_refused_numbers_and_credentials_are_permanent_failures(channel, monkeypatch):
    for answer in [
        response(201, json.loads(fixture(__file__, "send_invalid_number.json"))),
        recipient(406, "UserInBlacklist"),
        recipient(407, "CouldNotRoute"),
        response(201, json.loads(fixture(__file__, "send_no_recipients.json"))),
        response(401, text="The supplied authentication is invalid"),
    ]:
        fake_post(monkeypatch, answer)
        with pytest.raises(TransportError) as failure:
            transport_for(channel).send(outbound(channel))
        assert failure.value.permanent, answer.content


def test_balance_risk_holds_and_outages_are_transient(channel, monkeypatch):
    messages = []
    for answer in [
        response(201, json.loads(fixture(__file__, "send_insufficient_balance.json"))),
        recipient(401, "RiskHold"),
        recipient(500, "InternalServerError"),
        recipient(502, "RejectedByGateway"),
        response(500, text="Internal Server Error"),
        requests.ConnectionError("Name or service not known"),
    ]:
        fake_post(monkeypatch, answer)
        with pytest.raises(TransportError) as failure:
            transport_for(channel).send(outbound(channel))
        assert not failure.value.permanent, answer
        messages.append(failure.value.message)
    assert messages[0] == "Africa's Talking 405 InsufficientBalance"


# Delivery reports ---------------------------------------------------------------------------


def test_a_success_report_marks_the_message_delivered(client, channel):
    sent = outbound(channel, state="sent", external_id=AT_ID)
    report = fixture(__file__, "report_success.txt")
    assert deliver(client, channel, report, "status").status_code == 200
    sent.refresh_from_db()
    assert sent.state == OutboundMessage.State.DELIVERED


def test_a_failed_report_fails_the_message_with_the_reason(client, channel):
    sent = outbound(channel, state="sent", external_id=AT_ID)
    report = fixture(__file__, "report_failed.txt")
    assert deliver(client, channel, report, "status").status_code == 200
    sent.refresh_from_db()
    assert sent.state == OutboundMessage.State.FAILED
    assert sent.error == "Africa's Talking Failed: DeliveryFailure"


def test_a_report_about_an_unknown_message_is_acknowledged(client, channel):
    report = fixture(__file__, "report_success.txt")
    assert deliver(client, channel, report, "status").status_code == 200


def test_reports_from_outside_the_allow_list_are_refused(client, channel):
    channel.allowed_ips = ["196.201.214.0/24"]
    channel.save()
    sent = outbound(channel, state="sent", external_id=AT_ID)
    report = fixture(__file__, "report_failed.txt")
    assert deliver(client, channel, report, "status").status_code == 403
    sent.refresh_from_db()
    assert sent.state == OutboundMessage.State.SENT
