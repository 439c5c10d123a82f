"""Two `manage.py worker` loops at once: every escalation step taken once, every SMS and e-mail
sent once, nothing left behind.

Each thread runs the command's iteration (what `manage.py worker --once` runs) on its own
database connection, in a loop, until nothing is due: escalation steps, queued SMS on a console
channel, queued e-mail. The console transport appends one line per SMS sent, with a fresh
message id, to its log: that log is the count of what really went out.

PostgreSQL only: the SQLite test database is an in-memory database in shared-cache mode, whose
table locks fail at once ("database table is locked") instead of waiting as the WAL file
database of a real deployment does; a claimed message whose outcome could not be written then
waits for its 60 s lease, longer than this test.
"""

import re
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from kiungo.alerts import escalation, routing
from kiungo.alerts.models import AlertEvent, Incident
from kiungo.forces.models import DutyPhone
from kiungo.lib.testing import build_world
from kiungo.messaging import delivery
from kiungo.messaging.gateways.console.transport import ConsoleTransport
from kiungo.messaging.gateways.testing import make_channel, outbound
from kiungo.messaging.management.commands.worker import Command
from kiungo.messaging.models import OutboundEmail, OutboundMessage, Purpose
from kiungo.people.models import Role, RoleAssignment, User

INCIDENTS = 30
QUEUED_SMS = 50
# How long ago the deadline to acknowledge passed, in turn: steps due then (critical policy:
# battalion +0, sector and cell +15 min, force HQ +45 min).
OVERDUE = [
    (timedelta(seconds=5), 1),
    (timedelta(minutes=15, seconds=5), 3),
    (timedelta(minutes=45, seconds=5), 4),
    (timedelta(hours=3), 4),
]


def plant(world, now) -> dict[int, int]:
    """INCIDENTS critical incidents at Beni whose escalation is due; returns id -> steps due."""
    critical = world.mission.levels.get(code="critical")
    expected = {}
    for number in range(INCIDENTS):
        overdue, steps = OVERDUE[number % len(OVERDUE)]
        first = now - critical.acknowledge_within - overdue
        incident = Incident(
            mission=world.mission,
            area=world.beni,
            threat="attack",
            level=critical,
            first_reported_at=first,
            last_reported_at=first,
            alert_count=1,
            source_count=1,
        )
        routing.plan(incident)
        incident.routed_at = now
        incident.save()
        assert incident.unit == world.company_beni
        assert incident.next_escalation_at <= now
        expected[incident.pk] = steps
    return expected


def chain(world) -> None:
    """Duty phones and duty officers on indbatt, sector-north and force-hq; an EWO's e-mail."""
    for number, unit in enumerate((world.battalion_a, world.sector_north, world.force_hq), 1):
        DutyPhone.objects.create(unit=unit, number=f"+24399100000{number}", label="Ops")
        officer = User.objects.create_user(
            username=f"duty_{unit.code}", email=f"{unit.code}@un.example", password="x"
        )
        RoleAssignment.objects.create(
            user=officer,
            role=Role.UNIT_DUTY_OFFICER,
            mission=world.mission,
            scope=RoleAssignment.Scope.UNIT,
            unit=unit,
        )
    world.users["ewo"].email = "ewo@un.example"
    world.users["ewo"].save()


def anything_due() -> bool:
    now = timezone.now()
    return (
        Incident.objects.filter(status=Incident.Status.OPEN, next_escalation_at__lte=now).exists()
        or bool(delivery.due(now, 1))
        or OutboundEmail.objects.filter(
            state__in=delivery.SENDABLE, next_attempt_at__lte=now
        ).exists()
    )


@pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs real concurrent connections (the SQLite test database is shared-cache)",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_take_each_step_and_send_each_message_once(settings, tmp_path, monkeypatch):
    settings.DATA_DIR = tmp_path
    world = build_world()
    chain(world)
    console = make_channel(world.mission, "console", "+243990000105")
    console.notifies = True
    console.send_per_minute = 10_000
    console.save()
    expected = plant(world, timezone.now())
    queued_ids = {outbound(console, to=f"+24399700{n:04d}").pk for n in range(QUEUED_SMS)}

    # Who did the work: both threads must have taken steps and sent SMS.
    workers_by_task: dict[str, Counter] = {"steps": Counter(), "sms": Counter()}
    lock = threading.Lock()
    take_step, send = escalation.take_step, ConsoleTransport.send

    # Each step and send takes a little while, as over a real network: otherwise the first
    # worker can finish everything before the second has started, and nothing is proven.
    def counted_take_step(*args, **kwargs):
        time.sleep(0.003)
        taken = take_step(*args, **kwargs)
        if taken:
            with lock:
                workers_by_task["steps"][threading.current_thread().name] += 1
        return taken

    def counted_send(transport, message):
        time.sleep(0.003)
        result = send(transport, message)
        with lock:
            workers_by_task["sms"][threading.current_thread().name] += 1
        return result

    monkeypatch.setattr(escalation, "take_step", counted_take_step)
    monkeypatch.setattr(ConsoleTransport, "send", counted_send)

    errors, passes = [], Counter()
    start = threading.Barrier(2)

    def run():
        name = threading.current_thread().name
        command = Command()
        try:
            start.wait()
            for _ in range(200):
                command.iteration()
                passes[name] += 1
                if not anything_due():
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
    assert not any(thread.is_alive() for thread in threads)

    # Every step once: the counters, the events and their step numbers agree.
    events = AlertEvent.objects.filter(kind="escalated")
    assert events.count() == sum(expected.values())
    for incident in Incident.objects.filter(pk__in=expected):
        assert incident.escalations == expected[incident.pk]
        steps = sorted(events.filter(incident=incident).values_list("details__step", flat=True))
        assert steps == list(range(1, expected[incident.pk] + 1))
    assert sum(workers_by_task["steps"].values()) == sum(expected.values())
    assert set(workers_by_task["steps"]) == {"worker-1", "worker-2"}

    # Every SMS sent once, and nothing left: the console log has one line per message.
    sms = OutboundMessage.objects.all()
    escalation_sms = sms.filter(purpose=Purpose.ESCALATION)
    phone_steps = sum(
        len([step for step in range(steps) if step != 2]) for steps in expected.values()
    )  # the cell (step 3) has no phone
    assert escalation_sms.values("incident", "to").distinct().count() == phone_steps
    assert set(sms.values_list("state", flat=True)) == {OutboundMessage.State.SENT}
    assert queued_ids <= set(sms.values_list("pk", flat=True))
    lines = (tmp_path / "console-sms.log").read_text(encoding="utf-8").splitlines()
    sent_ids = [line.split("\t")[3] for line in lines]
    assert len(sent_ids) == sms.count() == len(set(sent_ids))
    assert set(sent_ids) == set(sms.values_list("external_id", flat=True))
    assert all(re.fullmatch(r"console-[0-9a-f]{32}", value) for value in sent_ids)
    assert sum(workers_by_task["sms"].values()) == sms.count()
    assert set(workers_by_task["sms"]) == {"worker-1", "worker-2"}

    # Every e-mail once: battalion, sector and force HQ officers, and the EWO for the cell.
    emails = OutboundEmail.objects.all()
    assert emails.count() == sum(expected.values())
    assert set(emails.values_list("state", flat=True)) == {OutboundEmail.State.SENT}
    assert len(mail.outbox) == emails.count()
    assert Counter(m.to[0] for m in mail.outbox) == Counter(emails.values_list("to", flat=True))
