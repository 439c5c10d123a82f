"""Who sees a CLA's check-ins, locations and SOS: their managers, the mission's security
officers and administrators; nobody else (not EWOs, duty officers, analysts, leadership,
other CLAs)."""

import pytest

from kiungo.lib.testing import check_matrix
from kiungo.people.access import visible_alarms, visible_check_ins, visible_safety_clas
from kiungo.safety import checkins
from kiungo.safety.models import Alarm, Channel

SEE = {"administrator", "manager"}


@pytest.fixture
def signals(world, safety):
    cla = world.users["cla"].cla_profile
    checkins.check_in(cla, channel=Channel.WEB, area=world.beni)
    alarm = checkins.raise_alarm(cla, Alarm.Kind.SOS, channel=Channel.WEB)
    return cla, alarm


def test_the_safety_overview(client, world, signals):
    check_matrix(client, world, "/safety/", SEE)


def test_a_cla_safety_page(client, world, signals):
    cla, _alarm = signals
    check_matrix(client, world, f"/safety/clas/{cla.pk}/", SEE)


def test_the_security_officer_and_the_regions_other_manager_see_it(client, world, signals):
    cla, _alarm = signals
    for name in ("security", "regional"):
        client.force_login(world.users[name])
        assert client.get("/safety/").status_code == 200
        page = client.get(f"/safety/clas/{cla.pk}/")
        assert page.status_code == 200 and "Beni" in page.content.decode()


def test_querysets_follow_the_same_rules(world, signals):
    _cla, alarm = signals
    for name in ("administrator", "manager", "security", "regional"):
        user = world.users[name]
        assert visible_check_ins(user).count() == 1, name
        assert list(visible_alarms(user)) == [alarm], name
    for name in ("leadership", "analyst", "ewo", "duty", "cla", "cla_bunia", "other_ewo"):
        user = world.users[name]
        assert not visible_safety_clas(user).exists(), name
        assert not visible_check_ins(user).exists(), name
        assert not visible_alarms(user).exists(), name


def test_closing_an_alarm_is_for_those_who_see_it(client, world, signals):
    _cla, alarm = signals
    for name in ("leadership", "ewo", "duty", "cla", "cla_bunia", "analyst", "outsider"):
        client.force_login(world.users[name])
        response = client.post(f"/safety/alarms/{alarm.pk}/close/", {"note": "x"})
        assert response.status_code in (403, 404), name
    alarm.refresh_from_db()
    assert alarm.is_open


def test_only_a_cla_can_check_in_or_send_an_sos_on_the_web(client, world, safety):
    for name in ("manager", "ewo", "administrator"):
        client.force_login(world.users[name])
        assert client.post("/safety/check-in/").status_code == 403
        assert client.post("/safety/sos/").status_code == 403
    client.force_login(world.users["cla"])
    assert client.post("/safety/check-in/").status_code == 302


def test_the_overview_puts_open_sos_on_top_and_overdue_clas_first(client, world, signals, clock):
    from datetime import timedelta

    from kiungo.safety.escalation import escalate_missed_check_ins

    escalate_missed_check_ins()  # cla_bunia gets a status: due 12 hours from now
    clock.shift(timedelta(hours=13))
    checkins.check_in(world.users["cla"].cla_profile, channel=Channel.WEB)  # on time again
    client.force_login(world.users["manager"])
    page = client.get("/safety/").content.decode()
    alarms, check_ins = page.split("<h2>Check-ins</h2>")
    assert "SOS" in alarms and "Amani Kahindo" in alarms
    rows = check_ins.split("<tr")[2:]  # after the header row
    assert "T-002" in rows[0] and "overdue" in rows[0]
    assert "Amani Kahindo" in rows[1] and "overdue" not in rows[1]
