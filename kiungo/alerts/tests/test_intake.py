"""The alert pipeline: durable, idempotent, never losing a message it could not understand."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import OperationalError, connection

from kiungo.alerts import models
from kiungo.alerts.intake import IncomingSMS, log_alert, process, receive_sms, store_sms
from kiungo.alerts.models import Alert, Incident
from kiungo.messaging.models import Channel, InboundMessage
from kiungo.network.models import Contact

PHONE = "+243997654321"


@pytest.fixture
def channel(world):
    return Channel.objects.create(mission=world.mission, kind="console", name="Test")


@pytest.fixture
def contact(world):
    return Contact.objects.create(
        mission=world.mission,
        code="NK-BEN-001",
        name="Kavira Masika",
        phone=PHONE,
        home_locality=world.beni,
    )


def sms(text="ALERTE Beni attaque hommes armés", sender=PHONE, external_id="m1", **extra):
    return IncomingSMS(sender=sender, text=text, external_id=external_id, **extra)


def test_an_sms_becomes_a_placed_typed_alert_in_an_incident(channel, contact, world):
    message, created = receive_sms(channel, sms())
    assert created and message.state == InboundMessage.State.PROCESSED
    alert = Alert.objects.get(inbound=message)
    assert (alert.area, alert.threat, alert.contact) == (world.beni, "attack", contact)
    assert alert.language == "fr" and alert.structured
    assert alert.text == "ALERTE Beni attaque hommes armés"
    assert alert.incident.alert_count == 1
    contact.refresh_from_db()
    assert contact.last_heard_at == message.received_at


def test_a_national_number_is_normalised_before_matching(channel, contact):
    receive_sms(channel, sms(sender="0997654321"))
    assert Alert.objects.get().contact == contact


def test_a_redelivery_creates_nothing(channel, world):
    first, created = receive_sms(channel, sms())
    again, created_again = receive_sms(channel, sms(text="changed in transit"))
    assert created and not created_again and again.pk == first.pk
    assert InboundMessage.objects.count() == 1 and Alert.objects.count() == 1


def test_the_same_id_on_another_channel_is_another_message(channel, world):
    other = Channel.objects.create(mission=world.mission, kind="console", name="Other")
    receive_sms(channel, sms())
    receive_sms(other, sms())
    assert Alert.objects.count() == 2


def test_messages_without_gateway_ids_are_all_kept(channel):
    receive_sms(channel, sms(external_id=""))
    receive_sms(channel, sms(external_id=""))
    assert InboundMessage.objects.count() == 2


def test_an_unknown_sender_is_accepted(channel, world):
    message, _ = receive_sms(channel, sms(sender="+243811111111"))
    alert = Alert.objects.get(inbound=message)
    assert alert.contact is None and alert.sender_hash == message.sender_hash != ""


def test_a_message_that_cannot_be_understood_is_kept_for_a_person(channel, world):
    with mock.patch("kiungo.alerts.intake.understand", side_effect=RuntimeError("boom")):
        message, created = receive_sms(channel, sms())
    assert created
    message.refresh_from_db()
    assert message.state == InboundMessage.State.NEEDS_REVIEW
    assert "boom" in message.error
    assert not Alert.objects.exists()  # the half-made alert was rolled back, the SMS was not


def test_an_unplaced_alert_needs_review_and_stands_alone(channel, world):
    receive_sms(channel, sms(text="ALERTE Xyzzyville attaque", sender="+243811111111"))
    receive_sms(
        channel, sms(text="ALERTE Xyzzyville attaque", sender="+243822222222", external_id="m2")
    )
    alerts = list(Alert.objects.all())
    assert all(alert.needs_review and "place" in alert.review_reasons for alert in alerts)
    assert len({alert.incident_id for alert in alerts}) == 2


def test_a_database_that_refuses_the_write_raises_so_the_gateway_retries(channel):
    locked = OperationalError("database is locked")
    with (
        mock.patch.object(InboundMessage, "save", side_effect=locked),
        pytest.raises(OperationalError),
    ):
        receive_sms(channel, sms())
    assert not InboundMessage.objects.exists()


def test_identities_are_encrypted_in_the_database(channel, contact):
    receive_sms(channel, sms(raw=f"From={PHONE}&Body=ALERTE"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT sender, raw FROM messaging_inboundmessage")
        stored = " ".join(cursor.fetchone())
        cursor.execute("SELECT name, phone FROM network_contact")
        stored += " ".join(cursor.fetchone())
    assert "997654321" not in stored and "Kavira" not in stored
    assert InboundMessage.objects.get().sender == PHONE  # and the application reads it back


def test_the_raw_request_is_size_capped(channel):
    receive_sms(channel, sms(raw="x" * 100_000, text="y" * 10_000))
    message = InboundMessage.objects.get()
    assert len(message.raw) == 16 * 1024
    assert len(message.text) == 2000


def test_the_phones_time_is_kept_when_given(channel):
    sent = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    message, _ = receive_sms(channel, sms(sent_at=sent))
    alert = Alert.objects.get(inbound=message)
    assert alert.occurred_at == sent and alert.received_at == message.received_at


def test_api_idempotency(world):
    ewo = world.users["ewo"]
    first, created = log_alert(
        mission=world.mission,
        user=ewo,
        idempotency_key="k1",
        text="Attaque à Beni",
        source="call",
        area=world.beni,
    )
    again, created_again = log_alert(
        mission=world.mission,
        user=ewo,
        idempotency_key="k1",
        text="Attaque à Beni",
        source="call",
        area=world.beni,
    )
    assert created and not created_again and first.pk == again.pk
    with pytest.raises(ValueError, match="already used"):
        log_alert(
            mission=world.mission,
            user=ewo,
            idempotency_key="k1",
            text="Autre chose",
            source="call",
            area=world.beni,
        )
    # Keys belong to their user: another user's k1 is another alert.
    other, created_other = log_alert(
        mission=world.mission,
        user=world.users["cla"],
        idempotency_key="k1",
        text="Attaque à Beni",
        source="call",
        area=world.beni,
    )
    assert created_other and other.pk != first.pk
    assert first.place_method == "person" and first.created_by == ewo


def test_explicit_choices_win_over_the_text(world):
    level = world.mission.levels.get(code="critical")
    alert, _ = log_alert(
        mission=world.mission,
        user=world.users["cla"],
        text="ALERTE Bunia",
        source="radio",
        area=world.beni,
        threat="looting",
        level=level,
    )
    assert (alert.area, alert.threat, alert.level) == (world.beni, "looting", level)


def test_a_keyword_can_raise_the_level(channel, world):
    message, _ = receive_sms(channel, sms(text="ALERTE URGENT Beni attaque"))
    assert Alert.objects.get(inbound=message).level.code == "critical"


def test_an_old_report_does_not_join_a_new_incident(channel, world):
    receive_sms(channel, sms(sent_at=datetime.now(UTC) - timedelta(hours=20)))
    receive_sms(channel, sms(external_id="m2"))
    assert Incident.objects.count() == 2


def test_a_colliding_reference_is_drawn_again(channel, world):
    receive_sms(channel, sms())
    taken = Alert.objects.get().reference
    fresh = iter([taken, "AZZZZZZ"])
    real = models.new_reference

    def colliding_once(prefix, length=5):
        return next(fresh) if prefix == "A" else real(prefix, length)

    with mock.patch("kiungo.alerts.models.new_reference", side_effect=colliding_once):
        message, _ = receive_sms(channel, sms(external_id="m2", text="ALERTE Butembo pillage"))
    message.refresh_from_db()
    assert message.state == InboundMessage.State.PROCESSED
    assert Alert.objects.get(inbound=message).reference == "AZZZZZZ"


# What one SMS costs (the statement budget of intake; see docs/benchmarks.md).


def test_storing_an_sms_is_one_insert(channel, django_assert_num_queries):
    # What a gateway waits for: the INSERT (in a savepoint here, inside the test's transaction;
    # its own transaction in a web request). No look for a redelivery: the unique constraint
    # catches one. Understanding, grouping and telling the unit are the worker's.
    with django_assert_num_queries(3):
        message, created = store_sms(channel, sms(external_id="stored"))
    assert created and message.state == InboundMessage.State.RECEIVED
    assert not Alert.objects.exists()
    with django_assert_num_queries(5):  # a redelivery: savepoint, refused insert, rollback to
        # and release of the savepoint, then the first row read
        again, created = store_sms(channel, sms(external_id="stored"))
    assert again == message and not created


def test_the_statements_of_processing_one_sms(channel, contact, world, django_assert_num_queries):
    lock = 1 if connection.vendor == "postgresql" else 0  # the advisory lock on the place
    # Warm the process's caches (levels, names), from another sender (no receipt quiet time).
    receive_sms(channel, sms(text="ALERTE Bunia pillage", sender="+243990000555", external_id="w"))
    first, _ = store_sms(channel, sms(external_id="new"))
    joining, _ = store_sms(channel, sms(sender="+243990000777", external_id="join"))
    # A known contact's SMS opening an incident. Before the write transaction: the contacts
    # holding the batch's numbers (secondary numbers, then holders: two queries for a whole
    # batch) + the placed area by primary key (levels and names come from the process's
    # caches). Then BEGIN (a savepoint inside the test's transaction) + claim the batch (select
    # those still waiting, then mark them) + the batch's receipt quiet check + savepoint + open
    # incident (its same-source check folded in) + responsible unit + insert incident + insert
    # alert + "routed" event + telling the unit (duty phones, officers, sending channel, unit,
    # savepoint + insert SMS + release) + contact heard + receipt (savepoint + insert SMS +
    # release) + release + COMMIT (a release here).
    with django_assert_num_queries(26 + lock):
        assert process(first)
    # An unknown sender joining it: contacts (2) + area; BEGIN + claim (2) + receipt quiet check
    # + savepoint + open incident with its same-source check + insert alert + update incident +
    # receipt (savepoint + insert SMS + release) + release + COMMIT.
    with django_assert_num_queries(16 + lock):
        assert process(joining)
    assert Alert.objects.get(inbound=first).incident == Alert.objects.get(inbound=joining).incident
    with django_assert_num_queries(0):
        assert not process(first)  # processed: nothing to do
    # Read as RECEIVED by a worker while another was taking it: understood again (contacts
    # (2) + area), then the claim finds nothing (savepoint, select, release); nothing is
    # written.
    stale = InboundMessage.objects.select_related("channel__mission").get(pk=first.pk)
    stale.state = InboundMessage.State.RECEIVED
    with django_assert_num_queries(6):
        assert not process(stale)
    assert Alert.objects.filter(inbound=first).count() == 1


def test_a_channel_changed_elsewhere_is_seen_within_seconds(channel, monkeypatch):
    from kiungo.messaging import views

    assert views._channel("console", channel.uuid) == channel
    Channel.objects.filter(pk=channel.pk).update(active=False)  # as another process would
    assert views._channel("console", channel.uuid) == channel  # cached, for CHANNEL_TTL
    monkeypatch.setattr(views, "CHANNEL_TTL", 0)
    with pytest.raises(Channel.DoesNotExist):
        views._channel("console", channel.uuid)


def test_a_channel_saved_in_this_process_is_seen_at_once(channel):
    from kiungo.messaging import views

    assert views._channel("console", channel.uuid) == channel
    channel.active = False
    channel.save()
    with pytest.raises(Channel.DoesNotExist):
        views._channel("console", channel.uuid)


def test_alert_levels_changed_elsewhere_are_seen_within_seconds(world, monkeypatch):
    from kiungo.alerts import intake
    from kiungo.missions.models import AlertLevel

    high = intake.mission_levels(world.mission)["high"]
    AlertLevel.objects.filter(pk=high.pk).update(acknowledge_within=timedelta(minutes=1))
    assert intake.mission_levels(world.mission)["high"] is high  # cached, for LEVELS_TTL
    monkeypatch.setattr(intake, "LEVELS_TTL", 0)
    assert intake.mission_levels(world.mission)["high"].acknowledge_within == timedelta(minutes=1)
    level = AlertLevel.objects.get(pk=high.pk)
    level.acknowledge_within = timedelta(minutes=2)
    monkeypatch.setattr(intake, "LEVELS_TTL", 60)
    level.save()  # in this process: forgotten at once
    assert intake.mission_levels(world.mission)["high"].acknowledge_within == timedelta(minutes=2)
