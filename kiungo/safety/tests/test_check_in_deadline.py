"""A missed check-in: the manager is told, then the security officer, then the region's other
managers; a check-in stops it; the worker never doubles a step (kiungo.lib.deadlines)."""

from datetime import timedelta

import pytest

from kiungo.lib import worker
from kiungo.messaging.models import OutboundEmail, Purpose
from kiungo.people.deployment import record_absence
from kiungo.safety import checkins, escalation
from kiungo.safety.escalation import escalate_missed_check_ins, take_step
from kiungo.safety.models import Alarm, Channel, SafetyStatus
from kiungo.safety.tests.conftest import T0

DUE = T0 + timedelta(hours=12)
MANAGER_STEP = DUE + timedelta(minutes=30)
SECURITY_STEP = MANAGER_STEP + timedelta(minutes=60)
REGION_STEP = SECURITY_STEP + timedelta(minutes=60)


def told(cla_staff_id="T-001"):
    """Who got an e-mail about this CLA's missed check-in, in order."""
    return [
        email.to.split("@")[0]
        for email in OutboundEmail.objects.filter(
            purpose=Purpose.ESCALATION, subject__contains=cla_staff_id
        ).order_by("pk")
    ]


@pytest.fixture
def cla(world, safety):
    profile = world.users["cla"].cla_profile
    checkins.check_in(profile, channel=Channel.WEB)
    return profile


def test_the_task_is_registered_with_the_worker():
    assert escalate_missed_check_ins in worker.registered()


def test_a_check_in_sets_the_next_deadline_from_the_policy(cla):
    status = SafetyStatus.objects.get(cla=cla)
    assert (status.due_at, status.escalations, status.next_escalation_at) == (
        DUE,
        0,
        MANAGER_STEP,
    )


def test_a_missed_check_in_tells_the_manager_then_security_then_the_region(cla, clock):
    clock.move_to(MANAGER_STEP - timedelta(seconds=1))
    escalate_missed_check_ins()
    assert told() == []
    clock.move_to(MANAGER_STEP)
    escalate_missed_check_ins()
    assert told() == ["manager"]
    alarm = Alarm.objects.get(cla=cla, kind=Alarm.Kind.MISSED, closed_at__isnull=True)
    assert [step["told"] for step in alarm.steps] == [["manager"]]
    clock.move_to(SECURITY_STEP)
    escalate_missed_check_ins()
    assert told() == ["manager", "security"]
    clock.move_to(REGION_STEP + timedelta(hours=5))
    escalate_missed_check_ins()
    escalate_missed_check_ins()
    assert told() == ["manager", "security", "regional"]  # then nothing more
    status = SafetyStatus.objects.get(cla=cla)
    assert (status.escalations, status.next_escalation_at) == (3, None)
    email = OutboundEmail.objects.filter(to="manager@example.org").first()
    assert "T-001" in email.subject and f"/safety/clas/{cla.pk}/" in email.body
    assert "+2439" not in email.body  # never the CLA's phone


def test_a_check_in_stops_the_escalation_and_closes_the_missed_alarm(cla, clock):
    clock.move_to(MANAGER_STEP)
    escalate_missed_check_ins()
    clock.move_to(MANAGER_STEP + timedelta(minutes=10))
    checkins.check_in(cla, channel=Channel.SMS)
    clock.move_to(SECURITY_STEP)
    escalate_missed_check_ins()
    assert told() == ["manager"]
    alarm = Alarm.objects.get(cla=cla, kind=Alarm.Kind.MISSED)
    assert alarm.closed_at is not None and alarm.close_note == "checked in"
    status = SafetyStatus.objects.get(cla=cla)
    assert status.due_at == MANAGER_STEP + timedelta(minutes=10, hours=12)


def test_running_the_task_twice_or_replaying_a_claimed_step_sends_once(cla, clock):
    clock.move_to(MANAGER_STEP)
    status = SafetyStatus.objects.get(cla=cla)
    assert take_step(status.pk) is True
    assert take_step(status.pk) is False  # a second worker reading the same row
    assert escalate_missed_check_ins() == 0
    assert told() == ["manager"]


def test_a_worker_racing_another_does_not_double_the_step(cla, clock, monkeypatch):
    """The other worker takes the step between this one's read and its claim: this one's
    conditional UPDATE matches nothing, so it tells nobody."""
    clock.move_to(MANAGER_STEP)
    status = SafetyStatus.objects.get(cla=cla)
    original, raced = escalation.next_due, []

    def other_worker_meanwhile(status_, policy):
        if not raced:
            raced.append(True)
            assert original_take(status.pk) is True
        return original(status_, policy)

    original_take = take_step
    monkeypatch.setattr(escalation, "next_due", other_worker_meanwhile)
    assert take_step(status.pk) is False
    assert raced
    assert told() == ["manager"]
    assert SafetyStatus.objects.get(pk=status.pk).escalations == 1


def test_a_check_in_racing_the_worker_wins(cla, clock, monkeypatch):
    clock.move_to(MANAGER_STEP)
    status = SafetyStatus.objects.get(cla=cla)
    original, raced = escalation.next_due, []

    def check_in_meanwhile(status_, policy):
        if not raced:
            raced.append(True)
            checkins.check_in(cla, channel=Channel.API)
        return original(status_, policy)

    monkeypatch.setattr(escalation, "next_due", check_in_meanwhile)
    assert take_step(status.pk) is False
    assert told() == []


def test_a_crash_while_telling_keeps_nothing_and_the_next_pass_takes_the_step(
    cla, clock, monkeypatch, caplog
):
    clock.move_to(MANAGER_STEP)
    original, calls = escalation.notify.tell_missed, []

    def crash_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return original(*args, **kwargs)

    monkeypatch.setattr(escalation.notify, "tell_missed", crash_once)
    assert escalate_missed_check_ins() == 0
    assert "escalating safety status" in caplog.text
    assert told() == [] and not Alarm.objects.filter(cla=cla).exists()
    assert escalate_missed_check_ins() == 1
    assert told() == ["manager"]


def test_a_cla_on_leave_is_not_chased_and_is_due_the_day_after(world, cla, clock):
    day = DUE.date()
    record_absence(cla, kind="leave", starts_on=day, ends_on=day + timedelta(days=2))
    clock.move_to(REGION_STEP)
    escalate_missed_check_ins()
    assert told() == []
    status = SafetyStatus.objects.get(cla=cla)
    # Back on the third day at 00:00 local (22:00 UTC the day before), due 12 hours later.
    assert status.due_at.isoformat() == "2025-03-06T10:00:00+00:00"
    assert status.escalations == 0


def test_every_deployed_cla_gets_a_status_with_a_first_deadline(world, safety, clock):
    escalate_missed_check_ins()
    statuses = {status.cla.staff_id: status for status in SafetyStatus.objects.all()}
    assert set(statuses) == {"T-001", "T-002"}
    assert statuses["T-002"].due_at == DUE


def test_a_daily_policy_is_due_by_its_local_time_the_next_day(world, safety, clock):
    from datetime import time

    safety.schedule, safety.daily_by = "daily", time(18, 0)
    safety.save()
    profile = world.users["cla"].cla_profile
    checkins.check_in(profile, channel=Channel.WEB)
    status = SafetyStatus.objects.get(cla=profile)
    assert status.due_at.isoformat() == "2025-03-04T16:00:00+00:00"  # 18:00 in Beni
