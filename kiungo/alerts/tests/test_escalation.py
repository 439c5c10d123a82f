"""Automatic escalation: a missed deadline goes up the chain by itself, once per step."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from kiungo.alerts import escalation, notify
from kiungo.alerts.escalation import escalate_due, take_step
from kiungo.alerts.incidents import attach
from kiungo.alerts.models import Alert, AlertEvent, Incident, Outcome, Response
from kiungo.alerts.response import Actor, acknowledge, close, relevel, respond
from kiungo.forces.models import DutyPhone
from kiungo.lib import worker
from kiungo.messaging.gateways.testing import make_channel
from kiungo.messaging.models import Channel, OutboundEmail, OutboundMessage, Purpose
from kiungo.missions.models import EscalationStep
from kiungo.people.models import Role, RoleAssignment, User

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # the first report
ACK = T0 + timedelta(minutes=15)  # critical: acknowledge within 15 min
RESPOND = T0 + timedelta(hours=1)  # critical: decide a response within 1 h
SECOND = timedelta(seconds=1)


@dataclass
class Chain:
    phones: dict[str, DutyPhone]  # battalion, sector, force_hq
    officers: dict[str, User]  # the same three, plus "ewo"


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def chain(world, settings, tmp_path):
    """Duty phones and duty officers (with e-mail) on indbatt, sector-north and force-hq, an
    early-warning officer with e-mail, and a console channel to send the SMS through."""
    settings.DATA_DIR = tmp_path
    make_channel(world.mission, "console", "+243990000105")
    units = {
        "battalion": world.battalion_a,
        "sector": world.sector_north,
        "force_hq": world.force_hq,
    }
    phones, officers = {}, {}
    for number, (key, unit) in enumerate(units.items(), start=1):
        phones[key] = DutyPhone.objects.create(
            unit=unit, number=f"+24399100000{number}", label="Ops"
        )
        # Never reached: an inactive phone, and (world's "duty" on indbatt) no e-mail address.
        DutyPhone.objects.create(unit=unit, number=f"+24399200000{number}", active=False)
        officer = User.objects.create_user(
            username=f"duty_{key}", email=f"duty.{key}@un.example", password="x"
        )
        RoleAssignment.objects.create(
            user=officer,
            role=Role.UNIT_DUTY_OFFICER,
            mission=world.mission,
            scope=RoleAssignment.Scope.UNIT,
            unit=unit,
        )
        officers[key] = officer
    for name in ("ewo", "other_ewo"):  # other_ewo: another mission's, never reached
        world.users[name].email = f"{name}@un.example"
        world.users[name].save()
    officers["ewo"] = world.users["ewo"]
    return Chain(phones, officers)


def levels(world):
    return {level.code: level for level in world.mission.alert_levels()}


def raise_incident(world, area, level="critical", threat="attack") -> Incident:
    """An alert reported now, grouped and routed as intake does it."""
    now = timezone.now()
    alert = Alert(
        mission=world.mission,
        source=Alert.Source.API,
        text="test",
        threat=threat,
        level=levels(world)[level],
        area=area,
        occurred_at=now,
        received_at=now,
    )
    attach(alert)
    return fresh(alert.incident)


def fresh(incident) -> Incident:
    return Incident.objects.select_related("unit", "level").get(pk=incident.pk)


def escalated(incident) -> list[AlertEvent]:
    return list(AlertEvent.objects.filter(incident=incident, kind="escalated").order_by("pk"))


def sms_texts(incident, purpose=Purpose.ESCALATION) -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {}
    for message in OutboundMessage.objects.filter(incident=incident, purpose=purpose).order_by(
        "pk"
    ):
        texts.setdefault(message.to, []).append(message.text)
    return texts


def sms_to(incident, purpose=Purpose.ESCALATION) -> dict[str, int]:
    """Whole SMS of the incident per number (a long text goes as "(1/2) …", "(2/2) …")."""
    counts = {}
    for number, texts in sms_texts(incident, purpose).items():
        marker = re.match(r"\((\d+)/(\d+)\) ", texts[0])
        parts = int(marker.group(2)) if marker else 1
        assert len(texts) % parts == 0, texts
        counts[number] = len(texts) // parts
    return counts


def emails_to(incident) -> list[str]:
    return sorted(
        OutboundEmail.objects.filter(incident=incident, purpose=Purpose.ESCALATION).values_list(
            "to", flat=True
        )
    )


def unit_actor(world) -> Actor:
    return Actor(unit=world.company_beni, channel="sms", phone="Ops room")


# The whole chain -----------------------------------------------------------------------------


def test_escalate_due_is_a_worker_task():
    assert escalate_due in worker.registered()


def test_a_missed_acknowledgement_climbs_the_whole_chain_once(world, chain, clock):
    incident = raise_incident(world, world.beni)
    assert incident.unit == world.company_beni
    assert (incident.acknowledge_due_at, incident.next_escalation_at) == (ACK, ACK)

    clock.move_to(ACK - SECOND)
    assert escalate_due() == 0
    assert escalated(incident) == []

    # Deadline + 1 s: the battalion above indbatt-a.
    clock.move_to(ACK + SECOND)
    assert escalate_due() == 1
    [event] = escalated(incident)
    assert event.at == ACK + SECOND
    assert event.details == {
        "step": 1,
        "target": "battalion",
        "unit": "indbatt",
        "missed": "acknowledge",
        "deadline": ACK.isoformat(),
        "due_at": ACK.isoformat(),
        "phones": 1,
        "officers": 1,
    }
    assert sms_to(incident) == {chain.phones["battalion"].number: 1}
    assert emails_to(incident) == [chain.officers["battalion"].email]
    [texts] = sms_texts(incident).values()
    assert incident.reference in " ".join(texts)
    assert texts[0].startswith("KIUNGO ESCALADE")  # the mission's first language, French
    incident = fresh(incident)
    assert (incident.escalations, incident.next_escalation_at) == (1, ACK + timedelta(minutes=15))

    clock.move_to(ACK + timedelta(minutes=15) - SECOND)
    assert escalate_due() == 0

    # +15 min: sector and early-warning cell, same delay, same pass.
    clock.move_to(ACK + timedelta(minutes=15))
    assert escalate_due() == 2
    sector, cell = escalated(incident)[1:]
    assert (sector.details["step"], sector.details["target"], sector.details["unit"]) == (
        2,
        "sector",
        "sector-north",
    )
    assert (sector.details["phones"], sector.details["officers"]) == (1, 1)
    assert (cell.details["step"], cell.details["target"], cell.details["unit"]) == (
        3,
        "early_warning_cell",
        None,
    )
    assert (cell.details["phones"], cell.details["officers"]) == (0, 1)
    assert {cell.details["due_at"], sector.details["due_at"]} == {
        (ACK + timedelta(minutes=15)).isoformat()
    }
    incident = fresh(incident)
    assert (incident.escalations, incident.next_escalation_at) == (3, ACK + timedelta(minutes=45))

    # +45 min: force HQ.
    clock.move_to(ACK + timedelta(minutes=45))
    assert escalate_due() == 1
    last = escalated(incident)[-1]
    assert (last.details["step"], last.details["target"], last.details["unit"]) == (
        4,
        "force_hq",
        "force-hq",
    )
    incident = fresh(incident)
    assert (incident.escalations, incident.next_escalation_at) == (4, None)

    # Nothing more, ever; every phone and officer of the chain told exactly once.
    clock.shift(timedelta(days=30))
    assert escalate_due() == 0
    assert len(escalated(incident)) == 4
    assert all(event.details["missed"] == "acknowledge" for event in escalated(incident))
    assert sms_to(incident) == {phone.number: 1 for phone in chain.phones.values()}
    assert emails_to(incident) == sorted(officer.email for officer in chain.officers.values())
    # The unit's own phone got the incident (an alert), and no escalation.
    assert sms_to(incident, Purpose.ALERT) == {"+243991234567": 1}


def test_the_worker_sends_an_escalation_in_the_pass_that_takes_it(world, chain, clock):
    incident = raise_incident(world, world.beni)
    clock.move_to(ACK + SECOND)
    call_command("worker", "--once")
    sms = OutboundMessage.objects.filter(incident=incident, purpose=Purpose.ESCALATION)
    assert sms.exists()
    assert {message.state for message in sms} == {OutboundMessage.State.SENT}
    assert {message.sent_at for message in sms} == {ACK + SECOND}
    assert [message.to for message in mail.outbox] == [[chain.officers["battalion"].email]]
    assert incident.reference in mail.outbox[0].subject


# What changes the schedule -------------------------------------------------------------------


def test_after_a_late_acknowledgement_the_next_step_counts_from_the_respond_deadline(
    world, chain, clock
):
    incident = raise_incident(world, world.beni)
    clock.move_to(ACK + SECOND)
    assert escalate_due() == 1  # battalion
    clock.move_to(ACK + timedelta(minutes=5))
    assert acknowledge(incident, unit_actor(world))
    incident = fresh(incident)
    # Step 2 (sector, +15 min) now counts from the deadline to respond.
    assert incident.next_escalation_at == RESPOND + timedelta(minutes=15)

    clock.move_to(ACK + timedelta(minutes=15) + SECOND)  # the old schedule: nothing
    assert escalate_due() == 0
    clock.move_to(RESPOND + timedelta(minutes=15) - SECOND)
    assert escalate_due() == 0
    clock.move_to(RESPOND + timedelta(minutes=15))
    assert escalate_due() == 2  # sector and early-warning cell
    sector = escalated(incident)[1]
    assert sector.details["target"] == "sector"
    assert sector.details["unit"] == "sector-north"
    assert sector.details["missed"] == "respond"
    assert sector.details["deadline"] == RESPOND.isoformat()
    assert chain.phones["sector"].number in sms_to(incident)


def test_a_response_stops_escalation(world, chain, clock):
    incident = raise_incident(world, world.beni)
    clock.move_to(ACK + SECOND)
    assert escalate_due() == 1
    clock.move_to(ACK + timedelta(minutes=10))
    assert respond(incident, Response.PATROL_SENT, unit_actor(world))
    assert fresh(incident).next_escalation_at is None
    clock.shift(timedelta(days=1))
    assert escalate_due() == 0
    assert len(escalated(incident)) == 1


def test_an_acknowledgement_in_time_then_a_response_in_time_escalate_nothing(world, chain, clock):
    incident = raise_incident(world, world.beni)
    clock.move_to(ACK - timedelta(minutes=1))
    acknowledge(incident, unit_actor(world))
    assert fresh(incident).next_escalation_at == RESPOND
    clock.move_to(RESPOND - timedelta(minutes=1))
    assert escalate_due() == 0
    respond(incident, Response.REFERRED, unit_actor(world))
    clock.shift(timedelta(days=1))
    assert escalate_due() == 0
    assert escalated(incident) == []
    assert sms_to(incident) == {}
    assert emails_to(incident) == []


def test_closing_stops_escalation(world, chain, clock):
    incident = raise_incident(world, world.beni)
    clock.move_to(ACK + SECOND)
    assert escalate_due() == 1
    close(incident, Outcome.FALSE_ALARM, Actor(user=world.users["ewo"]))
    assert fresh(incident).next_escalation_at is None
    clock.shift(timedelta(days=1))
    assert escalate_due() == 0
    assert len(escalated(incident)) == 1


def test_a_relevel_to_critical_tightens_the_schedule(world, chain, clock):
    incident = raise_incident(world, world.beni, level="high")
    assert incident.next_escalation_at == T0 + timedelta(hours=1)  # high: acknowledge in 1 h
    clock.move_to(T0 + timedelta(minutes=5))
    assert relevel(incident, levels(world)["critical"], Actor(user=world.users["ewo"]), reason="x")
    assert fresh(incident).next_escalation_at == ACK
    clock.move_to(ACK + SECOND)
    assert escalate_due() == 1
    [event] = escalated(incident)
    assert (event.details["target"], event.details["deadline"]) == ("battalion", ACK.isoformat())


def test_a_relevel_mid_chain_takes_the_steps_now_overdue_at_once(world, chain, clock):
    incident = raise_incident(world, world.beni, level="high")
    clock.move_to(T0 + timedelta(hours=1, seconds=1))
    assert escalate_due() == 1  # high: battalion at the deadline to acknowledge
    assert fresh(incident).next_escalation_at == T0 + timedelta(hours=2)  # high: sector +1 h
    relevel(incident, levels(world)["critical"], Actor(user=world.users["ewo"]), reason="x")
    # Critical counts from the first report: sector and cell were due at 09:30, force HQ 10:00.
    assert fresh(incident).next_escalation_at == ACK + timedelta(minutes=15)
    assert escalate_due() == 3
    targets = [event.details["target"] for event in escalated(incident)]
    assert targets == ["battalion", "sector", "early_warning_cell", "force_hq"]
    assert fresh(incident).next_escalation_at is None


def test_an_incident_without_a_unit_reaches_the_cell_and_force_hq(world, chain, clock):
    incident = raise_incident(world, None)
    assert incident.unit is None
    assert incident.next_escalation_at == ACK
    clock.move_to(ACK + timedelta(minutes=45))
    assert escalate_due() == 4  # all four overdue: taken in one pass, in order
    events = escalated(incident)
    assert [(e.details["target"], e.details["unit"]) for e in events] == [
        ("battalion", None),
        ("sector", None),
        ("early_warning_cell", None),
        ("force_hq", "force-hq"),
    ]
    assert [(e.details["phones"], e.details["officers"]) for e in events] == [
        (0, 0),
        (0, 0),
        (0, 1),
        (1, 1),
    ]
    assert set(sms_to(incident)) == {chain.phones["force_hq"].number}
    assert emails_to(incident) == sorted(
        [chain.officers["ewo"].email, chain.officers["force_hq"].email]
    )
    assert fresh(incident).next_escalation_at is None


def test_a_policy_change_applies_from_the_next_step_on(world, chain, clock):
    incident = raise_incident(world, world.beni)
    clock.move_to(ACK + SECOND)
    assert escalate_due() == 1  # battalion; sector planned at +15 min
    critical = levels(world)["critical"]
    EscalationStep.objects.filter(level=critical, target="early_warning_cell").update(
        after=timedelta(minutes=30)
    )
    EscalationStep.objects.filter(level=critical, target="force_hq").update(
        after=timedelta(minutes=60)
    )
    assert fresh(incident).next_escalation_at == ACK + timedelta(minutes=15)  # already planned
    clock.move_to(ACK + timedelta(minutes=15))
    assert escalate_due() == 1  # sector alone: the cell now waits for +30 min
    assert fresh(incident).next_escalation_at == ACK + timedelta(minutes=30)
    clock.move_to(ACK + timedelta(minutes=30))
    assert escalate_due() == 1
    assert fresh(incident).next_escalation_at == ACK + timedelta(minutes=60)
    clock.move_to(ACK + timedelta(minutes=45))
    assert escalate_due() == 0  # the old force HQ time
    clock.move_to(ACK + timedelta(minutes=60))
    assert escalate_due() == 1
    assert [e.details["target"] for e in escalated(incident)] == [
        "battalion",
        "sector",
        "early_warning_cell",
        "force_hq",
    ]


def test_a_policy_that_loses_its_last_steps_leaves_nothing_due(world, chain, clock):
    incident = raise_incident(world, world.beni)
    clock.move_to(ACK + SECOND)
    assert escalate_due() == 1
    EscalationStep.objects.filter(level__code="critical", level__mission=world.mission).exclude(
        target="battalion"
    ).delete()
    clock.move_to(ACK + timedelta(minutes=15))
    assert escalate_due() == 0
    assert fresh(incident).next_escalation_at is None  # not read again on every pass
    assert len(escalated(incident)) == 1


# Once, and only once -------------------------------------------------------------------------


def test_two_passes_at_the_same_moment_take_each_step_once(world, chain, clock):
    incident = raise_incident(world, world.beni)
    clock.move_to(ACK + SECOND)
    assert escalate_due() == 1
    assert escalate_due() == 0
    assert take_step(incident.pk) is False
    assert len(escalated(incident)) == 1
    assert sms_to(incident) == {chain.phones["battalion"].number: 1}
    assert emails_to(incident) == [chain.officers["battalion"].email]


def test_take_step_claims_a_step_once(world, chain, clock):
    incident = raise_incident(world, world.beni)
    assert take_step(incident.pk, now=ACK - SECOND) is False  # not due yet
    assert take_step(incident.pk, now=ACK) is True
    assert take_step(incident.pk, now=ACK) is False
    assert fresh(incident).escalations == 1


def test_an_acknowledgement_racing_the_worker_wins(world, chain, clock, monkeypatch):
    """The unit acknowledges between the worker's read and its claim: the step planned from
    the old state no longer matches, so it is not taken."""
    incident = raise_incident(world, world.beni)
    clock.move_to(ACK + SECOND)
    original, raced = escalation.next_due, []

    def acknowledge_meanwhile(incident_, steps=None):
        if not raced:
            raced.append(True)
            acknowledge(Incident.objects.get(pk=incident_.pk), unit_actor(world))
        return original(incident_, steps)

    monkeypatch.setattr(escalation, "next_due", acknowledge_meanwhile)
    assert escalate_due() == 0
    assert raced
    monkeypatch.undo()
    incident = fresh(incident)
    assert (incident.escalations, incident.next_escalation_at) == (0, RESPOND)
    assert escalated(incident) == []
    assert sms_to(incident) == {}
    clock.move_to(RESPOND)
    assert escalate_due() == 1
    assert escalated(incident)[0].details["missed"] == "respond"


def test_a_crash_while_telling_keeps_nothing_and_the_next_pass_takes_the_step(
    world, chain, clock, monkeypatch, caplog
):
    incident = raise_incident(world, world.beni)
    clock.move_to(ACK + SECOND)
    original, calls = notify.tell_escalation, []

    def crash_once(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return original(*args, **kwargs)

    monkeypatch.setattr(notify, "tell_escalation", crash_once)
    assert escalate_due() == 0
    assert f"escalating incident {incident.pk} failed" in caplog.text
    incident = fresh(incident)
    assert (incident.escalations, incident.next_escalation_at) == (0, ACK)
    assert escalated(incident) == []
    assert sms_to(incident) == {}
    assert emails_to(incident) == []

    assert escalate_due() == 1
    assert calls == ["battalion", "battalion"]
    assert fresh(incident).escalations == 1
    assert len(escalated(incident)) == 1
    assert set(sms_to(incident)) == {chain.phones["battalion"].number}
    assert emails_to(incident) == [chain.officers["battalion"].email]


def test_a_batch_limit_leaves_the_rest_for_the_next_pass(world, chain, clock):
    first = raise_incident(world, world.beni, threat="attack")
    second = raise_incident(world, world.butembo, threat="attack")
    clock.move_to(ACK + SECOND)
    assert escalate_due(limit=1) == 1
    assert [len(escalated(first)), len(escalated(second))] == [1, 0]
    assert escalate_due() == 1
    assert [len(escalated(first)), len(escalated(second))] == [1, 1]


def test_without_a_channel_the_timeline_says_no_phone_was_reached(world, chain, clock, caplog):
    Channel.objects.filter(mission=world.mission).update(active=False)
    incident = raise_incident(world, world.beni)
    clock.move_to(ACK + SECOND)
    assert escalate_due() == 1
    [event] = escalated(incident)
    assert (event.details["phones"], event.details["officers"]) == (0, 1)
    assert sms_to(incident) == {}
    assert emails_to(incident) == [chain.officers["battalion"].email]
    assert f"incident {incident.pk}: no active channel to notify duty phones" in caplog.text
