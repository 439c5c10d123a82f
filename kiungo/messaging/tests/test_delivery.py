"""The outbox worker: claims, outcomes, retries with backoff, rate limits, races, the command."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from kiungo.lib import worker
from kiungo.lib.testing import build_world
from kiungo.messaging import delivery
from kiungo.messaging.delivery import LEASE, claim, deliver_due
from kiungo.messaging.gateways import TransportError
from kiungo.messaging.gateways.smssync.transport import SMSSyncTransport
from kiungo.messaging.gateways.testing import make_channel, outbound
from kiungo.messaging.gateways.twilio.transport import TwilioTransport
from kiungo.messaging.models import OutboundMessage, Purpose

State = OutboundMessage.State
T0 = datetime(2026, 11, 25, 12, 0, 30, tzinfo=UTC)


class FakeSend:
    """Stands in for TwilioTransport.send: records calls, answers from `outcomes` in turn
    (an exception to raise, or a gateway id), then "SM<pk>"."""

    def __init__(self):
        self.calls: list[int] = []
        self.threads: set[str] = set()
        self.outcomes: list = []
        self.delay = 0.0  # seconds a send takes (lets two threads interleave)
        self.lock = threading.Lock()

    def __call__(self, transport, message):
        with self.lock:
            self.calls.append(message.pk)
            self.threads.add(threading.current_thread().name)
            outcome = self.outcomes.pop(0) if self.outcomes else f"SM{message.pk}"
        time.sleep(self.delay)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


@pytest.fixture
def send(monkeypatch):
    fake = FakeSend()
    monkeypatch.setattr(TwilioTransport, "send", lambda transport, m: fake(transport, m))
    return fake


@pytest.fixture
def channel(world):
    return make_channel(world.mission, "twilio", "+243810000001", account_sid="AC1", auth_token="t")


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def fresh(message):
    message.refresh_from_db()
    return message


def test_it_sends_a_queued_message_and_records_the_result(channel, send, clock):
    message = outbound(channel)
    assert deliver_due() == 1
    fresh(message)
    assert send.calls == [message.pk]
    assert message.state == State.SENT
    assert message.external_id == f"SM{message.pk}"
    assert message.sent_at == T0
    assert message.attempts == 1
    assert message.claimed_until is None
    assert deliver_due() == 0  # sent once, never again
    assert send.calls == [message.pk]


def test_it_writes_each_result_before_sending_the_next(channel, send, clock, monkeypatch):
    first, second = outbound(channel), outbound(channel)
    seen = []

    def record(transport, message):
        seen.append(fresh(OutboundMessage.objects.get(pk=first.pk)).state)
        return "id"

    monkeypatch.setattr(TwilioTransport, "send", record)
    assert deliver_due() == 2
    # While the second is being sent, the first is already SENT (a fast report finds it).
    assert seen == [State.QUEUED, State.SENT]
    assert fresh(second).state == State.SENT


def test_it_waits_for_next_attempt_at(channel, send, clock):
    message = outbound(channel)
    OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=T0 + timedelta(minutes=5))
    assert deliver_due() == 0
    clock.shift(timedelta(minutes=5))
    assert deliver_due() == 1


def test_it_never_retries_a_permanent_failure(channel, send, clock):
    message = outbound(channel)
    send.outcomes = [TransportError("Twilio: invalid 'To' number (21211)", permanent=True)]
    assert deliver_due() == 0
    fresh(message)
    assert message.state == State.FAILED
    assert message.attempts == 1
    assert "21211" in message.error
    assert message.claimed_until is None
    clock.shift(timedelta(days=2))
    assert deliver_due() == 0
    assert send.calls == [message.pk]


def test_it_retries_a_transient_failure_with_growing_backoff_then_gives_up(channel, send, clock):
    message = outbound(channel)
    send.outcomes = [TransportError("Twilio answered HTTP 503") for _ in range(10)]
    waits = []
    for attempt in range(1, 10):
        assert deliver_due() == 0
        fresh(message)
        assert message.state == State.ERRORED
        assert message.attempts == attempt
        wait = message.next_attempt_at - timezone.now()
        waits.append(wait.total_seconds())
        assert deliver_due() == 0  # not before its time
        assert len(send.calls) == attempt
        clock.move_to(message.next_attempt_at)
    expected = [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    for wait, base in zip(waits, expected, strict=True):
        assert base * 0.9 <= wait <= base * 1.1
    assert deliver_due() == 0  # the tenth failure
    fresh(message)
    assert message.state == State.FAILED
    assert message.attempts == 10
    assert message.error.startswith("gave up after 10 attempts")
    clock.shift(timedelta(days=1))
    assert deliver_due() == 0
    assert len(send.calls) == 10


def test_a_transient_failure_then_success(channel, send, clock):
    message = outbound(channel)
    send.outcomes = [TransportError("Twilio unreachable: ConnectTimeout")]
    deliver_due()
    clock.move_to(fresh(message).next_attempt_at)
    assert deliver_due() == 1
    fresh(message)
    assert message.state == State.SENT
    assert message.attempts == 2
    assert message.error == ""


def test_an_unexpected_exception_is_logged_and_retried_not_fatal(channel, send, clock, caplog):
    broken, fine = outbound(channel), outbound(channel)
    send.outcomes = [KeyError("a transport bug")]
    assert deliver_due() == 1  # the loop went on to the next message
    fresh(broken)
    assert broken.state == State.ERRORED
    assert broken.attempts == 1
    assert broken.error == "unexpected error: KeyError"
    assert broken.claimed_until is None
    assert fresh(fine).state == State.SENT
    assert f"outbound {broken.pk}: unexpected error" in caplog.text
    assert "+243997000123" not in caplog.text
    clock.move_to(broken.next_attempt_at)
    assert deliver_due() == 1
    assert fresh(broken).state == State.SENT


def test_a_channel_with_a_broken_config_pushes_its_own_deadline(channel, send, clock):
    message = outbound(channel)
    channel.secrets = "not json"
    channel.save()
    assert deliver_due() == 0
    fresh(message)
    assert message.state == State.ERRORED
    assert message.next_attempt_at > T0
    assert send.calls == []


def test_it_respects_the_channel_rate_limit(channel, send, clock):
    channel.send_per_minute = 3
    channel.save()
    messages = [outbound(channel) for _ in range(5)]
    assert deliver_due() == 3
    waiting = [fresh(m) for m in messages[3:]]
    for message in waiting:
        assert message.state == State.QUEUED
        assert message.attempts == 0  # waiting for the rate limit is not an attempt
        assert message.next_attempt_at == datetime(2026, 11, 25, 12, 1, tzinfo=UTC)
        assert message.claimed_until is None
    clock.move_to(datetime(2026, 11, 25, 12, 1, tzinfo=UTC))
    assert deliver_due() == 0  # the three sent at 12:00:30 are still in the last minute
    clock.move_to(datetime(2026, 11, 25, 12, 2, tzinfo=UTC))
    assert deliver_due() == 2
    assert len(send.calls) == 5


def test_community_messages_leave_a_fifth_of_the_rate_to_units(channel, send, clock):
    channel.send_per_minute = 10
    channel.save()
    receipts = [outbound(channel, purpose=Purpose.RECEIPT) for _ in range(12)]
    assert deliver_due() == 8  # 80 % of the channel's rate for the community
    assert [fresh(m).state for m in receipts].count(State.SENT) == 8
    escalations = [outbound(channel, purpose=Purpose.ESCALATION) for _ in range(3)]
    assert deliver_due() == 2  # the reserved fifth, whatever the receipts waiting
    assert [fresh(m).state for m in escalations].count(State.SENT) == 2


def test_urgent_messages_go_first(channel, send, clock):
    channel.send_per_minute = 1
    channel.save()
    outbound(channel, purpose=Purpose.RECEIPT)
    escalation = outbound(channel, purpose=Purpose.ESCALATION)
    assert deliver_due() == 1
    assert fresh(escalation).state == State.SENT


def test_the_rate_limit_is_per_channel(world, channel, send, clock):
    channel.send_per_minute = 1
    channel.save()
    other = make_channel(world.mission, "twilio", account_sid="AC2", auth_token="t")
    for sender in (channel, channel, other):
        outbound(sender)
    assert deliver_due() == 2


def test_it_leaves_smssync_messages_queued_for_the_phone(world, send, clock, monkeypatch):
    polled = []
    monkeypatch.setattr(SMSSyncTransport, "send", lambda transport, m: polled.append(m.pk))
    phone = make_channel(world.mission, "smssync", secret="s3cret")
    message = outbound(phone)
    assert deliver_due() == 0
    fresh(message)
    assert polled == []
    assert message.state == State.QUEUED
    assert message.attempts == 0
    assert message.claimed_until is None


def test_it_skips_inactive_channels(channel, send, clock):
    outbound(channel)
    channel.active = False
    channel.save()
    assert deliver_due() == 0


def test_a_row_claimed_by_another_worker_is_not_sent(channel, send, clock):
    message = outbound(channel)
    assert claim(message.pk, T0) is True  # worker A
    assert claim(message.pk, T0) is False  # worker B: 0 rows changed
    assert deliver_due() == 0
    assert send.calls == []


def test_a_crashed_workers_claim_expires(channel, send, clock):
    message = outbound(channel)
    assert claim(message.pk, T0)  # the worker dies here, before sending
    clock.shift(LEASE - timedelta(seconds=1))
    assert deliver_due() == 0
    clock.shift(timedelta(seconds=2))
    assert deliver_due() == 1
    assert send.calls == [message.pk]


def test_the_claim_rechecks_the_state(channel, send, clock):
    message = outbound(channel)
    ids = delivery.due(T0, 50)
    # Between the SELECT and the claim, the message was sent by another worker.
    OutboundMessage.objects.filter(pk=message.pk).update(state=State.SENT)
    assert ids == [message.pk]
    assert claim(message.pk, T0) is False


@pytest.mark.django_db(transaction=True)
def test_two_workers_send_each_message_exactly_once(send):
    world = build_world()
    twilio = make_channel(world.mission, "twilio", account_sid="AC1", auth_token="t")
    twilio.send_per_minute = 1000
    twilio.save()
    ids = [outbound(twilio).pk for _ in range(50)]
    send.delay = 0.002
    errors = []
    start = threading.Barrier(2)

    def run():
        try:
            start.wait()
            for _ in range(100):  # until nothing is due (a pass may lose a lock race)
                if not deliver_due(limit=7) and not delivery.due(timezone.now(), 1):
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
    assert sorted(send.calls) == sorted(ids)  # every message once, none twice
    assert send.threads == {"worker-1", "worker-2"}  # both really worked
    assert OutboundMessage.objects.filter(state=State.SENT).count() == 50


# The worker command ----------------------------------------------------------------------


@pytest.fixture
def task():
    calls = []

    def count_calls():
        calls.append(1)

    worker.register(count_calls)
    worker.register(count_calls)  # registering twice runs it once
    yield calls
    worker.unregister(count_calls)


def test_the_worker_sends_and_runs_registered_tasks(channel, send, task):
    message = outbound(channel)

    def broken():
        raise RuntimeError("a task bug")

    worker.register(broken)
    try:
        call_command("worker", "--once")
    finally:
        worker.unregister(broken)
    assert fresh(message).state == State.SENT
    assert task == [1]  # ran once, and the broken task did not stop the iteration


def test_what_a_task_queued_is_sent_before_the_next_task_runs(channel, send):
    """An escalation's SMS goes out at once, not after filing a surge takes its budget."""
    queued, seen_by_the_next_task = [], []

    def escalate():
        queued.append(outbound(channel, purpose=Purpose.ESCALATION))
        return 1  # did something

    def file_a_surge():  # (an assertion here would only be logged by the worker)
        seen_by_the_next_task.extend(fresh(message).state for message in queued)

    worker.register(escalate)
    worker.register(file_a_surge)
    try:
        call_command("worker", "--once")
    finally:
        worker.unregister(escalate)
        worker.unregister(file_a_surge)
    assert seen_by_the_next_task == [State.SENT]


def test_the_worker_stops_on_sigterm(channel, send, task, monkeypatch):
    import os
    import signal

    def stop_soon():
        if len(task) == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    worker.register(stop_soon)
    try:
        call_command("worker", "--interval", "0.01")
    finally:
        worker.unregister(stop_soon)
    assert len(task) == 2  # the iteration that got the signal finished, then it stopped
