"""Routing: an incident goes to the unit whose area of responsibility holds its place."""

from datetime import timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from kiungo.alerts import escalation, response
from kiungo.alerts.incidents import attach, merge_incidents, split_alerts
from kiungo.alerts.models import Alert, AlertEvent, Incident
from kiungo.alerts.routing import reassign, route
from kiungo.alerts.services import correct_alert
from kiungo.forces.models import Base
from kiungo.geography.models import Area
from kiungo.lib.testing import make_area
from kiungo.missions.models import Mission


def levels(mission):
    return {level.code: level for level in mission.alert_levels()}


def new_alert(world, area, level="high", *, when=None, threat="attack", mission=None):
    mission = mission or world.mission
    now = timezone.now()
    return Alert(
        mission=mission,
        source=Alert.Source.API,
        text="test",
        threat=threat,
        level=levels(mission)[level],
        area=area,
        occurred_at=when or now,
        received_at=now,
    )


def report(world, area, level="high", **kwargs) -> Alert:
    alert = new_alert(world, area, level, **kwargs)
    attach(alert)
    return alert


def fresh(incident) -> Incident:
    return Incident.objects.select_related("unit", "base", "level").get(pk=incident.pk)


def routed_events(incident):
    return list(AlertEvent.objects.filter(incident=incident, kind="routed").order_by("pk"))


# Where incidents go.


@pytest.mark.parametrize(
    ("place", "unit", "base"),
    [
        ("beni", "company_beni", "base_beni"),
        ("butembo", "company_butembo", "base_butembo"),
        ("bunia", "company_bunia", "base_bunia"),
        ("beni_territory", "company_beni", "base_beni"),
    ],
)
def test_an_incident_at_each_base_goes_to_its_unit(world, place, unit, base):
    incident = fresh(report(world, getattr(world, place)).incident)
    assert incident.unit == getattr(world, unit)
    assert incident.base == getattr(world, base)
    assert incident.routed_at is not None


def test_a_place_between_bases_goes_to_the_unit_whose_territory_holds_it(world):
    groupement = Area.objects.get(pcode="CD61010101")
    village = make_area(world.mission, "CD61010101002", 5, "Mavivi", groupement, (0.56, 29.45))
    incident = fresh(report(world, village).incident)
    assert (incident.unit, incident.base) == (world.company_beni, world.base_beni)


@pytest.mark.parametrize("place", ["north_kivu", "ituri", None])
def test_a_place_above_every_aor_or_no_place_is_unrouted(world, place):
    area = getattr(world, place) if place else None
    incident = fresh(report(world, area).incident)
    assert (incident.unit, incident.base) == (None, None)
    assert incident.acknowledge_due_at is not None  # the early-warning cell still has a clock
    [event] = routed_events(incident)
    assert (event.details["unit"], event.details["base"]) == (None, None)


def test_a_closed_base_no_longer_takes_incidents(world):
    Base.objects.filter(pk=world.base_bunia.pk).update(closed_on=timezone.localdate())
    incident = fresh(report(world, world.bunia).incident)
    assert incident.unit is None


# Deadlines.


def test_deadlines_come_from_the_level_counted_from_the_first_report(world):
    when = timezone.now() - timedelta(minutes=5)
    for code, level in levels(world.mission).items():
        incident = fresh(report(world, world.beni, code, when=when, threat="looting").incident)
        assert incident.level == level
        assert incident.acknowledge_due_at == when + level.acknowledge_within
        assert incident.respond_due_at == when + level.respond_within
        Incident.objects.filter(pk=incident.pk).update(status=Incident.Status.CLOSED)


def test_a_level_rise_tightens_the_deadlines(world):
    start = timezone.now() - timedelta(minutes=10)
    first = report(world, world.beni, "medium", when=start)
    report(world, world.beni, "critical")
    incident = fresh(first.incident)
    critical = levels(world.mission)["critical"]
    assert incident.level == critical
    assert incident.acknowledge_due_at == start + critical.acknowledge_within
    assert incident.respond_due_at == start + critical.respond_within
    events = routed_events(incident)
    assert [event.details["level"] for event in events] == ["medium", "critical"]
    assert events[-1].details["unit"] == "indbatt-a"


def test_a_less_severe_or_same_level_alert_changes_nothing(world):
    first = report(world, world.beni, "critical")
    before = fresh(first.incident)
    report(world, world.beni, "critical")
    report(world, world.beni, "low")
    after = fresh(first.incident)
    assert (after.level.code, after.acknowledge_due_at, after.respond_due_at) == (
        "critical",
        before.acknowledge_due_at,
        before.respond_due_at,
    )
    assert after.alert_count == 3
    assert len(routed_events(after)) == 1


def test_an_earlier_report_joining_moves_the_deadlines_earlier(world):
    now = timezone.now()
    first = report(world, world.beni, "high", when=now)
    report(world, world.beni, "high", when=now - timedelta(hours=1))  # a device syncing late
    incident = fresh(first.incident)
    high = levels(world.mission)["high"]
    assert incident.acknowledge_due_at == now - timedelta(hours=1) + high.acknowledge_within
    assert len(routed_events(incident)) == 2


def test_route_is_idempotent(world):
    incident = fresh(report(world, world.butembo).incident)
    assert route(incident) is False
    assert len(routed_events(incident)) == 1


# What the intake path pays.


def test_routing_costs_one_lookup_for_a_new_incident_and_none_for_a_joining_alert(
    world, django_assert_num_queries
):
    lock = 1 if connection.vendor == "postgresql" else 0  # the advisory lock on the place
    first, same, worse = (
        new_alert(world, world.beni, code) for code in ("high", "high", "critical")
    )
    # open incident? + responsible unit + escalation steps + insert incident + insert alert +
    # "routed" event + telling the unit: its duty phones, its officers, the sending channel
    with django_assert_num_queries(9 + lock):
        attach(first)
    # open incident (with its level, and its same-source check folded in) + insert alert +
    # update incident
    with django_assert_num_queries(3 + lock):
        attach(same)
    # a level rise (rare): the same, the escalation steps, the incident's unit and base read
    # for the "routed" event, and telling the unit of its tighter deadlines (the responsible
    # unit is not looked up again)
    with django_assert_num_queries(10 + lock):
        attach(worse)


# Triage re-routes.


def test_merge_reroutes_the_target(world):
    start = timezone.now() - timedelta(minutes=30)
    beni = report(world, world.beni, "medium")
    butembo = report(world, world.butembo, "critical", when=start)
    target = merge_incidents(fresh(beni.incident), [fresh(butembo.incident)], world.users["ewo"])
    target = fresh(target)
    critical = levels(world.mission)["critical"]
    assert (target.unit, target.level) == (world.company_beni, critical)
    assert target.acknowledge_due_at == start + critical.acknowledge_within
    assert routed_events(target)[-1].details["level"] == "critical"


def test_split_routes_the_new_incident_and_reroutes_the_old(world):
    start = timezone.now() - timedelta(minutes=30)
    a = report(world, world.beni, "high", when=start)
    b = report(world, world.beni, "critical")
    old = fresh(a.incident)
    assert old.level.code == "critical"
    new = fresh(split_alerts(old, [Alert.objects.get(pk=b.pk)], world.users["ewo"]))
    old = fresh(old)
    high, critical = levels(world.mission)["high"], levels(world.mission)["critical"]
    assert (new.unit, new.base, new.level) == (world.company_beni, world.base_beni, critical)
    assert new.acknowledge_due_at == b.occurred_at + critical.acknowledge_within
    # A person split the critical report off: the old incident follows its remaining level.
    assert old.level == high
    assert old.acknowledge_due_at == start + high.acknowledge_within
    assert routed_events(new) and routed_events(old)[-1].details["level"] == "high"


def test_correcting_the_place_routes_both_incidents(world):
    stays = report(world, world.beni, "high")
    moves = report(world, world.beni, "critical")
    old = stays.incident
    correct_alert(
        moves, user=world.users["ewo"], area=world.bunia, threat="attack", level=moves.level
    )
    moved = Alert.objects.get(pk=moves.pk)
    new, old = fresh(moved.incident), fresh(old)
    assert new.pk != old.pk
    assert (new.unit, new.base) == (world.company_bunia, world.base_bunia)
    assert (old.unit, old.level.code) == (world.company_beni, "high")
    assert routed_events(old)[-1].details["level"] == "high"


def test_placing_an_unplaced_alert_routes_it(world):
    alert = report(world, None)
    unplaced = fresh(alert.incident)
    assert unplaced.unit is None
    correct_alert(
        alert, user=world.users["ewo"], area=world.butembo, threat="attack", level=alert.level
    )
    incident = fresh(Alert.objects.get(pk=alert.pk).incident)
    assert (incident.unit, incident.base) == (world.company_butembo, world.base_butembo)


def test_correcting_the_level_reroutes_the_incident(world):
    alert = report(world, world.beni, "low")
    critical = levels(world.mission)["critical"]
    correct_alert(alert, user=world.users["ewo"], area=world.beni, threat="attack", level=critical)
    incident = fresh(alert.incident)
    assert incident.level == critical
    assert incident.acknowledge_due_at == incident.first_reported_at + critical.acknowledge_within


# Reassignment by the early-warning cell.


def test_an_early_warning_officer_reassigns_to_another_unit_of_the_mission(world):
    incident = fresh(report(world, world.beni).incident)
    ewo = world.users["ewo"]
    reassign(incident, world.company_butembo, ewo, "Beni company on a long-range patrol")
    incident = fresh(incident)
    assert (incident.unit, incident.base) == (world.company_butembo, world.base_butembo)
    event = AlertEvent.objects.get(incident=incident, kind="reassigned")
    assert (event.actor, event.channel) == (ewo, "web")
    assert event.details["previous"] == "indbatt-a"
    assert event.details["unit"] == "indbatt-b"
    assert event.details["reason"] == "Beni company on a long-range patrol"

    # A later re-route (a more severe report) keeps the unit a person chose.
    report(world, world.beni, "critical")
    incident = fresh(incident)
    assert incident.unit == world.company_butembo and incident.level.code == "critical"
    assert route(incident) is False


def test_reassigning_to_a_unit_without_a_single_base_leaves_the_base_empty(world):
    incident = fresh(report(world, world.north_kivu).incident)
    reassign(incident, world.battalion_a, world.users["ewo"], "Battalion takes it")
    incident = fresh(incident)
    assert (incident.unit, incident.base) == (world.battalion_a, None)


def test_reassigning_is_refused_for_another_mission_or_without_a_reason(world):
    incident = fresh(report(world, world.beni).incident)
    other_unit = world.other_base.unit
    with pytest.raises(ValidationError):
        reassign(incident, other_unit, world.users["ewo"], "wrong mission")
    with pytest.raises(ValidationError):
        reassign(incident, world.company_bunia, world.users["ewo"], "  ")
    with pytest.raises(ValidationError):
        reassign(incident, world.company_beni, world.users["ewo"], "already there")
    assert fresh(incident).unit == world.company_beni
    assert not AlertEvent.objects.filter(kind="reassigned").exists()


def test_the_new_unit_starts_afresh_until_a_response_is_decided(world):
    start = timezone.now() - timedelta(hours=2)
    incident = fresh(report(world, world.beni, "critical", when=start).incident)
    response.acknowledge(incident, response.Actor(unit=world.company_beni, channel="sms"))
    escalation.escalate_due()  # the deadline to respond has passed too: the chain moves
    assert fresh(incident).escalations >= 1
    now = timezone.now()
    reassign(incident, world.company_butembo, world.users["ewo"], "Wrong company", now=now)
    incident = fresh(incident)
    critical = incident.level
    assert incident.acknowledged_at is None and incident.acknowledged_by_unit is None
    assert incident.escalations == 0
    assert incident.acknowledge_due_at == now + critical.acknowledge_within
    assert incident.next_escalation_at == incident.acknowledge_due_at  # battalion, at +0

    # Once a response is decided, only the holder changes.
    response.respond(incident, "patrol_sent", response.Actor(unit=world.company_butembo))
    decided = fresh(incident)
    reassign(decided, world.company_bunia, world.users["ewo"], "Handed over")
    after = fresh(incident)
    assert after.unit == world.company_bunia
    assert (after.acknowledged_at, after.responded_at) == (
        decided.acknowledged_at,
        decided.responded_at,
    )


def test_a_closed_incident_is_not_reassigned(world):
    incident = fresh(report(world, world.beni).incident)
    response.close(incident, "false_alarm", response.Actor(user=world.users["ewo"]))
    with pytest.raises(ValidationError):
        reassign(incident, world.company_butembo, world.users["ewo"], "too late")
    assert fresh(incident).unit == world.company_beni


def test_the_event_trail_tells_the_routing_story(world):
    start = timezone.now() - timedelta(minutes=20)
    alert = report(world, world.beni, "medium", when=start)
    report(world, world.beni, "critical")
    incident = fresh(alert.incident)
    reassign(incident, world.company_bunia, world.users["ewo"], "closer")
    kinds = list(
        AlertEvent.objects.filter(incident=incident).order_by("pk").values_list("kind", flat=True)
    )
    assert kinds == ["routed", "routed", "reassigned"]
    first = AlertEvent.objects.filter(incident=incident).order_by("pk").first()
    medium = levels(world.mission)["medium"]
    assert first.details == {
        "unit": "indbatt-a",
        "base": "beni",
        "level": "medium",
        "acknowledge_due_at": (start + medium.acknowledge_within).isoformat(),
        "respond_due_at": (start + medium.respond_within).isoformat(),
    }


# What people see.


def test_the_detail_and_board_show_the_unit_the_deadlines_and_overdue(world):
    late = report(world, world.beni, "critical", when=timezone.now() - timedelta(days=2))
    lost = report(world, world.ituri, "high")
    client = Client()
    client.force_login(world.users["ewo"])
    html = client.get(f"/incidents/{late.incident.reference}/").content.decode()
    assert "indbatt-a" in html and 'class="overdue"' in html
    # Shown in the mission's local time (Africa/Lubumbashi, UTC+2).
    due = timezone.localtime(
        fresh(late.incident).acknowledge_due_at, ZoneInfo(world.mission.time_zone)
    )
    assert due.strftime("%Y-%m-%d %H:%M") in html

    html = client.get(f"/incidents/{lost.incident.reference}/").content.decode()
    assert "early-warning cell to assign" in html and 'class="overdue"' not in html

    board = client.get("/incidents/").content.decode()
    assert "indbatt-a" in board and "early-warning cell to assign" in board
    assert board.count('class="overdue-mark"') == 1  # the late incident, and only it
    assert board.count('class="is-overdue"') == 1


# The demo scenario: every open MONUSCO base takes the incidents at its locality.


def test_in_the_demo_each_open_monusco_base_takes_incidents_at_its_locality(db):
    call_command("demo", stdout=StringIO())
    monusco = Mission.objects.get(code="MONUSCO")
    bases = list(
        Base.objects.filter(mission=monusco, closed_on__isnull=True).select_related(
            "locality", "unit"
        )
    )
    assert len(bases) >= 3
    wrong = []
    for base in bases:
        alert = new_alert(None, base.locality, mission=monusco, threat="abduction")
        incident = fresh(attach(alert))
        if (incident.unit, incident.base) != (base.unit, base):
            wrong.append(f"{base.code}: {incident.unit} / {incident.base}")
    assert not wrong, wrong
