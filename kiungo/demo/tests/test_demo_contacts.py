"""The demo's key contacts, consent records, outreach, broadcast templates and past broadcast."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from kiungo.demo import contacts as demo_contacts
from kiungo.demo.channels import DEMO_CONTACTS
from kiungo.messaging.models import OutboundMessage, Purpose
from kiungo.missions.models import Mission
from kiungo.network.models import (
    Broadcast,
    BroadcastTemplate,
    ConsentRecord,
    Contact,
    OutreachActivity,
)
from kiungo.people.models import CLAProfile


@pytest.fixture(scope="module")
def demo_loaded(django_db_setup, django_db_blocker):
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    fast = override_settings(PASSWORD_HASHERS=hashers)
    with django_db_blocker.unblock(), fast, transaction.atomic():
        call_command("demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def monusco(demo_loaded, db):
    return Mission.objects.get(code="MONUSCO")


def test_every_base_with_clas_has_contacts_managed_by_its_clas(monusco):
    bases = set(
        CLAProfile.objects.filter(base__mission=monusco, user__is_active=True).values_list(
            "base_id", flat=True
        )
    )
    managed = Contact.objects.filter(mission=monusco, managed_by__isnull=False)
    assert set(managed.values_list("managed_by__base_id", flat=True)) == bases
    for base_id in bases:
        assert managed.filter(managed_by__base_id=base_id).count() >= demo_contacts.PER_BASE
    assert Contact.objects.filter(code="IT-BUN-001", mission=monusco).exists()


def test_the_sms_demo_contacts_keep_their_codes_and_numbers(monusco):
    for demo in DEMO_CONTACTS:
        contact = Contact.objects.with_number(monusco, demo.phone).get()
        assert (contact.code, contact.name) == (demo.code, demo.name)
        assert contact.managed_by is not None


def test_every_contact_has_a_consent_record_matching_it(monusco):
    contacts = Contact.objects.filter(mission=monusco)
    assert set(contacts.values_list("category", flat=True)) > {"other"}
    assert set(contacts.values_list("sex", flat=True)) == {"f", "m"}
    for contact in contacts:
        record = contact.consents.get()
        assert record.consents_to_contact == contact.consents_to_contact
        assert record.method in ConsentRecord.Method.values
    assert contacts.filter(consents_to_contact=False).exists()  # some never agreed


def test_templates_outreach_and_a_delivered_broadcast(monusco):
    for template in BroadcastTemplate.objects.filter(mission=monusco):
        assert {"fr", "en", "sw"} <= set(template.texts)
    assert OutreachActivity.objects.filter(mission=monusco).count() == 20
    broadcast = Broadcast.objects.get(mission=monusco)
    assert broadcast.state == Broadcast.State.SENT and broadcast.expected > 0
    for recipient in broadcast.recipients.select_related("contact"):
        assert recipient.contact.reachable and recipient.language in broadcast.languages
        assert recipient.messages.get().state == OutboundMessage.State.DELIVERED
    assert not OutboundMessage.objects.filter(
        purpose=Purpose.BROADCAST, state=OutboundMessage.State.QUEUED
    ).exists()


def test_a_second_run_adds_nothing(monusco):
    before = Contact.objects.count(), ConsentRecord.objects.count()
    assert demo_contacts.ensure(1).already
    assert (Contact.objects.count(), ConsentRecord.objects.count()) == before
