"""Corroboration: several villagers calling about one attack are one incident."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from kiungo.alerts.incidents import merge_incidents, split_alerts
from kiungo.alerts.intake import IncomingSMS, receive_sms
from kiungo.alerts.models import Alert, AlertEvent, Incident
from kiungo.messaging.models import Channel


@pytest.fixture
def channel(world):
    return Channel.objects.create(mission=world.mission, kind="console", name="Test")


def send(channel, text, sender, n):
    message, _ = receive_sms(channel, IncomingSMS(sender=sender, text=text, external_id=str(n)))
    return Alert.objects.get(inbound=message)


def test_alerts_about_one_place_threat_and_window_are_one_incident(channel, world):
    a = send(channel, "ALERTE Beni attaque", "+243811000001", 1)
    b = send(channel, "HATARI Beni shambulio", "+243811000002", 2)
    c = send(channel, "ALERTE Beni attaque encore", "+243811000001", 3)  # same villager again
    assert a.incident == b.incident == c.incident
    incident = Incident.objects.get()
    assert (incident.alert_count, incident.source_count) == (3, 2)


def test_another_threat_place_or_window_is_another_incident(channel, world):
    a = send(channel, "ALERTE Beni attaque", "+243811000001", 1)
    b = send(channel, "ALERTE Beni pillage", "+243811000001", 2)
    c = send(channel, "ALERTE Butembo attaque", "+243811000001", 3)
    with time_machine.travel(timezone.now() + timedelta(hours=7)):
        d = send(channel, "ALERTE Beni attaque", "+243811000001", 4)
    assert len({a.incident_id, b.incident_id, c.incident_id, d.incident_id}) == 4


def test_a_closed_incident_is_not_reopened_by_grouping(channel, world):
    a = send(channel, "ALERTE Beni attaque", "+243811000001", 1)
    Incident.objects.filter(pk=a.incident_id).update(status=Incident.Status.CLOSED)
    b = send(channel, "ALERTE Beni attaque", "+243811000002", 2)
    assert b.incident_id != a.incident_id


def test_a_more_severe_alert_raises_the_incident(channel, world):
    send(channel, "ALERTE Beni attaque", "+243811000001", 1)
    send(channel, "ALERTE URGENT Beni attaque", "+243811000002", 2)
    assert Incident.objects.get().level.code == "critical"


def test_merge_moves_alerts_and_keeps_history(channel, world):
    a = send(channel, "ALERTE Beni attaque", "+243811000001", 1)
    b = send(channel, "ALERTE Butembo attaque", "+243811000002", 2)
    ewo = world.users["ewo"]
    merge_incidents(a.incident, [b.incident], ewo)
    a.incident.refresh_from_db()
    b_incident = Incident.objects.get(pk=b.incident_id)
    assert (a.incident.alert_count, a.incident.source_count) == (2, 2)
    assert b_incident.status == "merged" and b_incident.merged_into == a.incident
    assert set(Alert.objects.values_list("incident_id", flat=True)) == {a.incident_id}
    assert AlertEvent.objects.filter(incident=a.incident, kind="merged_from", actor=ewo).exists()


def test_split_takes_alerts_into_a_new_incident(channel, world):
    a = send(channel, "ALERTE Beni attaque", "+243811000001", 1)
    b = send(channel, "ALERTE Beni attaque", "+243811000002", 2)
    incident = a.incident
    new = split_alerts(incident, [Alert.objects.get(pk=b.pk)], world.users["ewo"])
    incident.refresh_from_db()
    assert (incident.alert_count, new.alert_count) == (1, 1)
    assert Alert.objects.get(pk=b.pk).incident == new
    assert AlertEvent.objects.filter(incident=new, kind="split_from").exists()
    with pytest.raises(ValueError):
        split_alerts(incident, [Alert.objects.get(pk=a.pk)], world.users["ewo"])
