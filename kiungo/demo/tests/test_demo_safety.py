"""The demo's CLA safety and deployment: policy, check-ins, one overdue CLA escalated by the
worker, an open SOS, absences leaving a base below two, a planned rotation, the `security`
login. Loaded once for the module (tests roll back to it)."""

from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.test import override_settings
from django.utils import timezone

from kiungo.demo import safety as demo_safety
from kiungo.demo.scenario import DEMO_PASSWORD
from kiungo.messaging.models import OutboundEmail, Purpose
from kiungo.people.access import visible_alarms, visible_bases, visible_check_ins
from kiungo.people.deployment import local_today, presence
from kiungo.people.models import Absence, Role, Rotation, User
from kiungo.safety.escalation import escalate_missed_check_ins
from kiungo.safety.models import Alarm, CheckIn, CheckInPolicy, SafetyStatus


@pytest.fixture
def loaded(demo_output):
    return demo_output


def test_the_output_tells_what_was_loaded(loaded):
    assert "Demo CLA safety (MONUSCO)" in loaded
    assert "below two CLAs present" in loaded
    assert "  security " in loaded  # in the logins table


def test_policy_check_ins_and_statuses(monusco):
    policy = CheckInPolicy.objects.get(mission=monusco)
    assert policy.every_hours == demo_safety.EVERY_HOURS and policy.duress_word
    assert CheckIn.objects.filter(mission=monusco).count() > 100
    now = timezone.now()
    overdue = [status for status in SafetyStatus.objects.all() if status.is_overdue(now)]
    assert len(overdue) == 1
    assert overdue[0].cla.supervisor.username == "manager"
    cla_status = SafetyStatus.objects.get(cla__user__username="cla")
    assert not cla_status.is_overdue(now)


def test_the_worker_escalates_the_overdue_cla_to_the_manager(monusco):
    assert escalate_missed_check_ins() == 1
    email = OutboundEmail.objects.get(purpose=Purpose.ESCALATION)
    assert email.to.startswith("manager@")
    assert escalate_missed_check_ins() == 0


def test_the_security_officer_login_sees_the_open_sos(monusco):
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        user = authenticate(username="security", password=DEMO_PASSWORD)
    assert user is not None
    assert user.role_assignments.get().role == Role.SECURITY_OFFICER
    sos = visible_alarms(user).get(closed_at__isnull=True, kind=Alarm.Kind.SOS)
    assert sos.cla.supervisor.username == "manager"
    assert visible_check_ins(User.objects.get(username="ewo")).count() == 0


def test_absences_leave_a_base_below_two_and_a_rotation_is_planned(monusco):
    manager = User.objects.get(username="manager")
    today = local_today(monusco)
    assert Absence.objects.filter(starts_on__lte=today, ends_on__gte=today).exists()
    assert Absence.objects.filter(starts_on__gt=today).exists()
    rotation = Rotation.objects.get(status=Rotation.Status.PLANNED)
    rows = {row.base.pk: row for row in presence(visible_bases(manager), today)}
    assert rows[rotation.to_base_id].short and rows[rotation.to_base_id].absent
    assert rotation.planned_on == today + timedelta(days=10)


def test_a_second_load_adds_nothing(monusco):
    counts = [model.objects.count() for model in (CheckIn, Absence, Rotation, Alarm, User)]
    summary = demo_safety.ensure(2026)
    assert summary.already and not summary.security_added
    assert demo_safety.format_summary(summary) == []
    assert [model.objects.count() for model in (CheckIn, Absence, Rotation, Alarm, User)] == counts
