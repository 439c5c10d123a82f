"""`manage.py rotate_keys`: every encrypted value re-encrypted with the new key, every keyed
hash recomputed with the new hash key; lookups by number still work afterwards, and during
the rotation (KIUNGO_PREVIOUS_HASH_KEYS)."""

import io

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from kiungo.alerts.intake import IncomingSMS, receive_sms
from kiungo.alerts.models import Alert
from kiungo.lib import crypto
from kiungo.messaging.models import InboundMessage
from kiungo.network.management.commands.rotate_keys import COPIED, HASHED, NOT_KEYED
from kiungo.network.models import Contact
from kiungo.people.models import CLAProfile

from .conftest import BENI_PHONE, BENI_SECOND

CLA_PHONE = "+243990005555"
OLD_FIELD, NEW_FIELD = Fernet.generate_key().decode(), Fernet.generate_key().decode()
OLD_HASH, NEW_HASH = "old-hash-key-0123456789-abcdefghij", "new-hash-key-0123456789-abcdefghij"


@pytest.fixture
def keys(monkeypatch):
    def use(field_keys, hash_key, previous_hash=""):
        monkeypatch.setenv("KIUNGO_FIELD_KEYS", field_keys)
        monkeypatch.setenv("KIUNGO_HASH_KEY", hash_key)
        monkeypatch.setenv("KIUNGO_PREVIOUS_HASH_KEYS", previous_hash)
        crypto.clear_key_caches()

    yield use
    monkeypatch.undo()
    crypto.clear_key_caches()


def raw(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_rotation_re_encrypts_and_rehashes_everything(world, keys, channel):
    keys(OLD_FIELD, OLD_HASH)
    from .conftest import make_contact

    contact = make_contact(world, "NK-BEN-001", world.beni, [BENI_PHONE, BENI_SECOND], "Masika")
    profile = world.users["cla"].cla_profile
    profile.phone = CLA_PHONE
    profile.save()
    old_hash = raw("network_contact", "phone_hash", contact.pk)
    message, _created = receive_sms(
        channel, IncomingSMS(sender=BENI_PHONE, text="Coups de feu à Beni", external_id="r1")
    )
    alert = Alert.objects.get(inbound=message)

    # The new keys go in; the old hash key stays as "previous" during the rotation.
    keys(f"{NEW_FIELD},{OLD_FIELD}", NEW_HASH, previous_hash=OLD_HASH)
    assert Contact.objects.with_number(world.mission, BENI_PHONE).get() == contact
    # the worker's batch lookup too: an SMS during the rotation still comes from its contact
    assert Contact.objects.holding_numbers(world.mission, {BENI_PHONE}) == {BENI_PHONE: contact}
    call_command("rotate_keys", stdout=io.StringIO())

    keys(NEW_FIELD, NEW_HASH)  # the old keys are gone
    new_fernet = Fernet(NEW_FIELD.encode())
    secondary = contact.numbers.get()
    for table, column, pk, plain in [
        ("network_contact", "phone", contact.pk, BENI_PHONE),
        ("network_contact", "name", contact.pk, "Masika"),
        ("network_contactphone", "number", secondary.pk, BENI_SECOND),
        ("people_claprofile", "phone", profile.pk, CLA_PHONE),
    ]:
        token = raw(table, column, pk).encode()
        assert new_fernet.decrypt(token).decode() == plain
        with pytest.raises(InvalidToken):
            Fernet(OLD_FIELD.encode()).decrypt(token)
    assert raw("network_contact", "phone_hash", contact.pk) != old_hash
    for number in (BENI_PHONE, BENI_SECOND):
        assert Contact.objects.with_number(world.mission, number).get() == contact
    assert CLAProfile.objects.with_number(CLA_PHONE).get() == profile
    alert = Alert.objects.get(pk=alert.pk)
    assert alert.sender_hash == InboundMessage.objects.get(pk=message.pk).sender_hash
    assert alert.sender_hash == crypto.keyed_hash(BENI_PHONE)
    assert Contact.objects.get(pk=contact.pk).name == "Masika"


def test_without_the_previous_hash_key_lookups_wait_for_the_rotation(world, keys):
    keys(OLD_FIELD, OLD_HASH)
    from .conftest import make_contact

    contact = make_contact(world, "NK-BEN-001", world.beni, BENI_PHONE, "Masika")
    keys(OLD_FIELD, NEW_HASH)
    assert not Contact.objects.with_number(world.mission, BENI_PHONE).exists()
    call_command("rotate_keys", stdout=io.StringIO())
    assert Contact.objects.with_number(world.mission, BENI_PHONE).get() == contact


def test_every_keyed_hash_column_is_recomputed():
    """A new *_hash column must be declared in rotate_keys.HASHED, or rotation would orphan it."""
    declared = {(label, hash_field) for (label, _field), hash_field in HASHED.items()}
    declared |= set(COPIED) | NOT_KEYED
    found = set()
    for model in apps.get_models():
        for field in model._meta.fields:
            if field.name.endswith("_hash"):
                found.add((model._meta.label, field.name))
    assert found <= declared, found - declared
