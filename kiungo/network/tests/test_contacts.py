"""Contacts: pseudonyms, numbers (parsed, unique per mission, secondary ones found too),
consent records, deactivation, and who sees which contact pages."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kiungo.lib.testing import check_matrix
from kiungo.network import contacts as contact_rules
from kiungo.network.models import ConsentRecord, Contact, ContactPhone

from .conftest import BENI_NAME, BENI_PHONE, BENI_SECOND, BUNIA_PHONE


def new_contact_data(world, numbers="0970 001 555", **extra):
    data = {
        "prefix": "NK-BEN",
        "contact_name": "Zawadi Muhindo",
        "numbers": numbers,
        "category": Contact.Category.YOUTH,
        "sex": Contact.Sex.FEMALE,
        "language": "sw",
        "other_languages": ["fr"],
        "home_locality": world.beni.pk,
        "managed_by": world.users["cla"].cla_profile.pk,
        "consents_to_contact": "on",
        "consent_method": ConsentRecord.Method.IN_PERSON,
    }
    data.update(extra)
    return data


def test_a_cla_creates_a_contact_with_the_next_pseudonym(client, world, contacts):
    client.force_login(world.users["cla"])
    response = client.post(reverse("contact-new"), new_contact_data(world))
    contact = Contact.objects.get(code="NK-BEN-004")
    assert response.status_code == 302
    assert response["Location"] == reverse("contact-detail", args=[contact.pk])
    assert contact.phone == "+243970001555"  # parsed in the mission's country, E.164
    assert contact.name == "Zawadi Muhindo"
    assert (contact.language, contact.other_languages) == ("sw", ["fr"])
    assert contact.consents_to_contact and not contact.consents_to_feedback
    record = contact.consents.get()
    assert record.recorded_by == world.users["cla"]
    assert record.method == ConsentRecord.Method.IN_PERSON
    assert Contact.objects.with_number(world.mission, "+243970001555").get() == contact


def test_next_code(world, contacts):
    assert contact_rules.next_code(world.mission, "NK-BEN") == "NK-BEN-004"
    assert contact_rules.next_code(world.mission, "NK-GOM") == "NK-GOM-001"
    assert contact_rules.next_code(world.other_mission, "NK-BEN") == "NK-BEN-001"


def test_an_unparsable_number_is_a_clear_error_and_nothing_is_saved(client, world, contacts):
    client.force_login(world.users["cla"])
    before = Contact.objects.count()
    response = client.post(reverse("contact-new"), new_contact_data(world, numbers="12ab"))
    assert response.status_code == 200
    assert "is not a phone number" in response.content.decode()
    assert Contact.objects.count() == before


def test_a_duplicate_number_names_the_pseudonym_the_user_may_see(client, world, contacts):
    client.force_login(world.users["cla"])
    before = Contact.objects.count()
    # the Beni contact's secondary number, typed the local way
    response = client.post(reverse("contact-new"), new_contact_data(world, numbers="0970001099"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "already the number of contact NK-BEN-001" in page
    assert Contact.objects.count() == before


def test_a_duplicate_number_of_a_contact_out_of_sight_does_not_name_it(client, world, contacts):
    client.force_login(world.users["cla"])
    response = client.post(reverse("contact-new"), new_contact_data(world, numbers=BUNIA_PHONE))
    page = response.content.decode()
    assert "already belongs to another contact" in page
    assert "IT-BUN-001" not in page
    assert not Contact.objects.filter(code="NK-BEN-004").exists()


def test_the_same_number_twice_is_refused(client, world, contacts):
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("contact-new"), new_contact_data(world, numbers="+243970001556\n0970001556")
    )
    assert "The same number is given twice" in response.content.decode()
    assert not Contact.objects.filter(code="NK-BEN-004").exists()


def test_every_number_finds_the_contact(world, contacts):
    for number in (BENI_PHONE, BENI_SECOND):
        assert Contact.objects.with_number(world.mission, number).get() == contacts.beni
    assert not Contact.objects.with_number(world.other_mission, BENI_PHONE).exists()
    assert ContactPhone.objects.get(contact=contacts.beni).number == BENI_SECOND


def test_a_batch_of_numbers_finds_each_holder_in_two_queries(
    world, contacts, django_assert_num_queries
):
    unknown = "+243970009999"
    with django_assert_num_queries(2):
        found = Contact.objects.holding_numbers(
            world.mission, {BENI_PHONE, BENI_SECOND, BUNIA_PHONE, unknown}
        )
    assert found == {
        number: Contact.objects.with_number(world.mission, number).first()
        for number in (BENI_PHONE, BENI_SECOND, BUNIA_PHONE)
    }
    assert found[BENI_SECOND] == contacts.beni
    assert Contact.objects.holding_numbers(world.other_mission, {BENI_PHONE}) == {}
    assert Contact.objects.holding_numbers(world.mission, set()) == {}


def test_editing_keeps_the_identity_unless_retyped(client, world, contacts):
    client.force_login(world.users["cla"])
    url = reverse("contact-edit", args=[contacts.beni.pk])
    page = client.get(url).content.decode()
    assert BENI_NAME not in page and "970001001" not in page  # the form never shows them
    data = {
        "contact_name": "",
        "numbers": "",
        "category": Contact.Category.HEALTH_WORKER,
        "sex": Contact.Sex.FEMALE,
        "language": "fr",
        "home_locality": world.beni.pk,
        "managed_by": world.users["cla"].cla_profile.pk,
    }
    assert client.post(url, data).status_code == 302
    contact = Contact.objects.get(pk=contacts.beni.pk)
    assert contact.category == Contact.Category.HEALTH_WORKER
    assert contact.name == BENI_NAME
    assert contact_rules.numbers_of(contact) == [BENI_PHONE, BENI_SECOND]
    data["numbers"] = "+243970001777"
    assert client.post(url, data).status_code == 302
    assert contact_rules.numbers_of(Contact.objects.get(pk=contact.pk)) == ["+243970001777"]
    assert not Contact.objects.with_number(world.mission, BENI_SECOND).exists()


def test_consent_is_a_history_and_the_contact_mirrors_the_latest(client, world, contacts):
    client.force_login(world.users["cla"])
    url = reverse("contact-consent", args=[contacts.beni.pk])
    client.post(url, {"consents_to_contact": "on", "method": ConsentRecord.Method.PHONE})
    contact = Contact.objects.get(pk=contacts.beni.pk)
    assert contact.consents_to_contact and not contact.consents_to_feedback
    latest = contact.consents.first()
    assert latest.method == ConsentRecord.Method.PHONE
    assert latest.recorded_by == world.users["cla"]
    assert contact.consents.count() == 2


def test_deactivation_and_reactivation(client, world, contacts):
    client.force_login(world.users["manager"])
    url = reverse("contact-status", args=[contacts.beni.pk])
    client.post(url, {"active": "0"})
    contact = Contact.objects.get(pk=contacts.beni.pk)
    assert contact.status == Contact.Status.INACTIVE
    assert not contact.reachable
    client.post(url, {"active": "1"})
    assert Contact.objects.get(pk=contacts.beni.pk).status == Contact.Status.ACTIVE


def test_the_list_shows_pseudonyms_only_and_filters(client, world, contacts):
    client.force_login(world.users["manager"])
    page = client.get(reverse("contact-list")).content.decode()
    assert "NK-BEN-001" in page and "IT-BUN-001" not in page  # Bunia: outside North Kivu
    assert BENI_NAME not in page and "970001001" not in page
    client.force_login(world.users["administrator"])
    page = client.get(reverse("contact-list"), {"base": world.base_bunia.pk}).content.decode()
    assert "IT-BUN-001" in page and "NK-BEN-001" not in page
    contact_rules.set_active(contacts.beni_unmanaged, False)
    page = client.get(reverse("contact-list"), {"status": "inactive"}).content.decode()
    assert "NK-BEN-002" in page and "NK-BEN-001" not in page
    page = client.get(reverse("contact-list"), {"category": "youth"}).content.decode()
    assert "NK-BEN-001" not in page


# Who may see what. CLAs: their base's contacts; managers: their region; administrators: all.
# Early-warning, duty officers, analysts and leadership do not see the contact list.
KEEPERS_OF_BENI = {"administrator", "manager", "cla"}


@pytest.mark.parametrize(
    "name, allowed",
    [
        ("contact-list", KEEPERS_OF_BENI | {"cla_bunia"}),
        ("contact-new", KEEPERS_OF_BENI | {"cla_bunia"}),
        ("contact-identities", KEEPERS_OF_BENI | {"cla_bunia"}),
    ],
)
def test_permission_matrix_of_the_pages(client, world, contacts, name, allowed):
    check_matrix(client, world, reverse(name), allowed)


def test_permission_matrix_of_the_csv(client, world, contacts):
    check_matrix(client, world, reverse("contact-csv"), KEEPERS_OF_BENI | {"cla_bunia"})


@pytest.mark.parametrize("name", ["contact-detail", "contact-edit"])
def test_permission_matrix_of_a_beni_contact(client, world, contacts, name):
    check_matrix(client, world, reverse(name, args=[contacts.beni.pk]), KEEPERS_OF_BENI)


@pytest.mark.parametrize("name", ["contact-consent", "contact-status", "contact-erase"])
def test_permission_matrix_of_the_changes(client, world, contacts, name):
    """POSTs that change a contact: allowed ones redirect back to the page, others 403/404."""
    url = reverse(name, args=[contacts.bunia.pk])
    wrong = []
    for user in ["administrator", "cla_bunia", "manager", "cla", "ewo", "analyst", "outsider"]:
        client.force_login(world.users[user])
        status = client.post(url, {}).status_code
        expected = 302 if user in {"administrator", "cla_bunia"} else 404
        if status != expected:
            wrong.append(f"{user}: {status}")
    assert not wrong


def test_the_new_contact_form_proposes_the_prefix_of_the_base(client, world, contacts):
    client.force_login(world.users["cla"])
    form = client.get(reverse("contact-new")).context["form"]
    assert form.initial["prefix"] == "NK-BEN"


def test_a_number_taken_at_the_same_moment_is_a_clear_error(world, contacts, monkeypatch):
    """The check passed, then another contact got the number first: the database refuses."""
    monkeypatch.setattr(contact_rules, "duplicate_error", lambda *args, **kwargs: None)
    contact = Contact(mission=world.mission, home_locality=world.beni)
    with pytest.raises(ValidationError) as refused:
        contact_rules.save_contact(contact, [BENI_PHONE], world.users["cla"], prefix="NK-BEN")
    assert refused.value.code == "concurrent"
    assert contact.pk is None
    assert not Contact.objects.filter(code="NK-BEN-004").exists()


def test_consent_without_how_is_refused(client, world, contacts):
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("contact-consent", args=[contacts.beni.pk]), {"consents_to_contact": "on"}
    )
    assert response.status_code == 302
    assert contacts.beni.consents.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "Consent not recorded" in page
