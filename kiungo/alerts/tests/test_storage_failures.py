"""Disk full and read-only database: intake answers 503 + Retry-After and stores nothing.

The failures are real ones, made by the database itself on the test connection:
- SQLite "database or disk is full" (SQLITE_FULL): `PRAGMA max_page_count` lowered to the
  database's current size, and its free pages used up by a filler table, so the next page a
  write needs cannot be had;
- SQLite "attempt to write a readonly database": `PRAGMA query_only = ON`;
- PostgreSQL "cannot execute INSERT in a read-only transaction":
  `SET default_transaction_read_only = on` for the session.
Each is tried on the gateway receive endpoint (a console channel) and on `POST /api/alerts`;
after the failure is lifted, the same message (same gateway id, same Idempotency-Key) is
accepted once, and its retry creates nothing. A failure that strikes the worker while it files
a stored message leaves the message waiting (RECEIVED), never set aside or half-filed: the next
pass files it.

Transactional tests (no test-wide transaction around them): SQLite answers SQLITE_FULL by
rolling back the whole transaction, and PostgreSQL applies the read-only default only to
transactions that start after it is set.
"""

import contextlib
import json

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client

from kiungo.alerts.intake import process_received
from kiungo.alerts.models import Alert
from kiungo.api.models import ApiToken
from kiungo.messaging.gateways.testing import make_channel, url
from kiungo.messaging.models import InboundMessage, OutboundMessage

ENGINE = settings.DATABASES["default"]["ENGINE"]
SQLITE = ENGINE == "django.db.backends.sqlite3"
POSTGRES = ENGINE == "django.db.backends.postgresql"
FILLER = "kiungo_test_storage_filler"

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def sqlite_disk_full():
    """The database cannot grow by one page: SQLite raises SQLITE_FULL on the next write
    that needs a new page (restored afterwards)."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA max_page_count")
        before = cursor.fetchone()[0]
        cursor.execute(f"CREATE TABLE {FILLER} (b BLOB)")
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        # Free pages (left by earlier tests' deletions) would still take writes: use them up.
        size = 64 * 1024
        while size >= 16:
            try:
                cursor.execute(f"INSERT INTO {FILLER} VALUES (zeroblob({size}))")
            except OperationalError as error:
                assert "full" in str(error)
                size //= 2
    try:
        yield "full"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {FILLER}")
            cursor.execute(f"PRAGMA max_page_count = {before}")


@contextlib.contextmanager
def sqlite_read_only():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA query_only = ON")
    try:
        yield "readonly"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA query_only = OFF")


@contextlib.contextmanager
def postgres_read_only():
    with connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = on")
    try:
        yield "read-only transaction"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = off")


FAILURES = {
    "sqlite-disk-full": (SQLITE, sqlite_disk_full),
    "sqlite-read-only": (SQLITE, sqlite_read_only),
    "postgres-read-only": (POSTGRES, postgres_read_only),
}


@pytest.fixture(params=list(FAILURES))
def failure(request):
    applies, make = FAILURES[request.param]
    if not applies:
        pytest.skip(f"{request.param}: not this database ({connection.vendor})")
    return make


def stored() -> tuple[int, int, int]:
    return InboundMessage.objects.count(), Alert.objects.count(), OutboundMessage.objects.count()


def assert_unavailable(response) -> None:
    assert response.status_code == 503, (response.status_code, response.content[:300])
    assert int(response["Retry-After"]) > 0


# Long enough that storing it needs a new page (an overflow page for the text and the raw
# request): a write that fits in the free space of pages the database already has still
# succeeds on a "full" SQLite database, and is then rightly acknowledged (see the next test).
LONG = ("ALERTE Beni attaque hommes armés " + "€" * 2000)[:1900]  # 3 bytes a "€"


def test_the_gateway_is_told_to_retry_and_the_retry_is_stored_once(world, failure):
    channel = make_channel(world.mission, "console", "+243990000105")
    form = {"from": "+243997654321", "text": LONG, "id": "gw-1"}
    client = Client()
    before = stored()
    with failure() as kind:
        for _retry in range(2):  # the gateway's retries fail the same way while it lasts
            response = client.post(url(channel), form)
            assert_unavailable(response)
            assert stored() == before, f"{kind}: something was stored"

    first = client.post(url(channel), form)
    assert first.status_code == 200 and first.json()["duplicate"] is False
    again = client.post(url(channel), form)
    assert again.status_code == 200 and again.json() == {**first.json(), "duplicate": True}
    assert InboundMessage.objects.filter(channel=channel, external_id="gw-1").count() == 1
    assert process_received() == 1
    assert Alert.objects.filter(inbound__channel=channel).count() == 1


@pytest.mark.skipif(not SQLITE, reason="SQLite's page limit")
@pytest.mark.parametrize("length", [20, 200, 600, 1000, 1400, 1900])
def test_on_a_full_sqlite_database_only_what_was_stored_is_acknowledged(world, length):
    """Whichever write runs out of room (the message; then, in the worker, the alert, the
    incident, the receipt), the answer is 503 with nothing kept or 2xx with the message kept,
    and the worker files it completely or not at all: SQLite rolls the whole transaction back
    on SQLITE_FULL, and nothing may carry on half-written."""
    channel = make_channel(world.mission, "console", "+243990000105")
    form = {"from": "+243997654321", "text": LONG[:length], "id": f"gw-{length}"}
    client = Client()
    before = stored()
    with sqlite_disk_full():
        response = client.post(url(channel), form)
        after = stored()
        with contextlib.suppress(OperationalError):  # the worker logs it and tries again
            process_received()
        filed = stored()
    if response.status_code == 503:
        assert after == before
    else:
        assert response.status_code == 200, response.content[:300]
        assert after[0] == before[0] + 1
        message = InboundMessage.objects.get(channel=channel, external_id=f"gw-{length}")
        alerts = Alert.objects.filter(inbound=message).count()
        assert (message.state, alerts, filed[1]) in [
            (InboundMessage.State.RECEIVED, 0, before[1]),  # waiting: filed after space is back
            (InboundMessage.State.PROCESSED, 1, before[1] + 1),
        ], message.error
    retry = client.post(url(channel), form)
    assert retry.status_code == 200
    process_received()
    assert InboundMessage.objects.filter(channel=channel, external_id=f"gw-{length}").count() == 1
    message = InboundMessage.objects.get(channel=channel, external_id=f"gw-{length}")
    assert message.state == InboundMessage.State.PROCESSED
    assert Alert.objects.filter(inbound__channel=channel).count() == 1


def test_the_api_answers_503_and_the_retry_with_the_same_key_is_stored_once(world, failure):
    _token, raw = ApiToken.issue(world.users["ewo"], "test")
    client = Client(headers={"Authorization": f"Bearer {raw}", "Idempotency-Key": "dev-1"})
    payload = json.dumps({"mission": world.mission.code, "text": LONG, "place": "CD6101"})
    before = stored()
    with failure():
        response = client.post("/api/alerts", payload, content_type="application/json")
        assert_unavailable(response)
        assert stored() == before

    first = client.post("/api/alerts", payload, content_type="application/json")
    assert first.status_code == 201, first.content[:300]
    again = client.post("/api/alerts", payload, content_type="application/json")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["reference"] == first.json()["reference"]
    assert Alert.objects.filter(idempotency_key="dev-1").count() == 1


@pytest.mark.skipif(not SQLITE, reason="SQLite's page limit")
def test_a_disk_full_while_the_worker_files_the_alert_leaves_the_message_waiting(world):
    """The message is stored and acknowledged; the disk fills before the worker files it:
    nothing is half-written, the message is not set aside for a person, and the next pass
    after space is freed files it once."""
    channel = make_channel(world.mission, "console", "+243990000105")
    response = Client().post(url(channel), {"from": "+243997654321", "text": LONG, "id": "late"})
    assert response.status_code == 200
    before = stored()
    with sqlite_disk_full():
        with pytest.raises(OperationalError, match="full"):
            process_received()
        assert stored() == before
    message = InboundMessage.objects.get(external_id="late")
    assert (message.state, message.error) == (InboundMessage.State.RECEIVED, "")
    assert process_received() == 1
    message.refresh_from_db()
    assert message.state == InboundMessage.State.PROCESSED
    assert Alert.objects.filter(inbound=message).count() == 1


def test_a_refusal_while_saving_the_alert_leaves_the_message_waiting(world, monkeypatch):
    """A transient refusal (disk full, read-only, locked) while the worker saves the alert
    must leave the message to be taken again, not set it aside for a person (its alert would
    then never be made by itself)."""
    channel = make_channel(world.mission, "console", "+243990000105")
    response = Client().post(url(channel), {"from": "+243997654321", "text": "ALERTE", "id": "x"})
    assert response.status_code == 200

    def refuse(alert):
        raise OperationalError("database or disk is full")

    with monkeypatch.context() as patch:
        patch.setattr("kiungo.alerts.intake.save_alert", refuse)
        with pytest.raises(OperationalError):
            process_received()
    assert list(InboundMessage.objects.values_list("state", flat=True)) == ["received"]
    assert not Alert.objects.exists()
    assert process_received() == 1
    assert Alert.objects.get().inbound.state == InboundMessage.State.PROCESSED
