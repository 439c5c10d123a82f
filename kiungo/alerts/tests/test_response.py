"""What happens to an incident after routing: the unit's answer and the early-warning cell's
decisions (kiungo.alerts.response)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kiungo.alerts import response
from kiungo.alerts.intake import log_alert
from kiungo.alerts.models import AlertEvent, Incident, Outcome, Response
from kiungo.alerts.response import Actor
from kiungo.messaging.models import Channel, OutboundMessage, Purpose

DUTY_PHONE = "+243991234567"  # indbatt-a's "Ops room" (kiungo.lib.testing)


def levels(mission):
    return {level.code: level for level in mission.alert_levels()}


def report(world, area=None, threat="attack", level="high", **extra) -> Incident:
    alert, _created = log_alert(
        mission=world.mission,
        user=world.users["ewo"],
        text="Attaque à Beni",
        source="call",
        area=area or world.beni,
        threat=threat,
        level=levels(world.mission)[level],
        **extra,
    )
    return fresh(alert.incident)


def fresh(incident) -> Incident:
    return Incident.objects.select_related("level", "unit").get(pk=incident.pk)


def events(incident, kind=None) -> list[AlertEvent]:
    found = AlertEvent.objects.filter(incident=incident).order_by("pk")
    return list(found.filter(kind=kind) if kind else found)


@pytest.fixture
def channel(world):
    return Channel.objects.create(mission=world.mission, kind="console", name="Gateway")


@pytest.fixture
def incident(world):
    return report(world)


@pytest.fixture
def duty(world):
    """The battalion's duty officer, answering on the web for indbatt."""
    return Actor(user=world.users["duty"], unit=world.battalion_a, channel="web")


# Acknowledging.


def test_acknowledge_records_who_when_and_through_what(world, incident, duty):
    now = timezone.now()
    assert response.acknowledge(incident, duty, now=now) is True
    incident = fresh(incident)
    assert incident.acknowledged_at == now
    assert incident.acknowledged_by_unit == world.battalion_a
    [event] = events(incident, "acknowledged")
    assert (event.at, event.actor, event.channel) == (now, world.users["duty"], "web")
    assert event.details == {"unit": "indbatt", "late": False}


def test_a_late_acknowledgement_is_marked_late(world, incident):
    late = incident.acknowledge_due_at + timedelta(minutes=1)
    response.acknowledge(incident, Actor(user=world.users["ewo"]), now=late)
    [event] = events(incident, "acknowledged")
    assert event.details == {"late": True}  # no acting unit given: none recorded
    # The incident's own unit is taken as the one that acknowledged.
    assert fresh(incident).acknowledged_by_unit == world.company_beni


def test_acknowledging_twice_changes_nothing(world, incident, duty):
    first = timezone.now()
    assert response.acknowledge(incident, duty, now=first) is True
    other = Actor(user=world.users["ewo"], channel="api")
    assert response.acknowledge(incident, other, now=first + timedelta(minutes=5)) is False
    incident = fresh(incident)
    assert incident.acknowledged_at == first
    assert incident.acknowledged_by_unit == world.battalion_a
    assert len(events(incident, "acknowledged")) == 1


# Responding.


@pytest.mark.parametrize("action", list(Response))
def test_each_response_is_recorded(world, incident, duty, action):
    now = timezone.now()
    reason = "Road cut by the river" if action == Response.NO_ACTION else ""
    assert response.respond(incident, action, duty, reason=reason, now=now) is True
    incident = fresh(incident)
    assert incident.response == action
    assert incident.responded_at == now
    assert incident.arrived_at == (now if action == Response.ARRIVED else None)
    [event] = events(incident, "responded")
    assert (event.actor, event.channel) == (world.users["duty"], "web")
    assert event.details["response"] == action.value
    assert event.details["unit"] == "indbatt"
    assert event.details["late"] is False
    if reason:
        assert event.details["reason"] == reason


def test_a_response_given_as_its_value_is_accepted(incident, duty):
    assert response.respond(incident, "referred", duty) is True
    assert fresh(incident).response == Response.REFERRED


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_no_action_needs_a_reason_and_without_one_nothing_changes(incident, duty, reason):
    before = events(incident)
    with pytest.raises(ValidationError) as raised:
        response.respond(incident, Response.NO_ACTION, duty, reason=reason)
    assert raised.value.code == "reason"
    incident = fresh(incident)
    assert (incident.response, incident.responded_at, incident.acknowledged_at) == ("", None, None)
    assert incident.next_escalation_at is not None
    assert events(incident) == before


def test_no_action_keeps_the_reason_tidy(incident, duty):
    response.respond(incident, Response.NO_ACTION, duty, reason="  too\n far   " + "x" * 600)
    [event] = events(incident, "responded")
    assert event.details["reason"].startswith("too far x")
    assert len(event.details["reason"]) == 500


def test_responding_acknowledges_too(world, incident, duty):
    now = timezone.now()
    response.respond(incident, Response.PATROL_SENT, duty, now=now)
    incident = fresh(incident)
    assert incident.acknowledged_at == incident.responded_at == now
    assert incident.acknowledged_by_unit == world.battalion_a
    # One event says both: no separate "acknowledged" event.
    assert [event.kind for event in events(incident)] == ["routed", "responded"]
    assert events(incident, "responded")[0].details["acknowledged"] is True


def test_responding_after_acknowledging_keeps_the_acknowledgement(world, incident, duty):
    first = timezone.now()
    response.acknowledge(incident, Actor(unit=world.company_beni, channel="sms"), now=first)
    response.respond(incident, Response.PATROL_SENT, duty, now=first + timedelta(minutes=3))
    incident = fresh(incident)
    assert incident.acknowledged_at == first
    assert incident.acknowledged_by_unit == world.company_beni
    assert "acknowledged" not in events(incident, "responded")[0].details


def test_the_first_response_time_is_kept(incident, duty):
    first = timezone.now()
    arrived = first + timedelta(minutes=40)
    assert response.respond(incident, Response.PATROL_SENT, duty, now=first)
    assert response.respond(incident, Response.ARRIVED, duty, now=arrived)
    incident = fresh(incident)
    assert incident.responded_at == first
    assert incident.arrived_at == arrived
    assert incident.response == Response.ARRIVED
    late_flags = [event.details.get("late") for event in events(incident, "responded")]
    assert late_flags == [False, None]  # lateness is judged on the first response only


def test_the_same_response_twice_changes_nothing(incident, duty):
    now = timezone.now()
    assert response.respond(incident, Response.PATROL_SENT, duty, now=now) is True
    later = now + timedelta(minutes=1)
    assert response.respond(incident, Response.PATROL_SENT, duty, now=later) is False
    assert len(events(incident, "responded")) == 1


def test_no_action_repeated_with_the_same_reason_changes_nothing(incident, duty):
    assert response.respond(incident, Response.NO_ACTION, duty, reason="too far") is True
    assert response.respond(incident, Response.NO_ACTION, duty, reason=" too  far ") is False
    assert response.respond(incident, Response.NO_ACTION, duty, reason="river up") is True
    reasons = [event.details["reason"] for event in events(incident, "responded")]
    assert reasons == ["too far", "river up"]


def test_arrival_is_kept_once(incident, duty):
    first = timezone.now()
    response.respond(incident, Response.ARRIVED, duty, now=first)
    response.respond(incident, Response.PATROL_SENT, duty, now=first + timedelta(minutes=1))
    response.respond(incident, Response.ARRIVED, duty, now=first + timedelta(minutes=2))
    assert fresh(incident).arrived_at == first


def test_a_late_response_is_marked_late(incident, duty):
    late = incident.respond_due_at + timedelta(seconds=1)
    response.respond(incident, Response.REFERRED, duty, now=late)
    [event] = events(incident, "responded")
    assert event.details["late"] is True
    assert event.details["acknowledged"] is True


def test_an_unknown_response_is_refused(incident, duty):
    with pytest.raises(ValueError):
        response.respond(incident, "shrugged", duty)
    assert fresh(incident).response == ""


# Closing, dismissing.


def test_close_records_the_outcome_and_stops_escalation(world, incident, duty):
    assert fresh(incident).next_escalation_at is not None
    now = timezone.now()
    closed = response.close(incident, Outcome.DETERRED, duty, note=" all  calm ", now=now)
    assert closed.status == Incident.Status.CLOSED
    incident = fresh(incident)
    assert incident.status == Incident.Status.CLOSED
    assert (incident.outcome, incident.closed_at) == (Outcome.DETERRED, now)
    assert incident.next_escalation_at is None
    [event] = events(incident, "closed")
    assert event.details == {"unit": "indbatt", "outcome": "deterred", "note": "all calm"}
    assert (event.actor, event.channel, event.at) == (world.users["duty"], "web", now)


def test_close_without_a_note_records_none(incident, duty):
    response.close(incident, "false_alarm", duty)
    [event] = events(incident, "closed")
    assert "note" not in event.details
    assert fresh(incident).outcome == Outcome.FALSE_ALARM


def test_dismiss_needs_a_reason(world, incident):
    ewo = Actor(user=world.users["ewo"])
    with pytest.raises(ValidationError) as raised:
        response.dismiss(incident, ewo, reason="  ")
    assert raised.value.code == "reason"
    assert fresh(incident).status == Incident.Status.OPEN
    assert not events(incident, "dismissed")
    now = timezone.now()
    response.dismiss(incident, ewo, reason="Rumour, denied by the chief", now=now)
    incident = fresh(incident)
    assert (incident.status, incident.closed_at) == (Incident.Status.DISMISSED, now)
    assert incident.next_escalation_at is None
    [event] = events(incident, "dismissed")
    assert event.details == {"reason": "Rumour, denied by the chief"}
    assert event.actor == world.users["ewo"]


def _closed(world, incident):
    response.close(incident, Outcome.OTHER, Actor(user=world.users["ewo"]))


def _dismissed(world, incident):
    response.dismiss(incident, Actor(user=world.users["ewo"]), reason="not credible")


def _merged(world, incident):
    target = report(world, threat="looting")
    incident.mark_merged_into(target)


ACTIONS = {
    "acknowledge": lambda incident, actor: response.acknowledge(incident, actor),
    "respond": lambda incident, actor: response.respond(incident, Response.PATROL_SENT, actor),
    "no_action": lambda incident, actor: response.respond(
        incident, Response.NO_ACTION, actor, reason="too far"
    ),
    "close": lambda incident, actor: response.close(incident, Outcome.DETERRED, actor),
    "dismiss": lambda incident, actor: response.dismiss(incident, actor, reason="rumour"),
    "verify": lambda incident, actor: response.verify(incident, actor),
}


@pytest.mark.parametrize(
    "state", [_closed, _dismissed, _merged], ids=["closed", "dismissed", "merged"]
)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_nothing_more_can_be_recorded_once_it_is_over(world, incident, duty, state, action):
    state(world, incident)
    before = fresh(incident)
    count = len(events(incident))
    with pytest.raises(ValidationError) as raised:
        ACTIONS[action](incident, duty)
    assert raised.value.code == "not_open"
    assert incident.reference in raised.value.messages[0]
    after = fresh(incident)
    for name in ("status", "acknowledged_at", "response", "responded_at", "outcome", "closed_at"):
        assert getattr(after, name) == getattr(before, name)
    assert len(events(incident)) == count


def test_relevel_on_a_closed_incident_is_refused(world, incident):
    _closed(world, incident)
    with pytest.raises(ValidationError):
        response.relevel(
            incident, levels(world.mission)["critical"], Actor(user=world.users["ewo"]), reason="x"
        )
    assert fresh(incident).level.code == "high"


# Verifying.


def test_verify_once(world, incident):
    ewo = Actor(user=world.users["ewo"])
    now = timezone.now()
    assert response.verify(incident, ewo, note="Confirmed by the CLA", now=now) is True
    assert response.verify(incident, ewo, now=now + timedelta(minutes=1)) is False
    incident = fresh(incident)
    assert incident.verified_at == now
    [event] = events(incident, "verified")
    assert event.details == {"note": "Confirmed by the CLA"}
    assert event.actor == world.users["ewo"]


# Re-levelling.


def test_relevel_sets_deadlines_from_the_first_report_and_tells_the_unit(world, channel):
    first = timezone.now() - timedelta(minutes=20)
    incident = report(world, level="medium", occurred_at=first)
    told_before = OutboundMessage.objects.filter(purpose=Purpose.ALERT).count()
    assert told_before >= 1  # the unit was told when the incident was routed
    critical = levels(world.mission)["critical"]
    ewo = Actor(user=world.users["ewo"])
    now = timezone.now()
    assert response.relevel(incident, critical, ewo, reason="Armed men seen", now=now) is True
    incident = fresh(incident)
    assert incident.level == critical
    assert incident.acknowledge_due_at == first + critical.acknowledge_within
    assert incident.respond_due_at == first + critical.respond_within
    assert incident.next_escalation_at == incident.acknowledge_due_at  # first step: at once
    assert incident.routed_at == now
    [event] = events(incident, "relevelled")
    assert event.details == {
        "previous": "medium",
        "level": "critical",
        "reason": "Armed men seen",
        "acknowledge_due_at": incident.acknowledge_due_at.isoformat(),
        "respond_due_at": incident.respond_due_at.isoformat(),
    }
    told = OutboundMessage.objects.filter(purpose=Purpose.ALERT).order_by("pk")[told_before:]
    assert told and {message.to for message in told} == {DUTY_PHONE}
    assert {message.incident_id for message in told} == {incident.pk}
    assert {message.channel_id for message in told} == {channel.pk}
    assert incident.reference in " ".join(message.text for message in told)


def test_relevel_may_lower_the_level_and_loosen_the_deadlines(world):
    first = timezone.now() - timedelta(minutes=5)
    incident = report(world, level="critical", occurred_at=first)
    low = levels(world.mission)["low"]
    response.relevel(incident, low, Actor(user=world.users["ewo"]), reason="Old news")
    incident = fresh(incident)
    assert incident.acknowledge_due_at == first + low.acknowledge_within
    assert incident.respond_due_at == first + low.respond_within


def test_relevel_to_the_same_level_changes_nothing(world, incident):
    high = levels(world.mission)["high"]
    assert response.relevel(incident, high, Actor(user=world.users["ewo"]), reason="x") is False
    assert not events(incident, "relevelled")


def test_relevel_needs_a_reason_and_a_level_of_the_mission(world, incident):
    ewo = Actor(user=world.users["ewo"])
    with pytest.raises(ValidationError) as raised:
        response.relevel(incident, levels(world.mission)["critical"], ewo, reason="")
    assert raised.value.code == "reason"
    with pytest.raises(ValidationError) as raised:
        response.relevel(incident, levels(world.other_mission)["critical"], ewo, reason="x")
    assert raised.value.code == "mission"
    assert fresh(incident).level.code == "high"
    assert not events(incident, "relevelled")


def test_relevel_after_a_response_does_not_tell_the_unit_again(world, channel, incident, duty):
    response.respond(incident, Response.PATROL_SENT, duty)
    before = OutboundMessage.objects.filter(purpose=Purpose.ALERT).count()
    ewo = Actor(user=world.users["ewo"])
    response.relevel(incident, levels(world.mission)["critical"], ewo, reason="Worse")
    assert OutboundMessage.objects.filter(purpose=Purpose.ALERT).count() == before
    assert fresh(incident).next_escalation_at is None  # a response was decided


# Escalation follows the state.


def test_escalation_moves_from_acknowledge_to_respond_deadline_then_stops(incident, duty):
    assert incident.next_escalation_at == incident.acknowledge_due_at  # battalion step: +0
    response.acknowledge(incident, duty)
    incident = fresh(incident)
    assert incident.next_escalation_at == incident.respond_due_at
    response.respond(incident, Response.REFERRED, duty)
    assert fresh(incident).next_escalation_at is None


def test_steps_already_taken_stay_taken_after_acknowledgement(world, incident, duty):
    Incident.objects.filter(pk=incident.pk).update(escalations=1)
    response.acknowledge(incident, duty)
    incident = fresh(incident)
    second = sorted(incident.level.steps.all(), key=lambda step: step.position)[1]
    assert incident.escalations == 1
    assert incident.next_escalation_at == incident.respond_due_at + second.after


def test_no_action_also_stops_escalation(incident, duty):
    response.respond(incident, Response.NO_ACTION, duty, reason="Out of our area")
    assert fresh(incident).next_escalation_at is None


# The timeline.


def test_each_action_adds_exactly_one_event_and_never_changes_an_old_one(world, incident, duty):
    ewo = Actor(user=world.users["ewo"], channel="api")
    steps = [
        ("verified", lambda: response.verify(incident, ewo)),
        ("acknowledged", lambda: response.acknowledge(incident, duty)),
        ("responded", lambda: response.respond(incident, Response.PATROL_SENT, duty)),
        ("responded", lambda: response.respond(incident, Response.ARRIVED, duty)),
        (
            "relevelled",
            lambda: response.relevel(
                incident, levels(world.mission)["critical"], ewo, reason="Armed men"
            ),
        ),
        ("closed", lambda: response.close(incident, Outcome.DETERRED, duty)),
    ]
    history = [(event.pk, event.kind, event.at, event.details) for event in events(incident)]
    for kind, action in steps:
        action()
        now = [(event.pk, event.kind, event.at, event.details) for event in events(incident)]
        assert now[: len(history)] == history  # nothing earlier changed
        assert [entry[1] for entry in now[len(history) :]] == [kind]
        history = now
