"""The acknowledgment path waits for SQLite's write lock by polling, not the busy handler's
naps; any other database error still propagates at once (the gateway is answered 503)."""

import time

import pytest
from django.db import OperationalError, connection, transaction

from kiungo.lib.write_lock import write_promptly

pytestmark = pytest.mark.django_db(transaction=True)  # autocommit, as in a web request


def locked_twice():
    calls = []

    def write():
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise OperationalError("database is locked")
        return "stored"

    return write, calls


def busy_timeout() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's lock")
def test_a_locked_database_is_tried_again_within_a_millisecond():
    write, calls = locked_twice()
    assert write_promptly(write) == "stored"
    assert len(calls) == 3 and calls[-1] - calls[0] < 0.05
    timeout = connection.settings_dict["OPTIONS"]["timeout"]
    assert busy_timeout() == timeout * 1000  # the connection's usual wait is back


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's lock")
def test_it_gives_up_at_the_connections_timeout(monkeypatch):
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.02)
    calls = []

    def always_locked():
        calls.append(1)
        raise OperationalError("database is locked")

    with pytest.raises(OperationalError):
        write_promptly(always_locked)
    assert len(calls) > 2


def test_another_error_is_not_tried_again():
    calls = []

    def disk_full():
        calls.append(1)
        raise OperationalError("database or disk is full")

    with pytest.raises(OperationalError):
        write_promptly(disk_full)
    assert calls == [1]


def test_inside_a_transaction_or_on_postgresql_it_simply_writes():
    write, calls = locked_twice()
    with transaction.atomic(), pytest.raises(OperationalError):
        write_promptly(write)  # the transaction holds the lock already (BEGIN IMMEDIATE)
    assert len(calls) == 1
    if connection.vendor == "postgresql":
        with pytest.raises(OperationalError):
            write_promptly(write)
        assert len(calls) == 2
