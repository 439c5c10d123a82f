"""The development gateway: a log file out, an unauthenticated form in (never in production)."""

import pytest
from django.db import OperationalError

from kiungo.alerts.intake import process_received
from kiungo.alerts.models import Alert
from kiungo.messaging.gateways import transport_for
from kiungo.messaging.gateways.base import TransportError
from kiungo.messaging.gateways.testing import (
    assert_number_not_in_clear,
    fixture,
    form,
    make_channel,
    outbound,
    url,
)
from kiungo.messaging.models import InboundMessage, OutboundMessage

FORM = "application/x-www-form-urlencoded"
INBOUND = fixture(__file__, "inbound_sms.txt")
SENDER = "+243997000123"


@pytest.fixture
def channel(world):
    return make_channel(world.mission, "console")


def deliver(client, channel, body=INBOUND, name="receive"):
    return client.post(url(channel, name), body, content_type=FORM)


def test_it_accepts_an_sms_outside_production(client, channel):
    response = deliver(client, channel)
    assert response.status_code == 200
    message = InboundMessage.objects.get()
    assert response.json() == {"id": message.pk, "duplicate": False}
    assert message.external_id == "console-demo-1"
    assert message.sender == SENDER
    process_received()  # the worker understands what the gateway stored
    assert Alert.objects.get().inbound == message
    assert_number_not_in_clear(SENDER)


def test_it_refuses_everything_in_production_even_with_debug(client, channel, settings):
    settings.PRODUCTION = True
    settings.DEBUG = True
    response = deliver(client, channel)
    assert response.status_code == 403
    assert "production" in response.json()["error"]
    assert deliver(client, channel, "id=x&status=delivered", "status").status_code == 403
    assert not InboundMessage.objects.exists()
    assert not Alert.objects.exists()


def test_a_redelivery_makes_no_second_alert(client, channel):
    assert deliver(client, channel).json()["duplicate"] is False
    assert deliver(client, channel).json()["duplicate"] is True
    assert InboundMessage.objects.count() == 1
    process_received()  # the worker understands what the gateway stored
    assert Alert.objects.count() == 1


def test_it_keeps_an_unreadable_request_for_review(client, channel):
    response = deliver(client, channel, form(INBOUND, text=None))
    assert response.status_code == 400
    assert response.json() == {"error": "missing field 'text'"}
    message = InboundMessage.objects.get()
    assert message.state == InboundMessage.State.NEEDS_REVIEW
    assert message.raw == form(INBOUND, text=None)
    assert not Alert.objects.exists()


def test_it_answers_503_when_the_database_is_locked(client, channel, monkeypatch):
    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr("kiungo.messaging.views.store_sms", locked)
    response = deliver(client, channel)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"


def test_send_writes_a_masked_line_to_the_log(channel, settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    transport = transport_for(channel)
    first = transport.send(outbound(channel, text="Kiungo: reçu.\nMerci."))
    second = transport.send(outbound(channel, to="+243812345678"))
    assert first.startswith("console-") and first != second
    lines = (tmp_path / "data" / "console-sms.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert "**********123" in lines[0] and "997000" not in lines[0]
    assert first in lines[0] and "Kiungo: reçu.\\nMerci." in lines[0]
    assert str(channel.uuid) in lines[0]
    assert "**********678" in lines[1]


def test_an_unwritable_log_is_a_transient_failure(channel, settings, tmp_path):
    (tmp_path / "a-file").write_text("")
    settings.DATA_DIR = tmp_path / "a-file"
    with pytest.raises(TransportError) as failure:
        transport_for(channel).send(outbound(channel))
    assert not failure.value.permanent


def test_status_reports(client, channel):
    sent = outbound(channel, state="sent", external_id="console-1")
    assert deliver(client, channel, "id=console-1&status=delivered", "status").status_code == 200
    sent.refresh_from_db()
    assert sent.state == OutboundMessage.State.DELIVERED
    failing = outbound(channel, state="sent", external_id="console-2")
    body = "id=console-2&status=failed&error=phone+off"
    assert deliver(client, channel, body, "status").status_code == 200
    failing.refresh_from_db()
    assert (failing.state, failing.error) == (OutboundMessage.State.FAILED, "phone off")
    assert deliver(client, channel, "id=nope&status=delivered", "status").status_code == 200
    assert deliver(client, channel, "id=console-2&status=lost", "status").status_code == 400
