"""The gateway stores, the worker files: stored SMS are processed once each, in arrival order,
by however many workers, with deadlines counted from when the message arrived."""

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kiungo.alerts import intake
from kiungo.alerts.intake import IncomingSMS, process_received, store_sms
from kiungo.alerts.models import Alert, Incident
from kiungo.lib.crypto import keyed_hash
from kiungo.lib.testing import build_world
from kiungo.messaging.gateways.testing import make_channel
from kiungo.messaging.models import InboundMessage, OutboundMessage, Purpose

PLACES = ["Beni", "Bunia", "Butembo"]


def sms(number: int, place: str = "Beni") -> IncomingSMS:
    return IncomingSMS(
        sender=f"+24399{number:07d}",
        text=f"ALERTE {place} attaque hommes armés",
        external_id=f"q-{number}",
    )


@pytest.fixture(autouse=True)
def _unhurried(monkeypatch):
    # A pass's time budget is for production; a slow test machine must not cut a pass short.
    monkeypatch.setattr(intake, "PROCESS_BUDGET", 60.0)


def test_the_worker_files_what_the_gateway_stored(world):
    channel = make_channel(world.mission, "console", "+243990000105")
    for number in range(3):
        store_sms(channel, sms(number))
    assert not Alert.objects.exists()
    call_command("worker", "--once")
    assert set(InboundMessage.objects.values_list("state", flat=True)) == {"processed"}
    assert Alert.objects.count() == 3
    assert Incident.objects.get().alert_count == 3  # grouped: one attack, three reports


def test_messages_are_filed_in_arrival_order(world):
    channel = make_channel(world.mission, "console", "+243990000105")
    stored = [store_sms(channel, sms(number, PLACES[number % 3]))[0] for number in range(9)]
    assert process_received() == 9
    filed = list(Alert.objects.order_by("pk").values_list("inbound_id", flat=True))
    assert filed == [message.pk for message in stored]


def test_a_backlog_does_not_move_deadlines(world):
    """A message filed late (the worker was busy or stopped) keeps the deadlines of the time
    it arrived: an incident already overdue is escalated at once, not given more time."""
    channel = make_channel(world.mission, "console", "+243990000105")
    arrived = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    with time_machine.travel(arrived, tick=False):
        message, _ = store_sms(channel, sms(1))
    filed = arrived + timedelta(hours=3)
    with time_machine.travel(filed, tick=False):
        assert process_received() == 1
    incident = Alert.objects.get(inbound=message).incident
    assert incident.first_reported_at == arrived
    assert incident.acknowledge_due_at == arrived + incident.level.acknowledge_within < filed
    assert incident.next_escalation_at <= filed  # the next worker pass escalates it


def test_a_batch_reads_its_senders_contacts_and_receipts_once(world):
    """What every message of a batch needs is read once for the batch, not once a message:
    the worker's filing rate bounds how soon a surge is routed."""
    channel = make_channel(world.mission, "console", "+243990000105")
    for number in range(4):
        store_sms(channel, sms(number))
    again = IncomingSMS(sender=sms(0).sender, text="ALERTE Bunia pillage", external_id="again")
    store_sms(channel, again)
    pending = list(InboundMessage.objects.select_related("channel__mission").order_by("pk"))
    with CaptureQueriesContext(connection) as queries:
        assert intake.process_batch(pending) == 5
    statements = [query["sql"] for query in queries.captured_queries]
    assert sum('FROM "network_contactphone"' in sql for sql in statements) == 1
    assert sum("\"purpose\" = 'receipt'" in sql and "SELECT" in sql for sql in statements) == 1
    # one receipt per sender, though the first sent two messages in the batch
    receipts = OutboundMessage.objects.filter(purpose=Purpose.RECEIPT)
    assert Counter(receipts.values_list("to_hash", flat=True)) == {
        keyed_hash(sms(number).sender): 1 for number in range(4)
    }
    assert Alert.objects.count() == 5


def test_on_sqlite_a_worker_behind_gives_way_while_gateways_store(world, monkeypatch):
    """SQLite has one write lock: while messages arrive faster than the worker files them, it
    pauses after each filing transaction as long as it held the lock, so acknowledgments come
    first. Keeping up, or once the surge is over, it files at full speed."""
    pauses = []
    monkeypatch.setattr(intake.time, "sleep", pauses.append)
    monkeypatch.setattr(intake, "FILE_BATCH_SQLITE", 1)
    monkeypatch.setattr(intake, "BEHIND", 2)  # 2 or more stored after the last one filed
    channel = make_channel(world.mission, "console", "+243990000105")
    store_sms(channel, sms(1))
    assert process_received() == 1
    assert pauses == []  # keeping up
    for number in (2, 3, 4):
        store_sms(channel, sms(number))
    assert process_received() == 3
    if connection.vendor == "sqlite":
        # after filing the first, two more were waiting: behind; after the second, one
        assert len(pauses) == 1 and 0 < pauses[0] < 5  # as long as the transaction took
    else:
        assert pauses == []  # PostgreSQL locks rows: nothing to give way to
    pauses.clear()
    for number in (5, 6, 7):
        store_sms(channel, sms(number))
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):  # the surge is over
        assert process_received() == 3
    assert pauses == []


def test_a_pass_stops_after_its_time_budget(world, monkeypatch):
    """Escalations and sends run between passes: a long backlog is taken in slices (whole
    batches: the budget is checked after each)."""
    channel = make_channel(world.mission, "console", "+243990000105")
    for number in range(5):
        store_sms(channel, sms(number))
    now = [1000.0]
    monkeypatch.setattr(intake.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(intake, "FILE_BATCH", 1)
    monkeypatch.setattr(intake, "FILE_BATCH_SQLITE", 1)
    process_batch = intake.process_batch

    def slow_batch(messages):  # each batch takes a second
        now[0] += 1
        return process_batch(messages)

    monkeypatch.setattr(intake, "process_batch", slow_batch)
    assert process_received(budget=1.5) == 2  # 1 s: go on; 2 s: over budget, stop
    assert InboundMessage.objects.filter(state="received").count() == 3


@pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs real concurrent connections (the SQLite test database is shared-cache)",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_file_each_message_once():
    world = build_world()
    channel = make_channel(world.mission, "console", "+243990000105")
    total = 90
    for number in range(total):
        store_sms(channel, sms(number, PLACES[number % 3]))
    done: Counter = Counter()
    errors = []
    start = threading.Barrier(2)

    def run():
        try:
            start.wait()
            while InboundMessage.objects.filter(state="received").exists():
                done[threading.current_thread().name] += process_received(budget=0.05)
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
    assert sum(done.values()) == total  # each claim counted once, by the worker that won it
    assert set(done) == {"worker-1", "worker-2"}
    assert set(InboundMessage.objects.values_list("state", flat=True)) == {"processed"}
    assert Alert.objects.count() == total
    assert Alert.objects.values("inbound").distinct().count() == total
    assert Incident.objects.count() == len(PLACES)  # still grouped, whoever filed what


def test_a_message_that_breaks_filing_is_set_aside_and_its_batch_goes_on(world, monkeypatch):
    channel = make_channel(world.mission, "console", "+243990000105")
    stored = [store_sms(channel, sms(number))[0] for number in range(3)]
    save_alert = intake.save_alert

    def broken_for_the_second(alert):
        if alert.inbound_id == stored[1].pk:
            raise ValueError("a bug")
        save_alert(alert)

    monkeypatch.setattr(intake, "save_alert", broken_for_the_second)
    assert process_received() == 3
    states = dict(InboundMessage.objects.values_list("pk", "state"))
    assert [states[message.pk] for message in stored] == ["processed", "needs_review", "processed"]
    assert Alert.objects.filter(inbound__in=[stored[0], stored[2]]).count() == 2
    assert "ValueError: a bug" in InboundMessage.objects.get(pk=stored[1].pk).error
