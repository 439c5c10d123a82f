"""The generic external gateway: Standard Webhooks signatures both ways, replay refusal."""

import json
import time
from datetime import UTC, datetime

import pytest
import requests
from django.db import OperationalError

from kiungo.alerts.intake import process_received
from kiungo.alerts.models import Alert
from kiungo.messaging.gateways import transport_for
from kiungo.messaging.gateways.base import TransportError
from kiungo.messaging.gateways.external.transport import (
    sign_standard_webhook,
    signed_headers,
)
from kiungo.messaging.gateways.testing import (
    assert_number_not_in_clear,
    fake_post,
    fixture,
    make_channel,
    outbound,
    response,
    url,
)
from kiungo.messaging.models import InboundMessage, OutboundMessage

# The example secret of the Standard Webhooks specification (public, not a real key).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
INBOUND = fixture(__file__, "inbound_sms.json")
SENDER = "+243997000123"


@pytest.fixture
def channel(world):
    return make_channel(
        world.mission, "external", secret=SECRET, send_url="https://gateway.example.org/send"
    )


def headers(body, webhook_id="msg_2f9c41d7", timestamp=None, secret=SECRET) -> dict:
    signed = signed_headers(secret, webhook_id, body, timestamp)
    return {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in signed.items()}


def deliver(client, channel, body=INBOUND, name="receive", content_type="application/json", **kw):
    meta = headers(body, **kw)
    return client.post(url(channel, name), body, content_type=content_type, **meta)


def test_the_signature_matches_the_standard_webhooks_test_vector():
    signature = sign_standard_webhook(
        SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}'
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_it_accepts_a_signed_json_sms(client, channel):
    response = deliver(client, channel)
    assert response.status_code == 200
    message = InboundMessage.objects.get()
    assert response.json() == {"id": message.pk, "duplicate": False}
    assert message.external_id == "gw-2f9c41d7"
    assert message.sender == SENDER
    assert message.sent_at == datetime(2025, 11, 25, 7, 41, 7, tzinfo=UTC)
    process_received()  # the worker understands what the gateway stored
    assert Alert.objects.get().inbound == message
    assert_number_not_in_clear(SENDER)


def test_it_accepts_a_form_and_any_valid_signature_of_several(client, channel):
    body = fixture(__file__, "inbound_sms_form.txt")
    meta = headers(body)
    old_key = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
    stale = sign_standard_webhook(old_key, "msg_2f9c41d7", int(time.time()), body)
    meta["HTTP_WEBHOOK_SIGNATURE"] = f"{stale} v2,whatever {meta['HTTP_WEBHOOK_SIGNATURE']}"
    response = client.post(
        url(channel), body, content_type="application/x-www-form-urlencoded", **meta
    )
    assert response.status_code == 200
    message = InboundMessage.objects.get()
    assert message.external_id == "msg_2f9c41d7"  # no `id`: the webhook id is the key
    assert message.sent_at == datetime(2025, 11, 25, 7, 41, 7, tzinfo=UTC)


def test_it_refuses_bad_signatures_and_replays(client, channel):
    now = int(time.time())
    cases = {
        "another key": headers(INBOUND, secret="whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"),
        "replayed": headers(INBOUND, timestamp=now - 6 * 60),
        "from the future": headers(INBOUND, timestamp=now + 6 * 60),
        "other body": headers(INBOUND.replace("Beni", "Bunia")),
        "no headers": {},
        "timestamp not a number": headers(INBOUND) | {"HTTP_WEBHOOK_TIMESTAMP": "yesterday"},
        "signature of another id": headers(INBOUND) | {"HTTP_WEBHOOK_ID": "msg_other"},
    }
    for case, meta in cases.items():
        response = client.post(url(channel), INBOUND, content_type="application/json", **meta)
        assert response.status_code == 403, case
        if case == "replayed":
            assert "replay" in response.json()["error"]
    assert not InboundMessage.objects.exists()
    assert not Alert.objects.exists()


def test_a_retried_webhook_is_a_duplicate(client, channel):
    body = json.dumps({"from": SENDER, "text": "ALERTE Beni incendie de maisons"})
    meta = headers(body, webhook_id="msg_retry_1")
    first = client.post(url(channel), body, content_type="application/json", **meta)
    again = client.post(url(channel), body, content_type="application/json", **meta)
    assert first.json()["duplicate"] is False
    assert again.status_code == 200
    assert again.json() == {"id": first.json()["id"], "duplicate": True}
    assert InboundMessage.objects.count() == 1
    process_received()  # the worker understands what the gateway stored
    assert Alert.objects.count() == 1


def test_it_keeps_unreadable_requests_for_review(client, channel):
    cases = [
        (json.dumps({"from": SENDER}), "missing field 'text'"),
        (json.dumps({"from": SENDER, "text": "x", "date": "mardi"}), "not an ISO 8601 date"),
        ('{"from": "+243997000123", "text": ', "not valid JSON"),
        ('["+243997000123", "ALERTE"]', "must be a JSON object"),
    ]
    for body, error in cases:
        response = deliver(client, channel, body)
        assert response.status_code == 400, body
        assert error in response.json()["error"]
    stored = InboundMessage.objects.order_by("pk")
    assert [m.state for m in stored] == [InboundMessage.State.NEEDS_REVIEW] * 4
    assert stored[0].sender == SENDER
    assert stored[2].raw == cases[2][0]
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


def test_it_sends_a_signed_request(channel, monkeypatch):
    accepted = json.loads(fixture(__file__, "send_accepted.json"))
    post = fake_post(monkeypatch, response(202, accepted))
    message = outbound(channel)
    assert transport_for(channel).send(message) == "gw-out-8c21"
    (call,) = post.calls
    assert call["url"] == "https://gateway.example.org/send"
    assert json.loads(call["data"]) == {"id": message.pk, "to": SENDER, "text": message.text}
    sent = call["headers"]
    assert sent["Content-Type"] == "application/json"
    assert sent["webhook-id"] == f"kiungo-out-{message.pk}"
    assert abs(int(sent["webhook-timestamp"]) - time.time()) < 5
    expected = sign_standard_webhook(
        SECRET, sent["webhook-id"], int(sent["webhook-timestamp"]), call["data"]
    )
    assert sent["webhook-signature"] == expected


def test_without_an_id_in_the_answer_our_id_is_the_message_id(channel, monkeypatch):
    fake_post(monkeypatch, response(200, text="OK"))
    message = outbound(channel)
    assert transport_for(channel).send(message) == str(message.pk)


def test_4xx_is_permanent_5xx_and_timeouts_transient(channel, monkeypatch):
    expectations = [
        (response(400, {"error": "invalid number"}), True),
        (response(404, text="Not Found"), True),
        (response(429, text="slow down"), False),
        (response(500, text="oops"), False),
        (response(502, text="Bad Gateway"), False),
        (requests.Timeout("read timed out"), False),
        (requests.ConnectionError("connection reset"), False),
    ]
    for answer, permanent in expectations:
        fake_post(monkeypatch, answer)
        with pytest.raises(TransportError) as failure:
            transport_for(channel).send(outbound(channel))
        assert failure.value.permanent is permanent, answer


# Status callbacks --------------------------------------------------------------------------


def test_status_callbacks_update_the_message(client, channel):
    sent = outbound(channel, state="sent", external_id="gw-out-8c21")
    delivered = fixture(__file__, "status_delivered.json")
    assert deliver(client, channel, delivered, "status").json() == {"ok": True}
    sent.refresh_from_db()
    assert sent.state == OutboundMessage.State.DELIVERED
    # A failure reported after the delivery changes nothing.
    failed = fixture(__file__, "status_failed.json")
    assert deliver(client, channel, failed, "status", webhook_id="msg_2").status_code == 200
    sent.refresh_from_db()
    assert sent.state == OutboundMessage.State.DELIVERED


def test_a_failure_report_records_the_reason(client, channel):
    sent = outbound(channel, state="sent", external_id="gw-out-8c21")
    failed = fixture(__file__, "status_failed.json")
    assert deliver(client, channel, failed, "status").status_code == 200
    sent.refresh_from_db()
    assert sent.state == OutboundMessage.State.FAILED
    assert sent.error == "absent subscriber (SMSC 0x1B)"


def test_status_reports_unknown_unsigned_or_unreadable(client, channel):
    sent = outbound(channel, state="sent", external_id="gw-out-8c21")
    unknown = json.dumps({"id": "gw-out-0000", "status": "delivered"})
    assert deliver(client, channel, unknown, "status").status_code == 200
    failed = fixture(__file__, "status_failed.json")
    unsigned = client.post(url(channel, "status"), failed, content_type="application/json")
    assert unsigned.status_code == 403
    odd = json.dumps({"id": "gw-out-8c21", "status": "read"})
    assert deliver(client, channel, odd, "status").status_code == 400
    sent.refresh_from_db()
    assert sent.state == OutboundMessage.State.SENT
