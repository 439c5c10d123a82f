"""SOS from the web and its closing by a manager or security officer."""

import pytest
from django.core.exceptions import ValidationError

from kiungo.messaging.models import OutboundEmail, Purpose
from kiungo.safety import checkins
from kiungo.safety.models import Alarm, Channel


@pytest.fixture
def cla(world, safety):
    return world.users["cla"].cla_profile


def test_the_sos_button_alerts_at_once_with_an_urgent_purpose(client, world, cla):
    client.force_login(world.users["cla"])
    response = client.post("/safety/sos/", {"place": "Beni"})
    assert response.status_code == 302
    alarm = Alarm.objects.get()
    assert (alarm.kind, alarm.channel, alarm.area) == (Alarm.Kind.SOS, "web", world.beni)
    emails = OutboundEmail.objects.filter(purpose=Purpose.ALERT)
    assert {email.to for email in emails} == {"manager@example.org", "security@example.org"}
    assert all("SOS" in email.subject for email in emails)


def test_a_repeat_while_open_counts_on_the_same_alarm_and_tells_again(cla):
    checkins.raise_alarm(cla, Alarm.Kind.SOS, channel=Channel.WEB)
    checkins.raise_alarm(cla, Alarm.Kind.SOS, channel=Channel.SMS)
    alarm = Alarm.objects.get()
    assert alarm.signals == 2 and len(alarm.steps) == 2
    assert OutboundEmail.objects.filter(purpose=Purpose.ALERT).count() == 4


def test_a_check_in_does_not_close_an_sos(cla):
    checkins.raise_alarm(cla, Alarm.Kind.SOS, channel=Channel.WEB)
    checkins.check_in(cla, channel=Channel.WEB)
    assert Alarm.objects.get().is_open


def test_closing_needs_a_note_and_happens_once(client, world, cla):
    alarm = checkins.raise_alarm(cla, Alarm.Kind.SOS, channel=Channel.WEB)
    client.force_login(world.users["security"])
    client.post(f"/safety/alarms/{alarm.pk}/close/", {"note": ""})
    assert Alarm.objects.get().is_open
    client.post(f"/safety/alarms/{alarm.pk}/close/", {"note": "Reached by radio, safe."})
    alarm.refresh_from_db()
    assert not alarm.is_open and alarm.closed_by == world.users["security"]
    with pytest.raises(ValidationError):
        checkins.close_alarm(alarm, by=world.users["manager"], note=" ")
    assert checkins.close_alarm(alarm, by=world.users["manager"], note="again") is False


def test_a_cla_not_deployed_gets_a_clear_error_and_nothing_is_saved(client, world, safety):
    profile = world.users["cla"].cla_profile
    profile.base = None
    profile.save()
    profile.deployments.all().delete()
    client.force_login(world.users["cla"])
    response = client.post("/safety/check-in/", {}, follow=True)
    assert "not deployed" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"place": "Nowhere-ville"}, "No place of your mission"),
        ({"latitude": "0.5"}, "both latitude and longitude"),
        ({"latitude": "95", "longitude": "29"}, "less than or equal to 90"),
    ],
)
def test_bad_location_on_the_web_form_is_refused_clearly(client, world, cla, data, problem):
    client.force_login(world.users["cla"])
    response = client.post("/safety/check-in/", data, follow=True)
    assert problem in response.content.decode()
    assert not cla.check_ins.exists()


def test_the_home_page_offers_the_check_in_to_a_cla_only(client, world, cla):
    client.force_login(world.users["cla"])
    assert "I am safe" in client.get("/").content.decode()
    client.force_login(world.users["ewo"])
    assert "I am safe" not in client.get("/").content.decode()
    client.force_login(world.users["cla"])
    where = {"place": "CD61010101001", "latitude": "0.49", "longitude": "29.47"}
    client.post("/safety/check-in/", where)
    check = cla.check_ins.get()
    assert (check.area, check.latitude, check.longitude) == (world.beni, 0.49, 29.47)
