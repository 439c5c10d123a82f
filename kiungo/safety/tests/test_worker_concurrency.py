"""Two workers escalating missed check-ins at once: every step told once, none lost.

PostgreSQL only (as kiungo/messaging/tests/test_worker_concurrency.py, and for the same
reason: the SQLite test database's table locks fail at once instead of waiting).
"""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections
from django.utils import timezone

from kiungo.lib.testing import build_world
from kiungo.messaging.models import OutboundEmail, Purpose
from kiungo.people.models import CLAProfile, Deployment, Role, RoleAssignment, User
from kiungo.safety import escalation
from kiungo.safety.models import Alarm, CheckInPolicy, SafetyStatus

CLAS = 24
# How long ago each CLA's check-in was due, and how many steps are due by now (grace 30 min,
# security +60, region +60).
OVERDUE = [(timedelta(minutes=31), 1), (timedelta(minutes=95), 2), (timedelta(hours=5), 3)]


@pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs real concurrent connections (the SQLite test database is shared-cache)",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_tell_each_step_once(monkeypatch):
    world = build_world()
    CheckInPolicy.objects.create(
        mission=world.mission, every_hours=12, grace_minutes=30, security_after_minutes=60,
        region_after_minutes=60,
    )  # fmt: skip
    manager = world.users["manager"]
    manager.email = "manager@example.org"
    manager.save()
    security = User.objects.create_user("security", email="security@example.org")
    RoleAssignment.objects.create(
        user=security, role=Role.SECURITY_OFFICER, mission=world.mission, scope="mission"
    )
    now = timezone.now()
    expected = {}
    for number in range(CLAS):
        user = User.objects.create_user(f"cla{number}")
        cla = CLAProfile.objects.create(
            user=user, staff_id=f"C-{number:03d}", base=world.base_beni, supervisor=manager
        )
        Deployment.objects.create(cla=cla, base=world.base_beni, starts_on=now.date())
        late, steps = OVERDUE[number % len(OVERDUE)]
        due = now - late
        SafetyStatus.objects.create(
            cla=cla,
            mission=world.mission,
            due_at=due,
            next_escalation_at=due + timedelta(minutes=30),
        )
        expected[cla.pk] = steps
    for name in ("cla", "cla_bunia"):  # not part of this test
        SafetyStatus.objects.create(
            cla=world.users[name].cla_profile,
            mission=world.mission,
            due_at=now + timedelta(hours=9),
        )

    taken_by, lock, original = Counter(), threading.Lock(), escalation.take_step

    def counted(*args, **kwargs):
        taken = original(*args, **kwargs)
        if taken:
            with lock:
                taken_by[threading.current_thread().name] += 1
        return taken

    monkeypatch.setattr(escalation, "take_step", counted)
    errors, start = [], threading.Barrier(2)

    def run():
        try:
            start.wait()
            for _ in range(50):
                if escalation.escalate_missed_check_ins() == 0:
                    break
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, name=f"worker-{n}") for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    connections.close_all()
    assert errors == []
    assert sum(taken_by.values()) == sum(expected.values())
    for status in SafetyStatus.objects.filter(cla_id__in=expected):
        assert status.escalations == expected[status.cla_id]
    emails = Counter(
        OutboundEmail.objects.filter(purpose=Purpose.ESCALATION).values_list("to", flat=True)
    )
    assert emails["manager@example.org"] == CLAS  # step 1 for every CLA, once
    assert emails["security@example.org"] == sum(steps >= 2 for steps in expected.values())
    for alarm in Alarm.objects.filter(kind=Alarm.Kind.MISSED):
        assert [step["step"] for step in alarm.steps] == list(range(1, expected[alarm.cla_id] + 1))
