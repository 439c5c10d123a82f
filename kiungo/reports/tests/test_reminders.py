"""Reminders to CLAs before the deadline and missing-report notices to their supervisors,
with time frozen; each goes out once, however often (and by however many workers) the tasks
run."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from kiungo.lib import worker
from kiungo.lib.crypto import keyed_hash
from kiungo.messaging.models import Channel, OutboundEmail, OutboundMessage, Purpose
from kiungo.reports import compliance, writing
from kiungo.reports.models import Kind, Notice, ReportingSchedule

pytestmark = pytest.mark.django_db

CLA_PHONE = "+243970000001"
BUNIA_PHONE = "+243970000002"


def local(day, hour, minute=0):
    return datetime(day.year, day.month, day.day, hour - 2, minute, tzinfo=UTC)


WEDNESDAY = date(2025, 3, 12)


@pytest.fixture
def phones(world, cla, cla_bunia):
    Channel.objects.create(mission=world.mission, kind="console", name="Gateway")
    for profile, phone in ((cla, CLA_PHONE), (cla_bunia, BUNIA_PHONE)):
        profile.phone = phone
        profile.save()
    cla_bunia.languages = ["en"]
    cla_bunia.save()
    manager = world.users["manager"]
    manager.email = "manager@example.org"
    manager.save()


def reminders(to=None):
    found = OutboundMessage.objects.filter(purpose=Purpose.REMINDER).order_by("pk")
    return list(found.filter(to_hash=keyed_hash(to)) if to else found)


def notices():
    return list(OutboundEmail.objects.filter(purpose=Purpose.REMINDER).order_by("pk"))


def run_tasks(when):
    with time_machine.travel(when, tick=False):
        for task in (compliance.remind_reporters, compliance.report_missing_to_managers):
            task()


def test_the_tasks_are_registered_with_the_worker():
    assert compliance.remind_reporters in worker.registered()
    assert compliance.report_missing_to_managers in worker.registered()


def test_no_reminder_before_the_window(world, phones):
    run_tasks(local(WEDNESDAY, 16, 59))  # due 18:00, reminded from 17:00
    assert reminders() == []


def test_a_reminder_goes_once_to_each_cla_who_has_not_reported(world, cla, phones):
    run_tasks(local(WEDNESDAY, 17, 0))
    run_tasks(local(WEDNESDAY, 17, 1))  # the worker again: nothing new
    run_tasks(local(WEDNESDAY, 17, 30))
    [french] = reminders(CLA_PHONE)
    [english] = reminders(BUNIA_PHONE)
    assert french.text.startswith("Kiungo: votre rapport journalier du 12/03")
    assert "18:00" in french.text and "RAS" in french.text
    assert english.text.startswith("Kiungo: your daily report for 12/03 is due by 18:00")
    assert CLA_PHONE[4:] not in french.recipient_label
    assert Notice.objects.filter(what=Notice.What.REMINDER).count() == 2


def test_no_reminder_for_a_cla_who_reported(world, cla, phones):
    report = writing.start_report(cla=cla, kind=Kind.DAILY, day=WEDNESDAY, now=local(WEDNESDAY, 9))
    writing.save_draft(report, writing.Changes(nothing_to_report=True))
    writing.submit(report, user=cla.user, now=local(WEDNESDAY, 16))
    run_tasks(local(WEDNESDAY, 17, 10))
    assert reminders(CLA_PHONE) == [] and len(reminders(BUNIA_PHONE)) == 1


def test_a_draft_does_not_stop_the_reminder(world, cla, phones):
    writing.start_report(cla=cla, kind=Kind.DAILY, day=WEDNESDAY, now=local(WEDNESDAY, 9))
    run_tasks(local(WEDNESDAY, 17, 10))
    assert len(reminders(CLA_PHONE)) == 1


def test_two_workers_racing_send_once(world, cla, phones, monkeypatch):
    run_tasks(local(WEDNESDAY, 17, 0))
    # The second worker read "nobody reminded yet" before the first committed: its insert of
    # the same Notice fails, and its queued SMS is rolled back with it.
    monkeypatch.setattr(compliance, "claimed", lambda *args: set())
    run_tasks(local(WEDNESDAY, 17, 1))
    assert len(reminders(CLA_PHONE)) == 1 and len(reminders(BUNIA_PHONE)) == 1
    assert len(notices()) == 0


def test_the_schedule_sets_the_reminder_window(world, phones):
    ReportingSchedule.objects.create(mission=world.mission, daily_due="20:00", remind_before=30)
    run_tasks(local(WEDNESDAY, 19, 29))
    assert reminders() == []
    run_tasks(local(WEDNESDAY, 19, 30))
    assert len(reminders()) == 2


def test_no_reminder_when_the_schedule_says_none(world, phones):
    ReportingSchedule.objects.create(mission=world.mission, remind_before=0)
    run_tasks(local(WEDNESDAY, 17, 30))
    assert reminders() == []


def test_weekly_reminder_before_monday_noon(world, phones):
    monday = date(2025, 3, 17)
    run_tasks(local(monday, 11, 0))
    texts = [message.text for message in reminders(CLA_PHONE)]
    assert texts == [
        "Kiungo: votre rapport hebdomadaire de la semaine du 10/03 est attendu avant 12:00."
    ]


def test_the_supervisor_is_told_once_after_the_deadline(world, cla, cla_bunia, phones):
    report = writing.start_report(cla=cla, kind=Kind.DAILY, day=WEDNESDAY, now=local(WEDNESDAY, 9))
    writing.save_draft(report, writing.Changes(nothing_to_report=True))
    writing.submit(report, user=cla.user, now=local(WEDNESDAY, 18, 30))  # late
    run_tasks(local(WEDNESDAY, 17, 59))
    assert notices() == []
    run_tasks(local(WEDNESDAY, 18, 0))
    run_tasks(local(WEDNESDAY, 18, 45))
    run_tasks(local(date(2025, 3, 13), 5, 0))
    [email] = notices()
    assert email.to == "manager@example.org"
    assert "T-002" in email.body and "T-001" not in email.body  # cla reported, late
    assert "1" in email.subject and "2025-03-12" in email.subject
    assert Notice.objects.get(what=Notice.What.MISSING).count == 1


def test_a_supervisor_without_email_is_skipped(world, phones):
    manager = world.users["manager"]
    manager.email = ""
    manager.save()
    run_tasks(local(WEDNESDAY, 18, 30))
    assert notices() == [] and not Notice.objects.filter(what=Notice.What.MISSING).exists()


def test_notices_stop_after_the_window(world, phones):
    run_tasks(local(date(2025, 3, 13), 6, 1))  # yesterday's deadline was 12 h ago
    assert notices() == []
