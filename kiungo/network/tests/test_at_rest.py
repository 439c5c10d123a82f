"""Source identities are not in the database in plain text: a demo contact's name and numbers
are searched for in the bytes of the SQLite database file (and its WAL) and of a PostgreSQL
dump. The pseudonym, stored in clear on purpose, is found: the search itself works."""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from django.db import connection

from kiungo.demo.channels import DEMO_CONTACTS
from kiungo.network.models import Contact

from .conftest import make_contact

DEMO = DEMO_CONTACTS[0]  # NK-BEN-001 of the demo, with its real-looking name and number
SECOND = "+243970001999"
PG_DUMP = Path("/usr/lib/postgresql/15/bin/pg_dump")


def secrets() -> list[bytes]:
    national = DEMO.phone.removeprefix("+243")
    return [DEMO.name.encode(), DEMO.phone.encode(), national.encode(), SECOND.encode()]


@pytest.fixture
def demo_contact(transactional_db, world):
    contact = make_contact(world, "NK-BEN-001", world.beni, [DEMO.phone, SECOND], DEMO.name)
    assert Contact.objects.with_number(world.mission, SECOND).get() == contact
    return contact


def test_not_in_the_sqlite_file(demo_contact, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    connection.ensure_connection()
    path = tmp_path / "kiungo.sqlite3"
    target = sqlite3.connect(path)
    try:
        target.execute("PRAGMA journal_mode=WAL")
        connection.connection.backup(target)  # the database's pages, byte for byte
        target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        target.close()
    files = [path] + [p for p in (tmp_path / "kiungo.sqlite3-wal",) if p.exists()]
    data = b"".join(p.read_bytes() for p in files)
    assert b"NK-BEN-001" in data and b"teacher" in data  # clear columns are found
    for secret in secrets():
        assert secret not in data, secret


def test_not_in_a_postgresql_dump(demo_contact):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (scripts/with-postgres.sh)")
    dump = str(PG_DUMP) if PG_DUMP.exists() else shutil.which("pg_dump")
    if dump is None:
        pytest.skip("pg_dump not installed")
    settings = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    command = [dump, "--data-only", "--dbname", settings["NAME"]]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings.get(key):
            command += [option, str(settings[key])]
    data = subprocess.run(command, env=env, capture_output=True, check=True, timeout=60).stdout
    assert b"NK-BEN-001" in data and b"teacher" in data  # clear columns are found
    for secret in secrets():
        assert secret not in data, secret
