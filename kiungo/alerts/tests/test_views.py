"""Alert and incident pages: the permission matrix of every view, then what each one does."""

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kiungo.alerts import intake
from kiungo.alerts.intake import IncomingSMS, log_alert, receive_sms
from kiungo.alerts.models import Alert, AlertEvent, Incident
from kiungo.geography.models import Area
from kiungo.lib.testing import check_matrix
from kiungo.messaging.models import Channel, InboundMessage
from kiungo.network.models import Contact
from kiungo.people.models import Role, RoleAssignment

MISSION_WIDE = {"administrator", "leadership", "analyst", "ewo"}
BENI_VIEWERS = MISSION_WIDE | {"manager", "duty", "cla"}
BUNIA_VIEWERS = MISSION_WIDE | {"cla_bunia"}
EVERY_VIEWER = BENI_VIEWERS | {"cla_bunia", "other_ewo"}
LOGGERS = {"administrator", "ewo", "manager", "cla", "cla_bunia", "other_ewo"}
TRIAGE = {"administrator", "ewo"}

NUMBER = "+243991112233"  # a contact's phone: must never appear on a page
NATIONAL = "991112233"


def logged(world, text="ALERTE Beni attaque", *, user="ewo", area=None, **fields):
    fields.setdefault("threat", "attack")
    alert, _created = log_alert(
        mission=world.mission,
        user=world.users[user],
        text=text,
        source="call",
        area=area or world.beni,
        **fields,
    )
    alert.refresh_from_db()
    return alert


def level(world, code):
    return world.mission.levels.get(code=code)


def page(client, world, name, url, **params):
    client.force_login(world.users[name])
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# The permission matrix.


def test_board_and_stamp_matrix(client, world):
    logged(world)
    check_matrix(client, world, "/incidents/", EVERY_VIEWER)
    check_matrix(client, world, "/incidents/board-stamp", EVERY_VIEWER)
    check_matrix(client, world, "/incidents/?fragment=1", EVERY_VIEWER)


def test_detail_pages_matrix(client, world):
    beni = logged(world)
    bunia = logged(world, "ALERTE Bunia attaque", area=world.bunia)
    check_matrix(client, world, f"/incidents/{beni.incident.reference}/", BENI_VIEWERS)
    check_matrix(client, world, f"/incidents/{bunia.incident.reference}/", BUNIA_VIEWERS)
    check_matrix(client, world, f"/alerts/{beni.reference}/", BENI_VIEWERS)
    check_matrix(client, world, f"/alerts/{bunia.reference}/", BUNIA_VIEWERS)
    check_matrix(client, world, "/incidents/KNOPE0/", set())
    check_matrix(client, world, "/alerts/ANOPE00/", set())


def test_an_alert_is_visible_to_the_cla_who_logged_it_anywhere(client, world):
    alert = logged(world, "ALERTE Bunia attaque", user="cla", area=world.bunia)
    check_matrix(client, world, f"/alerts/{alert.reference}/", BUNIA_VIEWERS | {"cla"})
    # ...but not the incident: that follows the place.
    check_matrix(client, world, f"/incidents/{alert.incident.reference}/", BUNIA_VIEWERS)


def test_log_form_and_inbound_matrix(client, world):
    check_matrix(client, world, "/alerts/new/", LOGGERS)
    check_matrix(client, world, "/inbound/", TRIAGE | {"other_ewo"})
    check_matrix(client, world, "/inbound/?show=recent", TRIAGE | {"other_ewo"})


def test_triage_endpoints_matrix(client, world):
    """An empty POST is re-shown with errors (200) to triage users; others get 403/404."""
    beni = logged(world)
    bunia = logged(world, "ALERTE Bunia attaque", area=world.bunia)
    for alert in (beni, bunia):
        incident = alert.incident.reference
        check_matrix(client, world, f"/incidents/{incident}/merge", TRIAGE, method="post")
        check_matrix(client, world, f"/incidents/{incident}/split", TRIAGE, method="post")
        check_matrix(client, world, f"/alerts/{alert.reference}/correct", TRIAGE, method="post")


def test_triage_endpoints_refuse_get(client, world):
    alert = logged(world)
    client.force_login(world.users["ewo"])
    assert client.get(f"/incidents/{alert.incident.reference}/merge").status_code == 405
    assert client.get(f"/alerts/{alert.reference}/correct").status_code == 405


def test_forms_are_shown_only_to_those_who_may_use_them(client, world):
    alert = logged(world)
    logged(world, user="cla")  # a second alert, so that the split form has something to split
    incident_url = f"/incidents/{alert.incident.reference}/"
    for name, shown in [("ewo", True), ("administrator", True), ("analyst", False), ("cla", False)]:
        html = page(client, world, name, incident_url)
        assert ('action="' + incident_url + 'merge"' in html) is shown, name
        assert ('action="' + incident_url + 'split"' in html) is shown, name
        html = page(client, world, name, f"/alerts/{alert.reference}/")
        assert (f'action="/alerts/{alert.reference}/correct"' in html) is shown, name


def test_navigation_links(client, world):
    html = page(client, world, "cla", "/")
    assert 'href="/incidents/"' in html and 'href="/alerts/new/"' in html
    html = page(client, world, "duty", "/")
    assert 'href="/incidents/"' in html and 'href="/alerts/new/"' not in html
    html = page(client, world, "outsider", "/")
    assert 'href="/incidents/"' not in html


# The board.

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def board_world(world):
    """Incidents of several levels and ages; returns their references by name."""
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        refs = {}
        refs["old_high"] = logged(world, occurred_at=T0, level=level(world, "high")).incident
        refs["new_high"] = logged(
            world, threat="clash", occurred_at=T0 + timedelta(hours=1), level=level(world, "high")
        ).incident
        refs["critical"] = logged(
            world,
            threat="abduction",
            occurred_at=T0 + timedelta(hours=2),
            level=level(world, "critical"),
        ).incident
        refs["bunia"] = logged(
            world, area=world.bunia, occurred_at=T0, level=level(world, "medium")
        ).incident
        closed = logged(world, area=world.butembo, threat="looting", occurred_at=T0).incident
        Incident.objects.filter(pk=closed.pk).update(status=Incident.Status.CLOSED)
        refs["closed"] = closed
        # A second source corroborates the old one.
        logged(
            world, user="cla", occurred_at=T0 + timedelta(minutes=30), level=level(world, "high")
        )
    return {name: incident.reference for name, incident in refs.items()}


def positions(html, refs):
    return [html.find(ref) for ref in refs]


def test_board_orders_by_level_then_age_and_shows_each_row(client, world, board_world):
    r = board_world
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        html = page(client, world, "ewo", "/incidents/")
    found = positions(html, [r["critical"], r["old_high"], r["new_high"], r["bunia"]])
    assert -1 not in found and found == sorted(found)
    assert r["closed"] not in html  # open ones only by default
    row = html[html.find(r["old_high"]) :]
    row = row[: row.find("</tr>")]
    assert "rank-2" in row and "High" in row
    assert "Attack on civilians" in row
    assert "Beni" in row and "Nord-Kivu" in row
    assert "180 min" not in row and "3 h" in row
    assert "2 alerts · 2 sources" in row
    assert "4 incidents" in html


def test_board_is_limited_to_the_users_scope(client, world, board_world):
    html = page(client, world, "cla_bunia", "/incidents/")
    assert board_world["bunia"] in html and board_world["critical"] not in html
    html = page(client, world, "other_ewo", "/incidents/")
    assert "No incident matches." in html


def test_board_marks_incidents_needing_review(client, world, board_world):
    alert = Alert.objects.filter(incident__reference=board_world["bunia"]).get()
    Alert.objects.filter(pk=alert.pk).update(needs_review=True)
    html = page(client, world, "ewo", "/incidents/")
    row = html[html.find(board_world["bunia"]) :]
    assert "needs review" in row[: row.find("</tr>")]
    row = html[html.find(board_world["critical"]) :]
    assert "needs review" not in row[: row.find("</tr>")]


@pytest.mark.parametrize(
    ("params", "shown", "hidden"),
    [
        ({"area": "CD54"}, ["bunia"], ["critical", "old_high"]),
        ({"area": "nord-kivu"}, ["critical", "old_high"], ["bunia"]),
        ({"area": "Beni"}, ["critical", "old_high"], ["bunia"]),
        ({"level": "critical"}, ["critical"], ["old_high", "bunia"]),
        ({"threat": "clash"}, ["new_high"], ["old_high", "critical"]),
        ({"status": "closed"}, ["closed"], ["old_high"]),
        ({"status": "all"}, ["closed", "old_high", "bunia"], []),
    ],
)
def test_board_filters(client, world, board_world, params, shown, hidden):
    html = page(client, world, "ewo", "/incidents/", **params)
    for name in shown:
        assert board_world[name] in html, name
    for name in hidden:
        assert board_world[name] not in html, name


def test_board_filter_errors(client, world, board_world):
    html = page(client, world, "ewo", "/incidents/", area="Atlantis")
    assert "No place with this P-code or name." in html
    assert "No incident matches." in html
    html = page(client, world, "ewo", "/incidents/", level="apocalyptic")
    assert "Select a valid choice" in html
    assert board_world["critical"] in html  # a bad filter is reported, the others still apply


def test_board_mission_filter_for_users_of_several_missions(client, world, board_world):
    RoleAssignment.objects.create(
        user=world.users["administrator"],
        role=Role.ANALYST,
        mission=world.other_mission,
        scope="mission",
    )
    html = page(client, world, "administrator", "/incidents/")
    assert 'name="mission"' in html and "TESTMISSION" in html
    html = page(client, world, "administrator", "/incidents/", mission=world.other_mission.pk)
    assert "No incident matches." in html
    html = page(client, world, "ewo", "/incidents/")
    assert 'name="mission"' not in html


def test_fragment_is_the_table_only_and_keeps_the_filters(client, world, board_world):
    html = page(client, world, "ewo", "/incidents/", fragment="1", area="CD54")
    assert html.lstrip().startswith('<div id="board"')
    assert "<html" not in html and 'class="filters"' not in html
    assert board_world["bunia"] in html and board_world["critical"] not in html
    assert 'data-stamp-url="/incidents/board-stamp?area=CD54"' in html
    assert "fragment=1" in html
    full = page(client, world, "ewo", "/incidents/")
    assert "kiungo/board.js" in full
    assert '<noscript><meta http-equiv="refresh" content="30"></noscript>' in full


def stamp(client, **params):
    response = client.get("/incidents/board-stamp", params)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    return json.loads(response.content)["stamp"]


def test_stamp_changes_when_the_board_would(client, world, board_world):
    client.force_login(world.users["ewo"])
    everything, bunia = stamp(client), stamp(client, area="CD54")
    assert re.fullmatch(r"\d+-\d+-\d+-\d+", everything)
    assert stamp(client) == everything  # stable while nothing changes
    html = page(client, world, "ewo", "/incidents/")
    assert f'data-stamp="{everything}"' in html

    alert = logged(world, threat="explosion")  # a new incident at Beni
    assert stamp(client) != everything
    assert stamp(client, area="CD54") == bunia  # not on the Bunia board
    everything = stamp(client)

    logged(world, threat="explosion", user="cla", occurred_at=alert.occurred_at)  # corroborates
    assert stamp(client) != everything
    everything = stamp(client)
    Incident.objects.filter(reference=board_world["bunia"]).update(status="closed")
    assert stamp(client) != everything
    assert stamp(client, area="CD54") != bunia


def many_incidents(world, count, *, threat="other", code="low"):
    """`count` incidents of one alert each, spread over three places; every other one to review."""
    places = [world.beni, world.butembo, world.bunia]
    for index in range(count):
        area = places[index % 3]
        incident = Incident.objects.create(
            mission=world.mission,
            area=area,
            threat=threat,
            level=level(world, code),
            first_reported_at=T0,
            last_reported_at=T0,
            alert_count=1,
            source_count=1,
        )
        Alert.objects.create(
            mission=world.mission,
            source="call",
            text="x",
            threat=threat,
            level=incident.level,
            area=area,
            occurred_at=T0,
            received_at=T0,
            incident=incident,
            needs_review=bool(index % 2),
        )


def test_board_query_count_does_not_grow_with_the_board(
    client, world, django_assert_max_num_queries
):
    many_incidents(world, 3)
    client.force_login(world.users["ewo"])
    client.get("/incidents/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/incidents/").status_code == 200
    assert len(few.captured_queries) <= 14  # role assignments are read once per request
    many_incidents(world, 60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/incidents/")
    assert response.content.decode().count('class="review"') == 31
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/incidents/", {"fragment": "1", "area": "Nord-Kivu"})
    with django_assert_max_num_queries(8):
        client.get("/incidents/board-stamp", {"area": "CD54"})


def test_board_paginates(client, world):
    many_incidents(world, 105)
    html = page(client, world, "ewo", "/incidents/", threat="other")
    assert html.count('href="/incidents/K') == 100
    assert "Page 1 of 2" in html and "threat=other&amp;page=2" in html
    html = page(client, world, "ewo", "/incidents/", threat="other", page=2)
    assert html.count('href="/incidents/K') == 5


# Detail pages.


def test_incident_page(client, world):
    with time_machine.travel(datetime(2025, 3, 1, 10, 0, tzinfo=UTC), tick=False):
        first = logged(world, "ALERTE Beni attaque à Mavivi", level=level(world, "high"))
        logged(world, "Hommes armés à Beni", user="cla")
    html = page(client, world, "ewo", f"/incidents/{first.incident.reference}/")
    assert "Attack on civilians" in html
    assert "Nord-Kivu › Territoire de Beni › Secteur de Beni › Groupement de Beni" in html
    assert "2025-03-01 12:00" in html and "Africa/Lubumbashi" in html  # mission local time
    assert "2 alerts · 2 sources" in html
    assert "ALERTE Beni attaque à Mavivi" in html and "Hommes armés à Beni" in html
    assert first.reference in html
    assert "Set by a person" in html
    assert 'href="geo:0.49113,29.47306"' in html  # Beni's coordinates


def test_alert_page_shows_facts_and_history(client, world):
    with time_machine.travel(datetime(2025, 3, 1, 10, 0, tzinfo=UTC), tick=False):
        alert = logged(world, "ALERTE Beni attaque\nligne deux", level=level(world, "high"))
    html = page(client, world, "cla", f"/alerts/{alert.reference}/")
    assert "2025-03-01 12:00" in html
    assert "Phone call" in html and "logged by ewo" in html
    assert "ALERTE Beni attaque\nligne deux" in html  # as received, line breaks kept
    assert alert.incident.reference in html
    assert "Correct" not in html


# Logging an alert.


def log_form(client, world, name="cla", **data):
    client.force_login(world.users[name])
    fields = {"mission": world.mission.pk, "source": "call", "key": str(uuid.uuid4())}
    fields.update(data)
    return client.post("/alerts/new/", fields)


def also_in_other_mission(world, name="administrator"):
    RoleAssignment.objects.create(
        user=world.users[name],
        role=Role.ADMINISTRATOR,
        mission=world.other_mission,
        scope="mission",
    )


def test_log_form_defaults(client, world):
    with time_machine.travel(datetime(2025, 3, 1, 10, 0, tzinfo=UTC), tick=False):
        html = page(client, world, "cla", "/alerts/new/")
    assert 'value="2025-03-01T12:00"' in html  # now, in the mission's local time
    assert re.search(r'name="key" value="[0-9a-f-]{36}"', html)
    assert 'value="call"' in html and "checked" in html
    assert '<option value="Beni">' in html and '<option value="Bunia">' not in html
    assert 'type="hidden" name="mission"' in html  # one mission: nothing to choose
    also_in_other_mission(world)
    html = page(client, world, "administrator", "/alerts/new/")
    assert '<select name="mission"' in html


def test_log_form_creates_one_alert_even_when_sent_twice(client, world):
    key = str(uuid.uuid4())
    data = {"place": "Beni", "text": "Coups de feu à Beni", "threat": "clash", "key": key}
    first = log_form(client, world, **data)
    assert first.status_code == 302
    alert = Alert.objects.get()
    assert first["Location"] == f"/alerts/{alert.reference}/"
    assert alert.area == world.beni and alert.threat == "clash" and alert.source == "call"
    assert alert.created_by == world.users["cla"] and alert.idempotency_key == key
    followed = client.get(first["Location"]).content.decode()
    assert f"Alert {alert.reference} logged." in followed

    second = log_form(client, world, **data)
    assert second["Location"] == first["Location"]
    assert Alert.objects.count() == 1
    followed = client.get(second["Location"]).content.decode()
    assert "was already logged" in followed

    # The same key with other content: nothing logged, the form kept with a new key.
    third = log_form(client, world, **{**data, "text": "Autre chose"})
    assert third.status_code == 200
    html = third.content.decode()
    assert "already used to log another alert" in html and "Autre chose" in html
    assert key not in html
    assert Alert.objects.count() == 1


def test_log_form_with_level_contact_time_and_channel(client, world):
    contact = Contact.objects.create(mission=world.mission, code="NK-BEN-017", phone=NUMBER)
    response = log_form(
        client,
        world,
        place="CD61010101001",
        text="Enlèvement de deux enfants",
        threat="abduction",
        level="critical",
        source="radio",
        contact="nk-ben-017",
        when="2025-03-01T11:30",
    )
    assert response.status_code == 302
    alert = Alert.objects.get()
    assert alert.level.code == "critical" and alert.source == "radio"
    assert alert.contact == contact
    assert alert.occurred_at == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)  # UTC+2 in Beni


def test_log_form_field_errors(client, world):
    response = log_form(
        client,
        world,
        text="",
        contact="NOPE-1",
        level="apocalyptic",
        when=(timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required." in html
    assert "No contact with this code in the mission." in html
    assert "Select a valid choice" in html
    assert "This time is in the future." in html
    assert Alert.objects.count() == 0
    response = log_form(client, world, text="x", mission=world.other_mission.pk)
    assert "Select a valid choice" in response.content.decode()


def test_log_form_asks_which_place_when_a_name_is_shared(client, world):
    Area.objects.create(
        mission=world.mission, pcode="CD54010101002", level=5, name="Beni",
        parent=Area.objects.get(pcode="CD54010101"),
    )  # fmt: skip
    response = log_form(client, world, name="ewo", place="Beni", text="Attaque")
    html = response.content.decode()
    assert "Several places have this name" in html and "CD54010101002" in html
    # A CLA's own area settles it.
    response = log_form(client, world, name="cla", place="Beni", text="Attaque")
    assert response.status_code == 302
    assert Alert.objects.get().area == world.beni


def test_log_form_accepts_an_unknown_place_and_says_so(client, world):
    response = log_form(client, world, place="Qwxzy", text="Des hommes armés", threat="attack")
    assert response.status_code == 302
    alert = Alert.objects.get()
    assert alert.area is None and alert.needs_review
    assert alert.place_text == "Qwxzy"
    html = client.get(response["Location"]).content.decode()
    assert "The place “Qwxzy” was not found" in html and alert.reference in html


# Triage: merge, split, correct.


def test_merge_through_the_form(client, world):
    target = logged(world).incident
    other = logged(world, threat="clash").incident
    third = logged(world, threat="looting", user="cla").incident
    client.force_login(world.users["ewo"])
    url = f"/incidents/{target.reference}/merge"
    response = client.post(url, {"references": f"{other.reference.lower()}, {third.reference}"})
    assert response.status_code == 302 and response["Location"] == f"/incidents/{target.reference}/"
    html = client.get(response["Location"]).content.decode()
    assert f"Merged {other.reference}, {third.reference} into {target.reference}." in html
    target.refresh_from_db()
    other.refresh_from_db()
    assert other.status == "merged" and other.merged_into == target
    assert target.alert_count == 3 and target.source_count == 2
    html = page(client, world, "ewo", f"/incidents/{other.reference}/")
    assert f'href="/incidents/{target.reference}/"' in html
    assert f"/incidents/{other.reference}/merge" not in html  # nothing left to triage on it
    assert AlertEvent.objects.filter(incident=target, kind="merged_from").count() == 2


def test_merge_errors_are_shown(client, world):
    target = logged(world).incident
    bunia_other = logged(world, area=world.bunia).incident
    client.force_login(world.users["ewo"])
    url = f"/incidents/{target.reference}/merge"
    html = client.post(url, {"references": f"KZZZZZ, {target.reference}"}).content.decode()
    assert "KZZZZZ: no such incident in your scope." in html
    assert f"{target.reference} is this incident." in html
    # An incident of another mission is not even found.
    from kiungo.alerts.incidents import attach

    foreign = Alert(
        mission=world.other_mission,
        source="call",
        text="x",
        threat="attack",
        level=world.other_mission.levels.get(code="high"),
        occurred_at=T0,
        received_at=T0,
    )
    attach(foreign)
    html = client.post(url, {"references": foreign.incident.reference}).content.decode()
    assert "no such incident in your scope" in html
    also_in_other_mission(world)
    client.force_login(world.users["administrator"])
    html = client.post(url, {"references": foreign.incident.reference}).content.decode()
    assert "belongs to another mission" in html
    bunia_other.refresh_from_db()
    assert bunia_other.status == "open"


def test_split_through_the_form(client, world):
    first = logged(world)
    second = logged(world, user="cla")
    incident = first.incident
    assert second.incident == incident
    client.force_login(world.users["ewo"])
    url = f"/incidents/{incident.reference}/split"
    html = client.post(url, {"alerts": [first.reference, second.reference]}).content.decode()
    assert "Leave at least one alert in this incident." in html
    html = client.post(url, {}).content.decode()
    assert "Tick the alerts to move into a new incident." in html
    response = client.post(url, {"alerts": [second.reference]})
    assert response.status_code == 302
    second.refresh_from_db()
    incident.refresh_from_db()
    assert second.incident != incident and incident.alert_count == 1
    html = client.get(response["Location"]).content.decode()
    assert f"moved to the new incident {second.incident.reference}" in html
    assert "Alerts split off" in html


def test_correction_moves_the_alert_and_records_it(client, world):
    alert = logged(world, level=level(world, "high"))
    stays = logged(world, user="cla")
    old = alert.incident
    bunia = logged(world, area=world.bunia)  # an open incident the corrected alert joins
    client.force_login(world.users["ewo"])
    response = client.post(
        f"/alerts/{alert.reference}/correct",
        {"place": "bunia", "threat": "attack", "level": level(world, "critical").pk},
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    old.refresh_from_db()
    assert alert.area == world.bunia and alert.incident == bunia.incident
    assert alert.place_method == "person" and alert.level.code == "critical"
    assert old.alert_count == 1 and old.status == "open"
    assert alert.incident.alert_count == 2 and alert.incident.level.code == "critical"
    event = AlertEvent.objects.get(alert=alert, kind="corrected")
    assert event.actor == world.users["ewo"] and event.channel == "web"
    assert event.details["place"] == ["Beni (CD61010101001)", "Bunia (CD54010101001)"]
    assert event.details["level"] == ["high", "critical"]
    assert event.details["incident"] == [old.reference, bunia.incident.reference]
    html = client.get(response["Location"]).content.decode()
    assert f"moved to incident {bunia.incident.reference}" in html
    assert "Beni (CD61010101001) → Bunia (CD54010101001)" in html
    assert stays.reference not in html


def test_correction_of_an_alone_alert_retires_its_incident_and_clears_review(client, world):
    alert = logged(world)
    Alert.objects.filter(pk=alert.pk).update(needs_review=True, review_reasons=["threat"])
    old = alert.incident
    client.force_login(world.users["ewo"])
    response = client.post(
        f"/alerts/{alert.reference}/correct",
        {"place": "CD6102", "threat": "clash", "level": alert.level_id},
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    old.refresh_from_db()
    assert not alert.needs_review and alert.review_reasons == []
    assert alert.threat == "clash" and alert.area.pcode == "CD6102"
    assert alert.incident.area.pcode == "CD6102" and alert.incident.alert_count == 1
    assert old.status == "merged" and old.merged_into == alert.incident
    assert AlertEvent.objects.filter(incident=old, kind="alert_moved_out").exists()


def test_correction_errors_and_no_change(client, world):
    alert = logged(world)
    client.force_login(world.users["ewo"])
    url = f"/alerts/{alert.reference}/correct"
    html = client.post(
        url, {"place": "Qwxzy", "threat": "attack", "level": alert.level_id}
    ).content.decode()
    assert "No place with this P-code or name in the mission." in html
    response = client.post(
        url, {"place": "CD61010101001", "threat": "attack", "level": alert.level_id}
    )
    assert response.status_code == 302
    assert not AlertEvent.objects.filter(alert=alert).exists()
    other_level = world.other_mission.levels.get(code="low")
    html = client.post(url, {"place": "", "threat": "attack", "level": other_level.pk}).content
    assert "Select a valid choice" in html.decode()


# Inbound SMS and the protection of sources.


@pytest.fixture
def sms_world(world, monkeypatch):
    contact = Contact.objects.create(
        mission=world.mission, code="NK-BEN-017", name="Kahambu Masika", phone=NUMBER
    )
    channel = Channel.objects.create(mission=world.mission, kind="console", name="Test gateway")
    known, _ = receive_sms(
        channel,
        IncomingSMS(
            sender=NUMBER,
            text="ALERTE Beni attaque",
            external_id="m1",
            raw=f"From=%2B{NUMBER[1:]}&Body=ALERTE+Beni+attaque",
        ),
    )
    stranger, _ = receive_sms(
        channel,
        IncomingSMS(sender="0997776655", text="ALERTE Beni attaque", external_id="m2"),
    )

    def broken(**kwargs):
        raise RuntimeError(f"cannot read message from {NUMBER}")

    monkeypatch.setattr(intake, "prepare_alert", broken)
    failed, _ = receive_sms(
        channel,
        IncomingSMS(
            sender=NUMBER, text="??", external_id="m3", raw=f'{{"from": "{NUMBER}", "text": "??"}}'
        ),
    )
    monkeypatch.undo()
    assert failed.state == InboundMessage.State.NEEDS_REVIEW
    return {"contact": contact, "known": known, "stranger": stranger, "failed": failed}


def test_inbound_page_lists_what_needs_review_with_numbers_masked(client, world, sms_world):
    html = page(client, world, "ewo", "/inbound/")
    assert "RuntimeError: cannot read message from [phone]" in html
    assert "[phone]" in html and "Test gateway" in html
    assert "ALERTE Beni attaque" not in html  # processed ones are not listed by default
    html = page(client, world, "ewo", "/inbound/", show="recent")
    assert html.count("ALERTE Beni attaque") >= 2
    assert sms_world["known"].alert.reference in html
    html = page(client, world, "other_ewo", "/inbound/")
    assert "Nothing needs review." in html


def test_no_phone_number_or_name_on_any_page(client, world, sms_world):
    known = sms_world["known"].alert
    stranger = sms_world["stranger"].alert
    assert known.contact == sms_world["contact"]
    urls = [
        "/incidents/",
        "/incidents/?fragment=1",
        f"/incidents/{known.incident.reference}/",
        f"/alerts/{known.reference}/",
        f"/alerts/{stranger.reference}/",
        "/inbound/",
        "/inbound/?show=recent",
        "/alerts/new/",
    ]
    for name in ("ewo", "administrator"):
        for url in urls:
            html = page(client, world, name, url)
            for secret in (NATIONAL, "9977766", "Kahambu", "Masika"):
                assert secret not in html, (name, url, secret)
    html = page(client, world, "ewo", f"/alerts/{known.reference}/")
    assert "NK-BEN-017" in html
    html = page(client, world, "ewo", f"/alerts/{stranger.reference}/")
    assert f"unknown sender #{stranger.sender_hash[:6]}" in html
