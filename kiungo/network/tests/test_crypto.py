"""Encryption at rest, keyed hashes, and key rotation."""

from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from kiungo.lib import crypto
from kiungo.network.models import Contact


def raw_phone(contact):
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM network_contact WHERE id = %s", [contact.pk])
        return cursor.fetchone()[0]


def test_values_are_encrypted_and_read_back(world):
    contact = Contact.objects.create(
        mission=world.mission, code="C-1", phone="+243991111111", name="Masika"
    )
    assert "991111111" not in raw_phone(contact)
    assert Contact.objects.get(pk=contact.pk).phone == "+243991111111"
    assert Contact.objects.with_number(world.mission, "+243991111111").get() == contact


def test_the_keyed_hash_depends_on_the_key(monkeypatch):
    first = crypto.keyed_hash("+243991111111")
    crypto._hash_key.cache_clear()
    monkeypatch.setenv("KIUNGO_HASH_KEY", "another-key")
    try:
        assert crypto.keyed_hash("+243991111111") != first
    finally:
        crypto._hash_key.cache_clear()


def test_rotation_re_encrypts_with_the_new_key(world, monkeypatch):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    crypto._fernet.cache_clear()
    monkeypatch.setenv("KIUNGO_FIELD_KEYS", old)
    try:
        contact = Contact.objects.create(mission=world.mission, code="C-1", phone="+243991111111")
        before = raw_phone(contact)
        crypto._fernet.cache_clear()
        monkeypatch.setenv("KIUNGO_FIELD_KEYS", f"{new},{old}")
        call_command("rotate_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
        after = raw_phone(contact)
        assert after != before
        assert Fernet(new.encode()).decrypt(after.encode()) == b"+243991111111"
        crypto._fernet.cache_clear()
        monkeypatch.setenv("KIUNGO_FIELD_KEYS", new)  # the old key is no longer needed
        assert Contact.objects.get(pk=contact.pk).phone == "+243991111111"
    finally:
        crypto._fernet.cache_clear()
