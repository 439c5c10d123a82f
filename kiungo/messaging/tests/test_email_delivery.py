"""E-mail to officers: queued in the transaction of its cause, sent by the worker with the same
claim, lease, backoff and permanent-failure rules as SMS."""

import smtplib
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from kiungo.messaging import delivery
from kiungo.messaging.delivery import LEASE, deliver_due_emails, deliver_email
from kiungo.messaging.gateways.testing import make_channel, outbound
from kiungo.messaging.models import OutboundEmail, OutboundMessage, Purpose
from kiungo.messaging.outbox import queue_email

State = OutboundEmail.State
T0 = datetime(2026, 11, 25, 12, 0, 30, tzinfo=UTC)
TO = "duty.officer@un.example"


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def queued(subject="[Kiungo] Escalation: K7HQ3M2", body="Not acknowledged by 12:15.", to=TO):
    return queue_email(to, subject, body, purpose=Purpose.ESCALATION, recipient_label="Duty")


def fresh(email: OutboundEmail) -> OutboundEmail:
    email.refresh_from_db()
    return email


class FakeSendMail:
    """Stands in for delivery.send_mail: raises the queued exceptions in turn, then sends
    through Django's real send_mail (the locmem backend in tests)."""

    def __init__(self, real):
        self.real = real
        self.outcomes: list[Exception] = []
        self.calls: list[list[str]] = []
        self.delay = 0.0
        self.lock = threading.Lock()

    def __call__(self, subject, message, from_email, recipient_list, **kwargs):
        with self.lock:
            self.calls.append(list(recipient_list))
            outcome = self.outcomes.pop(0) if self.outcomes else None
        time.sleep(self.delay)
        if outcome is not None:
            raise outcome
        with self.lock:  # locmem's outbox is a plain list
            return self.real(subject, message, from_email, recipient_list, **kwargs)


@pytest.fixture
def smtp(monkeypatch):
    fake = FakeSendMail(delivery.send_mail)
    monkeypatch.setattr(delivery, "send_mail", fake)
    return fake


def test_a_queued_email_is_sent_once(db, clock, settings):
    settings.DEFAULT_FROM_EMAIL = "kiungo@un.example"
    email = queued()
    assert email.state == State.QUEUED
    assert deliver_due_emails() == 1
    [sent] = mail.outbox
    assert (sent.to, sent.subject, sent.body) == (
        [TO],
        "[Kiungo] Escalation: K7HQ3M2",
        "Not acknowledged by 12:15.",
    )
    assert sent.from_email == "kiungo@un.example"
    fresh(email)
    assert email.state == State.SENT
    assert email.sent_at == T0
    assert email.attempts == 1
    assert email.claimed_until is None
    assert email.error == ""
    clock.shift(timedelta(days=1))
    assert deliver_due_emails() == 0
    assert len(mail.outbox) == 1


def test_it_waits_for_next_attempt_at(db, clock):
    email = queued()
    OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=T0 + timedelta(minutes=5))
    assert deliver_due_emails() == 0
    clock.shift(timedelta(minutes=5))
    assert deliver_due_emails() == 1


def test_oldest_first_and_at_most_limit(db, clock):
    emails = [queued(subject=f"s{n}") for n in range(3)]
    OutboundEmail.objects.filter(pk=emails[2].pk).update(next_attempt_at=T0 - timedelta(hours=1))
    assert deliver_due_emails(limit=2) == 2
    assert [m.subject for m in mail.outbox] == ["s2", "s0"]
    assert deliver_due_emails(limit=2) == 1


def test_a_transient_smtp_error_is_retried_after_a_backoff(db, clock, smtp):
    email = queued()
    smtp.outcomes = [smtplib.SMTPServerDisconnected("Connection unexpectedly closed")]
    assert deliver_due_emails() == 0
    fresh(email)
    assert email.state == State.ERRORED
    assert email.attempts == 1
    assert email.claimed_until is None
    assert "SMTPServerDisconnected" in email.error
    wait = (email.next_attempt_at - T0).total_seconds()
    assert 27 <= wait <= 33  # 30 s ± 10 %
    assert deliver_due_emails() == 0  # not before its time
    assert len(smtp.calls) == 1
    clock.move_to(email.next_attempt_at)
    assert deliver_due_emails() == 1
    fresh(email)
    assert email.state == State.SENT
    assert email.attempts == 2
    assert email.error == ""
    assert email.sent_at == email.next_attempt_at
    assert len(mail.outbox) == 1


def test_a_refused_recipient_fails_for_good(db, clock, smtp):
    email = queued()
    smtp.outcomes = [smtplib.SMTPRecipientsRefused({TO: (550, b"5.1.1 No such user")})]
    assert deliver_due_emails() == 0
    fresh(email)
    assert email.state == State.FAILED
    assert email.attempts == 1
    assert email.claimed_until is None
    assert "No such user" in email.error
    assert TO not in email.error  # addresses are redacted from stored errors
    clock.shift(timedelta(days=2))
    assert deliver_due_emails() == 0
    assert len(smtp.calls) == 1
    assert mail.outbox == []


def test_a_refused_sender_fails_for_good(db, clock, smtp):
    email = queued()
    smtp.outcomes = [smtplib.SMTPSenderRefused(553, b"sender rejected", "kiungo@localhost")]
    assert deliver_due_emails() == 0
    assert fresh(email).state == State.FAILED
    clock.shift(timedelta(days=2))
    assert deliver_due_emails() == 0
    assert len(smtp.calls) == 1


def test_the_tenth_transient_failure_is_final(db, clock, smtp):
    email = queued()
    smtp.outcomes = [smtplib.SMTPServerDisconnected("gone") for _ in range(10)]
    waits = []
    for attempt in range(1, 10):
        assert deliver_due_emails() == 0
        fresh(email)
        assert (email.state, email.attempts) == (State.ERRORED, attempt)
        waits.append((email.next_attempt_at - timezone.now()).total_seconds())
        clock.move_to(email.next_attempt_at)
    for wait, base in zip(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600], strict=True):
        assert base * 0.9 <= wait <= base * 1.1
    assert deliver_due_emails() == 0
    fresh(email)
    assert (email.state, email.attempts) == (State.FAILED, 10)
    assert email.claimed_until is None
    clock.shift(timedelta(days=1))
    assert deliver_due_emails() == 0
    assert len(smtp.calls) == 10
    assert mail.outbox == []


def test_any_other_error_is_transient(db, clock, smtp):
    email = queued()
    smtp.outcomes = [ConnectionRefusedError(111, "Connection refused")]
    assert deliver_due_emails() == 0
    fresh(email)
    assert email.state == State.ERRORED
    assert "ConnectionRefusedError" in email.error


def test_a_claimed_email_is_left_alone_until_its_lease_expires(db, clock, smtp):
    email = queued()
    OutboundEmail.objects.filter(pk=email.pk).update(claimed_until=T0 + LEASE)  # another worker
    assert deliver_email(email.pk, T0) is False
    assert deliver_due_emails() == 0
    clock.shift(LEASE + timedelta(seconds=1))  # that worker died
    assert deliver_due_emails() == 1
    assert len(smtp.calls) == 1


def test_a_second_claim_on_the_same_email_sends_nothing(db, clock, smtp):
    email = queued()
    assert deliver_email(email.pk, T0) is True
    assert deliver_email(email.pk, T0) is False
    assert len(smtp.calls) == 1


def test_a_sent_email_survives_a_busy_database_when_its_outcome_is_written(
    db, clock, smtp, monkeypatch
):
    """The write that records SENT is retried (SQLite's lock may be held by intake): without
    it the e-mail would be sent again when its lease expires."""
    from django.db import OperationalError

    email = queued()
    original, failures = OutboundEmail.objects.filter, []

    class Busy:
        def __init__(self, queryset):
            self.queryset = queryset

        def update(self, **fields):
            if fields.get("state") == State.SENT and len(failures) < 2:
                failures.append(1)
                raise OperationalError("database is locked")
            return self.queryset.update(**fields)

        def __getattr__(self, name):
            return getattr(self.queryset, name)

    def filter_(*args, **kwargs):
        return Busy(original(*args, **kwargs))

    monkeypatch.setattr(OutboundEmail.objects, "filter", filter_)
    assert deliver_email(email.pk, T0) is True
    monkeypatch.undo()
    assert failures == [1, 1]
    assert fresh(email).state == State.SENT
    clock.shift(LEASE * 2)
    assert deliver_due_emails() == 0
    assert len(smtp.calls) == 1


@pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs real concurrent connections (the SQLite test database is shared-cache)",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_email_send_it_once(smtp):
    email = queued()
    smtp.delay = 0.2  # the first claimant is still sending when the second one tries
    results, errors = [], []
    start = threading.Barrier(2)

    def run():
        try:
            start.wait()
            results.append(deliver_email(email.pk, timezone.now()))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    connections.close_all()
    assert errors == []
    assert sorted(results) == [False, True]
    assert len(smtp.calls) == 1
    assert len(mail.outbox) == 1
    assert fresh(email).state == State.SENT


def test_one_worker_iteration_sends_sms_and_email(world, clock, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    console = make_channel(world.mission, "console", "+243990000105")
    message = outbound(console)
    email = queued()
    call_command("worker", "--once")
    message.refresh_from_db()
    assert message.state == OutboundMessage.State.SENT
    assert message.external_id in (tmp_path / "console-sms.log").read_text()
    assert fresh(email).state == State.SENT
    assert [m.to for m in mail.outbox] == [[TO]]


def test_a_failing_email_does_not_stop_the_sms(world, clock, settings, tmp_path, smtp):
    settings.DATA_DIR = tmp_path
    console = make_channel(world.mission, "console", "+243990000105")
    message = outbound(console)
    queued()
    smtp.outcomes = [smtplib.SMTPServerDisconnected("gone")]
    call_command("worker", "--once")
    message.refresh_from_db()
    assert message.state == OutboundMessage.State.SENT
    assert OutboundEmail.objects.get().state == State.ERRORED
