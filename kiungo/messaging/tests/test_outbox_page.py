"""The outbox page: who may read it, what it never shows (numbers, addresses), its filters."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kiungo.alerts.intake import log_alert
from kiungo.lib.testing import check_matrix
from kiungo.messaging.gateways.testing import make_channel
from kiungo.messaging.models import OutboundEmail, OutboundMessage, Purpose
from kiungo.messaging.outbox import queue_email, queue_sms

OUTBOX_READERS = {"administrator", "ewo", "other_ewo"}
NUMBER = "+243997000123"
ADDRESS = "k.masika@example.org"
OTHER_NUMBER = "+211912345678"


def incident_at_beni(world):
    alert, _created = log_alert(
        mission=world.mission,
        user=world.users["ewo"],
        text="ALERTE Beni attaque",
        source="call",
        area=world.beni,
        threat="attack",
    )
    return alert.incident


@pytest.fixture
def outbox(world):
    """Messages of both missions, in every state that matters."""
    incident = incident_at_beni(world)
    channel = make_channel(world.mission, "console")
    other_channel = make_channel(world.other_mission, "console")
    (alert,) = queue_sms(
        channel,
        NUMBER,
        "KIUNGO alert for indbatt-a",
        purpose=Purpose.ALERT,
        recipient_label="duty phone indbatt-a Ops room",
        incident=incident,
    )
    (failed,) = queue_sms(
        channel, NUMBER, "Kiungo: message received", purpose=Purpose.RECEIPT,
        recipient_label="contact NK-BEN-017",
    )  # fmt: skip
    OutboundMessage.objects.filter(pk=failed.pk).update(
        state=OutboundMessage.State.FAILED, attempts=3, error="invalid number [phone]"
    )
    email = queue_email(
        ADDRESS,
        "[Kiungo] Escalation K1",
        "Escalation body text",
        purpose=Purpose.ESCALATION,
        recipient_label="Kahambu Masika",
        incident=incident,
    )
    orphan = queue_email(ADDRESS, "[Kiungo] No incident", "Body", recipient_label="Nobody")
    (foreign,) = queue_sms(
        other_channel,
        OTHER_NUMBER,
        "Other mission's text",
        purpose=Purpose.ALERT,
        recipient_label="duty phone rwanbatt-a",
    )
    return {
        "incident": incident,
        "alert": alert,
        "failed": failed,
        "email": email,
        "orphan": orphan,
        "foreign": foreign,
    }


def page(client, world, name, **params):
    client.force_login(world.users[name])
    response = client.get("/outbox/", params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_outbox_matrix(client, world, outbox):
    check_matrix(client, world, "/outbox/", OUTBOX_READERS)
    check_matrix(client, world, "/outbox/?state=failed&purpose=alert", OUTBOX_READERS)


def test_the_page_shows_labels_never_numbers_or_addresses(client, world, outbox):
    html = page(client, world, "ewo")
    assert "duty phone indbatt-a Ops room" in html and "contact NK-BEN-017" in html
    assert "Kahambu Masika" in html and "[Kiungo] Escalation K1" in html
    assert "Escalation body text" in html  # the e-mail's body, folded under its subject
    assert "KIUNGO alert for indbatt-a" in html
    assert f'href="/incidents/{outbox["incident"].reference}/"' in html
    for secret in (NUMBER, NUMBER[4:], ADDRESS, "example.org"):
        assert secret not in html, secret


def test_failed_messages_are_flagged_with_their_error(client, world, outbox):
    html = page(client, world, "ewo")
    row = html[html.find("contact NK-BEN-017") :]
    row = row[: row.find("</tr>")]
    start = html.rfind("<tr", 0, html.find("contact NK-BEN-017"))
    assert 'class="is-failed"' in html[start : html.find("contact NK-BEN-017")]
    assert "FAILED" in row and "invalid number [phone]" in row
    alert_row = html[html.find("duty phone indbatt-a Ops room") :]
    assert "FAILED" not in alert_row[: alert_row.find("</tr>")]


def test_each_mission_sees_its_own_messages(client, world, outbox):
    html = page(client, world, "ewo")
    assert "Other mission&#x27;s text" not in html and "Other mission's text" not in html
    assert "3 messages" in html
    assert "No incident" not in html  # an e-mail without incident belongs to no mission
    html = page(client, world, "other_ewo")
    assert "Other mission&#x27;s text" in html and "1 message" in html
    assert "indbatt-a" not in html and OTHER_NUMBER[4:] not in html


@pytest.mark.parametrize(
    ("params", "shown", "hidden"),
    [
        ({"state": "failed"}, ["contact NK-BEN-017"], ["duty phone indbatt-a", "Kahambu"]),
        ({"state": "queued"}, ["duty phone indbatt-a", "Kahambu"], ["contact NK-BEN-017"]),
        ({"purpose": "escalation"}, ["Kahambu"], ["duty phone indbatt-a", "NK-BEN-017"]),
        ({"kind": "sms"}, ["duty phone indbatt-a", "NK-BEN-017"], ["Kahambu"]),
        ({"kind": "email"}, ["Kahambu"], ["duty phone indbatt-a", "NK-BEN-017"]),
        ({"incident": "K"}, [], ["duty phone indbatt-a", "NK-BEN-017", "Kahambu"]),
        ({"kind": "sms", "purpose": "alert"}, ["duty phone indbatt-a"], ["NK-BEN-017"]),
    ],
)
def test_filters(client, world, outbox, params, shown, hidden):
    html = page(client, world, "ewo", **params)
    for text in shown:
        assert text in html, text
    for text in hidden:
        assert text not in html, text


def test_filter_by_incident_reference(client, world, outbox):
    reference = outbox["incident"].reference
    html = page(client, world, "ewo", incident=reference.lower())
    assert "duty phone indbatt-a" in html and "Kahambu" in html
    assert "NK-BEN-017" not in html


def test_bad_filters_are_reported_and_ignored(client, world, outbox):
    html = page(client, world, "ewo", state="exploded", purpose="alert")
    assert "Select a valid choice" in html
    assert "1 message" in html and "duty phone indbatt-a" in html  # the valid filter applies


def test_newest_first_and_paginated(client, world, outbox):
    channel = outbox["alert"].channel
    for index in range(52):
        queue_sms(channel, NUMBER, f"Bulk message {index:02d}", recipient_label=f"bulk {index}")
    html = page(client, world, "ewo", kind="sms")
    assert html.count("<tr") == 51  # a header and 50 messages
    assert html.find("Bulk message 51") < html.find("Bulk message 50")
    assert "Page 1 of 2" in html and "kind=sms&amp;page=2" in html
    html = page(client, world, "ewo", kind="sms", page=2)
    assert html.count("<tr") == 5  # 54 SMS in all
    assert "duty phone indbatt-a" in html  # the oldest come last


def test_query_count_does_not_grow_with_the_page(
    client, world, outbox, django_assert_max_num_queries
):
    client.force_login(world.users["ewo"])
    client.get("/outbox/")
    with CaptureQueriesContext(connection) as few:
        client.get("/outbox/")
    channel = outbox["alert"].channel
    for index in range(30):
        queue_sms(channel, NUMBER, f"Bulk {index}", incident=outbox["incident"])
        queue_email(ADDRESS, f"Subject {index}", "Body", incident=outbox["incident"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/outbox/").content.decode()
    assert html.count("<tr") == 51
    assert OutboundEmail.objects.count() == 32


def test_the_incident_page_counts_its_messages_for_outbox_readers(client, world, outbox):
    incident = outbox["incident"]
    OutboundMessage.objects.filter(pk=outbox["alert"].pk).update(
        state=OutboundMessage.State.FAILED, error="invalid number"
    )
    client.force_login(world.users["ewo"])
    html = client.get(f"/incidents/{incident.reference}/").content.decode()
    assert f"/outbox/?incident={incident.reference}" in html
    assert "SMS: 1, e-mails: 1" in html and "1 failed" in html
    client.force_login(world.users["duty"])  # sees the incident, not the outbox
    html = client.get(f"/incidents/{incident.reference}/").content.decode()
    assert "/outbox/?incident=" not in html
