"""The response pages: actions on an incident's page, its timeline, the board's deadlines and
the unit's queue. The rules themselves are kiungo.alerts.response's; here, that the web reaches
them for the right people, records who acted through the web, and shows what happened."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from kiungo.alerts import escalation, response
from kiungo.alerts.intake import log_alert
from kiungo.alerts.models import AlertEvent, Incident
from kiungo.lib.testing import ROLE_USERS, check_matrix
from kiungo.people.models import Role, RoleAssignment, User

RESPONDERS = {"administrator", "ewo", "duty"}  # for an incident at Beni or Butembo
TRIAGE = {"administrator", "ewo"}
QUEUE_USERS = RESPONDERS | {"other_ewo"}  # an officer of another mission has an (empty) queue
DUTY_PHONE = "+243991234567"  # company_beni's duty phone in the test world


def level(world, code):
    return world.mission.levels.get(code=code)


def reported(world, *, area=None, threat="attack", code="high", ago=timedelta(0), user="ewo"):
    """A new incident from one alert logged `ago` before now (routed by intake)."""
    alert, _created = log_alert(
        mission=world.mission,
        user=world.users[user],
        text="ALERTE attaque",
        source="call",
        area=area or world.beni,
        threat=threat,
        level=level(world, code),
        occurred_at=timezone.now() - ago,
    )
    return Incident.objects.select_related("unit", "level").get(pk=alert.incident_id)


def fresh(world, **kwargs):
    """An open incident of its own: the others are set aside first, so that the new alert
    does not corroborate one of them."""
    Incident.objects.filter(status=Incident.Status.OPEN).update(status=Incident.Status.CLOSED)
    return reported(world, **kwargs)


def act(client, world, name, incident, action, **data):
    client.force_login(world.users[name])
    return client.post(f"/incidents/{incident.reference}/{action}", data)


def html_of(client, world, name, url, **params):
    client.force_login(world.users[name])
    answer = client.get(url, params)
    assert answer.status_code == 200, answer.status_code
    return answer.content.decode()


def events(incident, kind):
    return list(AlertEvent.objects.filter(incident=incident, kind=kind).order_by("pk"))


def row_of(html, reference):
    row = html[html.find(reference) :]
    return row[: row.find("</tr>")]


# Permissions.


def test_queue_and_overdue_board_matrix(client, world):
    reported(world, ago=timedelta(hours=2))
    check_matrix(client, world, "/queue/", QUEUE_USERS)
    viewers = set(ROLE_USERS) - {"outsider"}
    check_matrix(client, world, "/incidents/?overdue=1", viewers)
    check_matrix(client, world, "/incidents/board-stamp?overdue=1", viewers)


def test_detail_page_of_a_closed_incident_matrix(client, world):
    incident = reported(world)
    response.close(incident, "deterred", response.Actor(user=world.users["ewo"]))
    viewers = {"administrator", "leadership", "analyst", "ewo", "manager", "duty", "cla"}
    check_matrix(client, world, f"/incidents/{incident.reference}/", viewers)


ACTIONS = [
    ("acknowledge", RESPONDERS, lambda world: {}),
    ("respond", RESPONDERS, lambda world: {"response": "patrol_sent"}),
    ("close", RESPONDERS, lambda world: {"outcome": "deterred"}),
    ("dismiss", TRIAGE, lambda world: {"reason": "A rumour"}),
    ("verify", TRIAGE, lambda world: {}),
    ("relevel", TRIAGE, lambda world: {"level": level(world, "critical").pk, "reason": "Dead"}),
    ("reassign", TRIAGE, lambda world: {"unit": world.company_butembo.pk, "reason": "Closer"}),
]


@pytest.mark.parametrize(("action", "allowed", "data"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_action_matrix(client, world, action, allowed, data):
    """Each user acts on a fresh open incident: the allowed are sent back to its page, the
    others get 403 or 404 and nothing is recorded; anonymous visitors are sent to log in."""
    wrong = []
    incident = fresh(world)
    client.logout()
    anonymous = client.post(f"/incidents/{incident.reference}/{action}", data(world))
    if anonymous.status_code != 302 or "/accounts/login/" not in anonymous["Location"]:
        wrong.append(f"anonymous: {anonymous.status_code}")
    for name in ROLE_USERS:
        incident = fresh(world)
        before = AlertEvent.objects.filter(incident=incident).count()
        answer = act(client, world, name, incident, action, **data(world))
        after = AlertEvent.objects.filter(incident=incident).count()
        if name in allowed:
            ok = answer.status_code == 302 and answer["Location"] == (
                f"/incidents/{incident.reference}/"
            )
            ok = ok and after > before
        else:
            ok = answer.status_code in (403, 404) and after == before
        if not ok:
            wrong.append(f"{name}: {answer.status_code} ({after - before} events)")
    assert not wrong, f"permission matrix for {action}:\n" + "\n".join(wrong)


def test_actions_refuse_get(client, world):
    incident = reported(world)
    client.force_login(world.users["ewo"])
    for action, _allowed, _data in ACTIONS:
        assert client.get(f"/incidents/{incident.reference}/{action}").status_code == 405


def test_a_duty_officer_of_another_unit_cannot_act(client, world):
    incident = reported(world)
    other = User.objects.create_user(username="duty_b", password="x")
    RoleAssignment.objects.create(
        user=other,
        role=Role.UNIT_DUTY_OFFICER,
        mission=world.mission,
        scope="unit",
        unit=world.battalion_b,
    )
    client.force_login(other)
    assert client.post(f"/incidents/{incident.reference}/acknowledge").status_code == 404
    assert client.get(f"/incidents/{incident.reference}/").status_code == 404
    incident.refresh_from_db()
    assert incident.acknowledged_at is None
    # ...while on its own unit's incident it may.
    bunia = reported(world, area=world.bunia)
    answer = client.post(f"/incidents/{bunia.reference}/acknowledge")
    assert answer.status_code == 302
    bunia.refresh_from_db()
    assert bunia.acknowledged_by_unit == world.battalion_b


def test_forms_are_shown_only_to_those_who_may_use_them(client, world):
    incident = reported(world)
    url = f"/incidents/{incident.reference}/"
    unit_actions = ["acknowledge", "respond", "close"]
    cell_actions = ["verify", "relevel", "reassign", "dismiss"]
    for name, unit, cell in [
        ("ewo", True, True),
        ("administrator", True, True),
        ("duty", True, False),
        ("analyst", False, False),
        ("cla", False, False),
    ]:
        html = html_of(client, world, name, url)
        for action in unit_actions:
            assert (f'action="{url}{action}"' in html) is unit, (name, action)
        for action in cell_actions:
            assert (f'action="{url}{action}"' in html) is cell, (name, action)
    response.close(incident, "false_alarm", response.Actor(user=world.users["ewo"]))
    html = html_of(client, world, "ewo", url)
    for action in unit_actions + cell_actions:
        assert f'action="{url}{action}"' not in html, action
    assert "False alarm" in html


# Each action through the web.


def test_acknowledge_records_the_duty_officers_unit(client, world):
    incident = reported(world)
    answer = act(client, world, "duty", incident, "acknowledge")
    assert answer.status_code == 302
    incident.refresh_from_db()
    assert incident.acknowledged_at is not None
    assert incident.acknowledged_by_unit == world.battalion_a  # the duty officer's battalion
    (event,) = events(incident, "acknowledged")
    assert event.channel == "web" and event.actor == world.users["duty"]
    assert event.details["unit"] == world.battalion_a.code
    html = client.get(answer["Location"]).content.decode()
    assert f"Incident {incident.reference} acknowledged." in html
    assert f'action="/incidents/{incident.reference}/acknowledge"' not in html
    # A second acknowledgement changes nothing and says so.
    answer = act(client, world, "duty", incident, "acknowledge")
    assert answer.status_code == 302
    assert "was already acknowledged" in client.get(answer["Location"]).content.decode()
    assert len(events(incident, "acknowledged")) == 1


def test_an_early_warning_officer_acknowledges_without_a_unit_of_their_own(client, world):
    incident = reported(world)
    assert act(client, world, "ewo", incident, "acknowledge").status_code == 302
    (event,) = events(incident, "acknowledged")
    assert event.actor == world.users["ewo"] and "unit" not in event.details


def test_respond_and_the_reason_no_action_needs(client, world):
    incident = reported(world)
    answer = act(client, world, "duty", incident, "respond", response="no_action", reason="  ")
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "Say why no action is taken." in html
    incident.refresh_from_db()
    assert incident.responded_at is None and incident.acknowledged_at is None
    assert not events(incident, "responded")

    answer = act(client, world, "duty", incident, "respond", response="patrol_sent")
    assert answer.status_code == 302
    incident.refresh_from_db()
    assert incident.response == "patrol_sent" and incident.acknowledged_at is not None
    (event,) = events(incident, "responded")
    assert event.channel == "web" and event.actor == world.users["duty"]
    assert event.details["response"] == "patrol_sent" and event.details["acknowledged"]
    html = client.get(answer["Location"]).content.decode()
    assert f"Response recorded for {incident.reference}: Patrol sent." in html

    answer = act(
        client, world, "duty", incident, "respond", response="no_action", reason="Road cut"
    )
    assert answer.status_code == 302
    html = client.get(answer["Location"]).content.decode()
    assert "No action" in html and "reason: Road cut" in html


def test_a_bad_choice_is_refused_with_400(client, world):
    incident = reported(world)
    answer = act(client, world, "duty", incident, "respond", response="pray")
    assert answer.status_code == 400
    assert "Select a valid choice" in answer.content.decode()
    answer = act(client, world, "duty", incident, "close", outcome="")
    assert answer.status_code == 400
    incident.refresh_from_db()
    assert incident.status == "open" and incident.response == ""


def test_close_then_nothing_more(client, world):
    incident = reported(world)
    answer = act(
        client, world, "duty", incident, "close", outcome="nothing_found", note="Quiet village"
    )
    assert answer.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "closed" and incident.outcome == "nothing_found"
    (event,) = events(incident, "closed")
    assert event.channel == "web" and event.details["note"] == "Quiet village"
    count = AlertEvent.objects.filter(incident=incident).count()
    for action, _allowed, data in ACTIONS:
        answer = act(client, world, "ewo", incident, action, **data(world))
        assert answer.status_code == 400, action
        assert "nothing more can be recorded" in answer.content.decode(), action
    assert AlertEvent.objects.filter(incident=incident).count() == count
    incident.refresh_from_db()
    assert incident.unit == world.company_beni and incident.level.code == "high"
    assert incident.acknowledged_at is None and incident.verified_at is None


def test_dismiss_needs_a_reason(client, world):
    incident = reported(world)
    answer = act(client, world, "ewo", incident, "dismiss", reason="")
    assert answer.status_code == 400
    assert "Say why the incident is dismissed." in answer.content.decode()
    incident.refresh_from_db()
    assert incident.status == "open"
    answer = act(client, world, "ewo", incident, "dismiss", reason="Same event as K2")
    assert answer.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "dismissed"
    (event,) = events(incident, "dismissed")
    assert event.details["reason"] == "Same event as K2" and event.channel == "web"


def test_verify(client, world):
    incident = reported(world)
    answer = act(client, world, "ewo", incident, "verify", note="Called the chief")
    assert answer.status_code == 302
    incident.refresh_from_db()
    assert incident.verified_at is not None
    (event,) = events(incident, "verified")
    assert event.actor == world.users["ewo"] and event.details["note"] == "Called the chief"
    answer = act(client, world, "ewo", incident, "verify")
    assert "was already verified" in client.get(answer["Location"]).content.decode()


def test_relevel(client, world):
    incident = reported(world)
    critical = level(world, "critical")
    answer = act(client, world, "ewo", incident, "relevel", level=critical.pk, reason="")
    assert answer.status_code == 400
    assert "Say why the level changes." in answer.content.decode()
    foreign = world.other_mission.levels.get(code="critical")
    answer = act(client, world, "ewo", incident, "relevel", level=foreign.pk, reason="x")
    assert answer.status_code == 400
    incident.refresh_from_db()
    assert incident.level.code == "high"

    answer = act(client, world, "ewo", incident, "relevel", level=critical.pk, reason="Deaths")
    assert answer.status_code == 302
    incident.refresh_from_db()
    assert incident.level == critical
    assert incident.acknowledge_due_at == incident.first_reported_at + critical.acknowledge_within
    (event,) = events(incident, "relevelled")
    assert event.details["previous"] == "high" and event.details["level"] == "critical"
    html = client.get(answer["Location"]).content.decode()
    assert "level: high → critical" in html and "reason: Deaths" in html


def test_reassign(client, world):
    incident = reported(world)
    answer = act(
        client, world, "ewo", incident, "reassign", unit=world.company_butembo.pk, reason=""
    )
    assert answer.status_code == 400
    assert "Say why the incident goes to another unit." in answer.content.decode()
    answer = act(  # the unit it already has is not offered
        client, world, "ewo", incident, "reassign", unit=world.company_beni.pk, reason="x"
    )
    assert answer.status_code == 400
    incident.refresh_from_db()
    assert incident.unit == world.company_beni

    answer = act(
        client, world, "ewo", incident, "reassign", unit=world.company_butembo.pk, reason="Nearer"
    )
    assert answer.status_code == 302
    incident.refresh_from_db()
    assert incident.unit == world.company_butembo
    (event,) = events(incident, "reassigned")
    assert event.actor == world.users["ewo"] and event.channel == "web"
    assert event.details["reason"] == "Nearer"
    html = client.get(answer["Location"]).content.decode()
    assert f"Incident {incident.reference} reassigned to indbatt-b." in html
    assert "from indbatt-a to indbatt-b" in html and "reason: Nearer" in html


# The page: the response panel and the timeline.


def test_the_response_panel_and_timeline_read_well(client, world):
    incident = reported(world, code="high", ago=timedelta(minutes=90))
    # The unit's deadline to acknowledge passed half an hour ago: its battalion was told.
    escalation.escalate_due()
    sms = response.Actor(unit=world.company_beni, channel="sms", phone="indbatt-a Ops room")
    response.acknowledge(incident, sms)
    response.respond(
        incident, "no_action", response.Actor(user=world.users["duty"]), reason="Road cut"
    )
    response.verify(incident, response.Actor(user=world.users["ewo"]), note="Chief called")
    response.close(incident, "too_late", response.Actor(user=world.users["ewo"], channel="api"))
    html = html_of(client, world, "ewo", f"/incidents/{incident.reference}/")
    panel = html[html.find('class="response"') : html.find("</section>")]
    assert "Arrived too late" in panel and "No action" in panel
    assert "by indbatt-a" in panel  # the unit that acknowledged
    assert "1 step taken" in panel

    history = html[html.find("History") :]
    for text in [
        "Escalated",
        "step 1: Battalion (indbatt)",
        "missed the deadline to acknowledge",
        "Acknowledged",
        "after the deadline",
        "duty phone indbatt-a Ops room",
        "SMS",
        "Response decided",
        "reason: Road cut",
        "Verified",
        "note: Chief called",
        "Closed",
        "outcome: Arrived too late",
        "API",
    ]:
        assert text in history, text
    assert DUTY_PHONE not in html and DUTY_PHONE[4:] not in html
    # Times in the mission's local time (UTC+2), as the rest of the page.
    local = timezone.localtime(incident.first_reported_at, timezone.get_fixed_timezone(120))
    assert local.strftime("%Y-%m-%d %H:%M") in html


def test_timeline_of_a_relevel_shows_the_new_deadlines_in_local_time(client, world):
    incident = reported(world, code="low")
    critical = level(world, "critical")
    response.relevel(incident, critical, response.Actor(user=world.users["ewo"]), reason="x")
    incident.refresh_from_db()
    html = html_of(client, world, "ewo", f"/incidents/{incident.reference}/")
    due = timezone.localtime(incident.acknowledge_due_at, timezone.get_fixed_timezone(120))
    assert f"acknowledge by {due:%Y-%m-%d %H:%M}" in html


# The board.


def test_the_board_marks_overdue_incidents_and_not_acknowledged_ones(client, world):
    late = reported(world, ago=timedelta(hours=2))  # high: acknowledge within one hour
    seen = reported(world, area=world.butembo, ago=timedelta(hours=2))
    calm = reported(world, threat="clash")
    response.acknowledge(seen, response.Actor(user=world.users["duty"]))
    Incident.objects.filter(pk=calm.pk).update(escalations=2)
    html = html_of(client, world, "ewo", "/incidents/")
    row = row_of(html, late.reference)
    assert "OVERDUE" in row and "overdue-mark" in row and "new" in row
    assert "acknowledge by" in row
    row = row_of(html, seen.reference)
    assert "OVERDUE" not in row and "acknowledged" in row and "decide a response by" in row
    row = row_of(html, calm.reference)
    assert "OVERDUE" not in row and "escalated ×2" in row
    assert "Indbatt A" in row  # the responsible unit

    html = html_of(client, world, "ewo", "/incidents/", overdue="1")
    assert late.reference in html
    assert seen.reference not in html and calm.reference not in html
    assert 'name="overdue"' in html and "overdue=1" in html  # kept in the refresh URLs


def test_the_board_shows_a_decided_response(client, world):
    incident = reported(world)
    response.respond(incident, "patrol_sent", response.Actor(user=world.users["duty"]))
    row = row_of(html_of(client, world, "ewo", "/incidents/"), incident.reference)
    assert "response decided:" in row and "Patrol sent" in row


def stamp(client):
    return json.loads(client.get("/incidents/board-stamp").content)["stamp"]


def test_the_stamp_changes_with_each_response(client, world):
    incident = reported(world, ago=timedelta(minutes=50))
    other = reported(world, area=world.butembo, ago=timedelta(minutes=90))
    client.force_login(world.users["ewo"])
    before = stamp(client)
    assert stamp(client) == before
    assert act(client, world, "duty", incident, "acknowledge").status_code == 302
    client.force_login(world.users["ewo"])
    after = stamp(client)
    assert after != before

    response.respond(incident, "patrol_sent", response.Actor(user=world.users["duty"]))
    assert stamp(client) != after
    after = stamp(client)
    response.respond(incident, "referred", response.Actor(user=world.users["duty"]))
    assert stamp(client) != after  # the response changed, no time did
    after = stamp(client)

    assert escalation.escalate_due() == 1  # `other` missed its deadline half an hour ago
    assert stamp(client) != after
    after = stamp(client)

    response.close(other, "deterred", response.Actor(user=world.users["ewo"]))
    assert stamp(client) != after
    # Closing also changes the board of every incident (status=all).
    client.get("/incidents/board-stamp", {"status": "all"})
    everything = json.loads(client.get("/incidents/board-stamp", {"status": "all"}).content)
    response.close(incident, "deterred", response.Actor(user=world.users["ewo"]))
    again = json.loads(client.get("/incidents/board-stamp", {"status": "all"}).content)
    assert again["stamp"] != everything["stamp"]


# The unit's queue.


def test_the_queue_lists_what_the_duty_officer_must_do(client, world):
    overdue = reported(world, ago=timedelta(hours=2))
    recent = reported(world, threat="clash", code="low")
    to_answer = reported(world, area=world.butembo)
    under_way = reported(world, threat="looting")
    no_action = reported(world, threat="abduction")
    bunia = reported(world, area=world.bunia)  # another battalion's
    closed = reported(world, threat="explosion")
    duty = response.Actor(user=world.users["duty"])
    response.acknowledge(to_answer, duty)
    response.respond(under_way, "patrol_sent", duty)
    response.respond(no_action, "no_action", duty, reason="Too far")
    response.close(closed, "deterred", duty)

    html = html_of(client, world, "duty", "/queue/")
    first = html[html.find("To acknowledge") : html.find("To answer")]
    second = html[html.find("To answer") : html.find("Response decided, to close")]
    third = html[html.find("Response decided, to close") :]
    assert first.find(overdue.reference) < first.find(recent.reference)  # overdue first
    assert first.find(overdue.reference) != -1
    assert "OVERDUE" in row_of(first, overdue.reference)
    assert to_answer.reference in second and to_answer.reference not in first
    assert under_way.reference in third and "Patrol sent" in third
    assert no_action.reference in third  # decided, still to close
    for absent in (bunia, closed):
        assert absent.reference not in html
    assert html.count('name="next" value="/queue/"') == 2  # one Acknowledge per row to do

    client.force_login(world.users["cla_bunia"])  # no RESPOND_ALERTS
    assert client.get("/queue/").status_code == 403


def test_acknowledge_from_the_queue_goes_back_to_it(client, world):
    incident = reported(world)
    answer = act(client, world, "duty", incident, "acknowledge", next="/queue/")
    assert answer.status_code == 302 and answer["Location"] == "/queue/"
    html = client.get("/queue/").content.decode()
    assert f"Incident {incident.reference} acknowledged." in html
    other = reported(world, threat="clash")
    answer = act(client, world, "duty", other, "acknowledge", next="https://evil.example/")
    assert answer["Location"] == f"/incidents/{other.reference}/"  # not off-site


def test_navigation_links(client, world):
    html = html_of(client, world, "duty", "/")
    assert 'href="/queue/"' in html and 'href="/outbox/"' not in html
    html = html_of(client, world, "ewo", "/")
    assert 'href="/queue/"' in html and 'href="/outbox/"' in html
    html = html_of(client, world, "analyst", "/")
    assert 'href="/queue/"' not in html and 'href="/outbox/"' not in html


def test_the_board_offers_acknowledge_where_the_user_may_use_it(client, world):
    beni = reported(world)
    bunia = reported(world, area=world.bunia)  # another battalion's
    done = reported(world, threat="looting")
    response.acknowledge(done, response.Actor(user=world.users["ewo"]))
    html = html_of(client, world, "duty", "/incidents/")
    button = f'action="/incidents/{beni.reference}/acknowledge"'
    assert button in row_of(html, beni.reference)
    assert "/acknowledge" not in row_of(html, done.reference)
    assert bunia.reference not in html  # not even visible to this duty officer
    assert "/acknowledge" not in html_of(client, world, "analyst", "/incidents/")
    client.force_login(world.users["duty"])
    answer = client.post(f"/incidents/{beni.reference}/acknowledge", {"next": "/incidents/"})
    assert (answer.status_code, answer["Location"]) == (302, "/incidents/")
    beni.refresh_from_db()
    assert beni.acknowledged_at is not None
