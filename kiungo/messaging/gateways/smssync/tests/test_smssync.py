"""SMSSync: a phone posts inbound SMS with a shared secret and polls for messages to send."""

from datetime import UTC, datetime

import pytest
from django.db import OperationalError
from django.utils import timezone

from kiungo.alerts.intake import process_received
from kiungo.alerts.models import Alert
from kiungo.messaging.gateways import transport_for
from kiungo.messaging.gateways.smssync.transport import SMSSyncTransport
from kiungo.messaging.gateways.testing import (
    assert_number_not_in_clear,
    fixture,
    form,
    make_channel,
    outbound,
    url,
)
from kiungo.messaging.models import InboundMessage, OutboundMessage

SECRET = "s3cr3t-smssync-test"
FORM = "application/x-www-form-urlencoded"
INBOUND = fixture(__file__, "inbound_sms.txt")
SENDER = "+243997000123"
SUCCESS = {"payload": {"success": True, "error": None}}
State = OutboundMessage.State


@pytest.fixture
def channel(world):
    return make_channel(world.mission, "smssync", "+243812000100", secret=SECRET)


def deliver(client, channel, body=INBOUND):
    return client.post(url(channel), body, content_type=FORM)


def poll(client, channel, task="send", secret=SECRET):
    return client.get(url(channel), {"task": task, "secret": secret})


def test_it_accepts_an_sms_and_keeps_no_secret(client, channel):
    response = deliver(client, channel)
    assert response.status_code == 200
    assert response.json() == SUCCESS
    message = InboundMessage.objects.get()
    assert message.external_id == "a3f1c2d4-7b8e-4f90-a1b2-c3d4e5f60718"
    assert message.sender == SENDER
    assert message.sent_at == datetime(2025, 11, 25, 9, 41, 7, tzinfo=UTC)
    assert SECRET not in message.raw and "device_id" in message.raw
    process_received()  # the worker understands what the gateway stored
    assert Alert.objects.get().inbound == message
    assert_number_not_in_clear(SENDER)


def test_a_wrong_or_missing_secret_is_refused(client, channel):
    for body in [form(INBOUND, secret="guess"), form(INBOUND, secret=None)]:
        response = deliver(client, channel, body)
        assert response.status_code == 403
        assert response.json() == {"error": "wrong or missing secret"}
    assert not InboundMessage.objects.exists()
    assert not Alert.objects.exists()


def test_a_redelivery_makes_no_second_alert(client, channel):
    assert deliver(client, channel).json() == SUCCESS
    assert deliver(client, channel).json() == SUCCESS
    assert InboundMessage.objects.count() == 1
    process_received()  # the worker understands what the gateway stored
    assert Alert.objects.count() == 1


def test_it_keeps_an_unreadable_request_for_review(client, channel):
    response = deliver(client, channel, form(INBOUND, message=None))
    assert response.status_code == 400
    assert response.json() == {"error": "missing field 'message'"}
    message = InboundMessage.objects.get()
    assert message.state == InboundMessage.State.NEEDS_REVIEW
    assert SECRET not in message.raw
    assert not Alert.objects.exists()
    assert_number_not_in_clear(SENDER)


def test_it_answers_503_when_the_database_is_locked(client, channel, monkeypatch):
    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr("kiungo.messaging.views.store_sms", locked)
    response = deliver(client, channel)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"


# The phone's polls --------------------------------------------------------------------------


def test_send_leaves_the_message_queued_for_the_phone(channel):
    message = outbound(channel)
    transport = transport_for(channel)
    assert transport.pulls
    assert transport.send(message) == ""
    message.refresh_from_db()
    assert message.state == State.QUEUED


def test_a_poll_hands_out_queued_messages_once(client, channel, world):
    first = outbound(channel)
    second = outbound(channel, to="+243812345678", text="Patrouille en route.")
    outbound(channel, state="failed")
    other = make_channel(world.mission, "smssync", secret="other")
    outbound(other)
    response = poll(client, channel)
    assert response.status_code == 200
    assert response.json() == {
        "payload": {
            "task": "send",
            "secret": SECRET,
            "messages": [
                {"to": SENDER, "message": first.text, "uuid": str(first.pk)},
                {"to": "+243812345678", "message": "Patrouille en route.", "uuid": str(second.pk)},
            ],
        }
    }
    first.refresh_from_db()
    assert (first.state, first.external_id, first.attempts) == (State.SENT, str(first.pk), 1)
    assert first.sent_at is not None
    assert poll(client, channel).json()["payload"]["messages"] == []


def test_a_message_claimed_by_another_poll_is_not_handed_out_twice(channel, monkeypatch):
    message = outbound(channel)
    stale = list(OutboundMessage.objects.filter(pk=message.pk))  # read before the other poll
    OutboundMessage.objects.filter(pk=message.pk).update(state=State.SENT)  # the other poll
    monkeypatch.setattr(SMSSyncTransport, "_queued", lambda self, limit: stale)
    assert transport_for(channel).claim() == []


def test_a_poll_with_a_wrong_secret_claims_nothing(client, channel):
    message = outbound(channel)
    assert poll(client, channel, secret="guess").status_code == 403
    assert client.get(url(channel), {"task": "send"}).status_code == 403
    message.refresh_from_db()
    assert message.state == State.QUEUED


def test_the_phone_confirms_what_it_queued(client, channel):
    a, b = outbound(channel, state="sent"), outbound(channel, state="queued")
    a.external_id, b.external_id = str(a.pk), str(b.pk)
    a.save()
    b.save()
    body = fixture(__file__, "task_sent.json").replace("UUID_A", str(a.pk))
    body = body.replace("UUID_B", str(b.pk))
    # The app sends no secret with this call; the answer only echoes ids handed out.
    response = client.post(f"{url(channel)}?task=sent", body, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"message_uuids": [str(a.pk)]}
    wrong = client.post(
        f"{url(channel)}?task=sent&secret=guess", body, content_type="application/json"
    )
    assert wrong.status_code == 403


def test_results_update_the_messages(client, channel):
    delivered, failed, pending = (outbound(channel, state="sent") for _ in range(3))
    for message in (delivered, failed, pending):
        message.external_id, message.sent_at = str(message.pk), timezone.now()
        message.save()
    asked = client.get(url(channel), {"task": "result", "secret": SECRET}).json()
    assert asked == {"message_uuids": [str(delivered.pk), str(failed.pk), str(pending.pk)]}
    body = fixture(__file__, "task_result.json")
    for token, message in [("UUID_A", delivered), ("UUID_B", failed), ("UUID_C", pending)]:
        body = body.replace(token, str(message.pk))
    response = client.post(
        f"{url(channel)}?task=result&secret={SECRET}", body, content_type="application/json"
    )
    assert response.json() == SUCCESS
    for message in (delivered, failed, pending):
        message.refresh_from_db()
    assert delivered.state == State.DELIVERED
    assert failed.state == State.FAILED
    assert failed.error == "SMSSync could not send (Android error 4): No service"
    assert pending.state == State.SENT  # no delivery report yet


def test_results_need_the_secret_and_unknown_tasks_are_refused(client, channel):
    body = fixture(__file__, "task_result.json")
    unsigned = client.post(f"{url(channel)}?task=result", body, content_type="application/json")
    assert unsigned.status_code == 403
    assert poll(client, channel, task="reboot").status_code == 400
