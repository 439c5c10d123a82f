"""Contacts of the test world: one in Beni managed by the Beni CLA, one in Bunia, one in Beni
managed by nobody, one in Beni who never agreed to be contacted."""

from dataclasses import dataclass

import pytest

from kiungo.messaging.models import Channel
from kiungo.network import contacts as contact_rules
from kiungo.network.models import ConsentRecord, Contact

BENI_NAME, BENI_PHONE, BENI_SECOND = "Masika Kambale", "+243970001001", "+243970001099"
BUNIA_NAME, BUNIA_PHONE = "Baraka Paluku", "+243970002001"


@dataclass
class Contacts:
    beni: Contact
    bunia: Contact
    beni_unmanaged: Contact
    beni_no_consent: Contact


def make_contact(world, code, area, phone, name="", managed_by=None, language="fr", consent=True):
    contact = Contact(
        mission=world.mission,
        name=name,
        home_locality=area,
        managed_by=managed_by,
        language=language,
        category=Contact.Category.TEACHER,
        sex=Contact.Sex.FEMALE,
    )
    prefix = code.rsplit("-", 1)[0]
    numbers = [phone] if isinstance(phone, str) else list(phone)
    contact_rules.save_contact(contact, numbers, world.users["administrator"], prefix=prefix)
    contact_rules.record_consent(
        contact,
        to_contact=consent,
        to_feedback=consent,
        method=ConsentRecord.Method.IN_PERSON,
        by=world.users["administrator"],
    )
    assert contact.code == code
    return contact


@pytest.fixture
def contacts(world) -> Contacts:
    cla = world.users["cla"].cla_profile
    cla_bunia = world.users["cla_bunia"].cla_profile
    return Contacts(
        beni=make_contact(
            world, "NK-BEN-001", world.beni, [BENI_PHONE, BENI_SECOND], BENI_NAME, cla
        ),
        bunia=make_contact(world, "IT-BUN-001", world.bunia, BUNIA_PHONE, BUNIA_NAME, cla_bunia),
        beni_unmanaged=make_contact(world, "NK-BEN-002", world.beni, "+243970001002", "Sifa"),
        beni_no_consent=make_contact(
            world, "NK-BEN-003", world.beni, "+243970001003", "Neema", language="sw", consent=False
        ),
    )


@pytest.fixture
def channel(world):
    return Channel.objects.create(
        mission=world.mission, kind="console", name="Gateway", notifies=True
    )
