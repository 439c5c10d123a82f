"""Whatever a gateway (or an attacker) posts, the answer is never a 500."""

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiungo.messaging.gateways.external.transport import signed_headers
from kiungo.messaging.gateways.testing import make_channel, url
from kiungo.messaging.gateways.twilio.transport import sign_twilio
from kiungo.messaging.models import InboundMessage

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the Standard Webhooks example key
FIELDS = [
    "from",
    "to",
    "text",
    "date",
    "id",
    "linkId",
    "From",
    "To",
    "Body",
    "MessageSid",
    "secret",
    "message",
    "sent_timestamp",
    "message_id",
    "task",
]
values = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        ["", "+243997000123", "0997000123", "2026-13-45", "-1", "9" * 40, "ALERTE Beni", "\x00"]
    ),
)
forms = st.dictionaries(st.sampled_from(FIELDS), values, max_size=8)
bodies = st.one_of(st.binary(max_size=500), st.text(max_size=500).map(str.encode))
fuzz = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def channels(world):
    return {
        "africastalking": make_channel(world.mission, "africastalking"),
        "console": make_channel(world.mission, "console"),
        "external": make_channel(world.mission, "external", secret=SECRET, send_url="http://x"),
        "smssync": make_channel(world.mission, "smssync", secret="s3cret"),
        "twilio": make_channel(world.mission, "twilio", account_sid="AC1", auth_token="tok"),
    }


@fuzz
@given(form=forms, kind=st.sampled_from(["africastalking", "console", "smssync", "twilio"]))
def test_any_form_gets_a_clear_answer(client, channels, form, kind):
    channel = channels[kind]
    headers = {}
    if kind == "twilio":  # a correctly signed request, so the parser itself is exercised
        headers["HTTP_X_TWILIO_SIGNATURE"] = sign_twilio(
            f"http://testserver{url(channel)}", form, "tok"
        )
    for name in ("receive", "status"):
        response = client.post(url(channel, name), form, **headers)
        assert response.status_code < 500, (kind, name, form, response.content)


@fuzz
@given(
    body=bodies,
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "multipart/form-data; boundary=x",
        ]
    ),
)
def test_any_signed_body_gets_a_clear_answer(client, channels, body, content_type):
    channel = channels["external"]
    for name in ("receive", "status"):
        headers = {
            f"HTTP_{key.upper().replace('-', '_')}": value
            for key, value in signed_headers(SECRET, f"msg_{uuid.uuid4()}", body).items()
        }
        response = client.post(url(channel, name), body, content_type=content_type, **headers)
        assert response.status_code < 500, (name, body, response.content)


@fuzz
@given(
    payload=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=50),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=10,
    )
)
def test_any_json_to_the_external_gateway_gets_a_clear_answer(client, channels, payload):
    body = json.dumps(payload).encode()
    headers = {
        f"HTTP_{key.upper().replace('-', '_')}": value
        for key, value in signed_headers(SECRET, f"msg_{uuid.uuid4()}", body).items()
    }
    response = client.post(
        url(channels["external"]), body, content_type="application/json", **headers
    )
    assert response.status_code < 500, (payload, response.content)


@pytest.mark.parametrize("field", ["text", "from", "id"])
def test_a_nul_character_is_refused_or_stored_never_a_500(client, channels, field):
    # PostgreSQL text columns cannot hold NUL: it must not turn into a server error.
    form = {"from": "+243997000123", "text": "ALERTE Beni", "id": "n1"}
    form[field] = form[field] + "\x00x"
    response = client.post(url(channels["console"]), form)
    assert response.status_code == 200, response.content
    message = InboundMessage.objects.get()
    assert "\x00" not in message.text + message.external_id + message.sender


def test_a_nul_in_a_delivery_report_changes_nothing_and_is_no_500(client, channels):
    form = {"MessageSid": "SM1\x00", "MessageStatus": "failed", "ErrorCode": "3\x000"}
    channel = channels["twilio"]
    signature = sign_twilio(f"http://testserver{url(channel, 'status')}", form, "tok")
    response = client.post(url(channel, "status"), form, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 200, response.content
