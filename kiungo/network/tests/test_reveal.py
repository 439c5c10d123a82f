"""Revealing a contact's identity: a POST with a reason, for the right role and area only,
shown once on an uncached page, and recorded whether granted or refused."""

import logging

from django.urls import reverse

from kiungo.network.models import SourceAccess

from .conftest import BENI_NAME, BENI_PHONE, BENI_SECOND

REASON = "Call back about the attack on the market"


def reveal(client, user, contact, reason=REASON):
    client.force_login(user)
    return client.post(reverse("contact-reveal", args=[contact.pk]), {"reason": reason})


def test_the_managing_cla_sees_the_identity_once_uncached_and_audited(
    client, world, contacts, caplog
):
    with caplog.at_level(logging.DEBUG):
        response = reveal(client, world.users["cla"], contacts.beni)
    page = response.content.decode()
    assert response.status_code == 200
    assert BENI_NAME in page and BENI_PHONE in page and BENI_SECOND in page
    assert "no-store" in response["Cache-Control"]
    access = SourceAccess.objects.get()
    assert (access.user, access.contact, access.reason, access.granted) == (
        world.users["cla"],
        contacts.beni,
        REASON,
        True,
    )
    assert access.action == SourceAccess.Action.REVEAL
    assert access.ip_address == "127.0.0.1"
    assert BENI_NAME not in caplog.text and "970001001" not in caplog.text


def test_managers_in_scope_and_administrators_may_reveal(client, world, contacts):
    for name in ("manager", "administrator"):
        assert reveal(client, world.users[name], contacts.beni).status_code == 200
    assert SourceAccess.objects.filter(granted=True).count() == 2


def test_outside_the_area_it_is_missing_and_the_attempt_recorded(client, world, contacts):
    for name in ("cla_bunia", "ewo", "analyst", "leadership", "duty", "other_ewo", "outsider"):
        response = reveal(client, world.users[name], contacts.beni)
        assert response.status_code == 404, name
        assert BENI_NAME not in response.content.decode()
    refused = SourceAccess.objects.filter(contact=contacts.beni, granted=False)
    assert refused.count() == 7
    # a CLA manager's region is North Kivu: Bunia (Ituri) is out of it
    assert reveal(client, world.users["manager"], contacts.bunia).status_code == 404


def test_in_the_area_without_the_right_it_is_forbidden_and_recorded(client, world, contacts):
    """The Beni CLA sees NK-BEN-002 (their base's area) but does not manage it."""
    response = reveal(client, world.users["cla"], contacts.beni_unmanaged)
    assert response.status_code == 403
    assert "Sifa" not in response.content.decode()
    access = SourceAccess.objects.get()
    assert not access.granted and access.user == world.users["cla"]


def test_a_reason_is_mandatory(client, world, contacts):
    response = reveal(client, world.users["cla"], contacts.beni, reason="")
    assert response.status_code == 302
    assert BENI_NAME not in client.get(response["Location"]).content.decode()
    assert not SourceAccess.objects.exists()


def test_a_get_reveals_nothing(client, world, contacts):
    client.force_login(world.users["cla"])
    response = client.get(reverse("contact-reveal", args=[contacts.beni.pk]))
    assert response.status_code == 405
    assert not SourceAccess.objects.exists()


def test_the_contact_page_never_shows_the_identity(client, world, contacts):
    client.force_login(world.users["administrator"])
    page = client.get(reverse("contact-detail", args=[contacts.beni.pk])).content.decode()
    assert "NK-BEN-001" in page
    assert BENI_NAME not in page and "970001001" not in page and "970001099" not in page


def test_permission_matrix_of_the_reveal(client, world, contacts):
    url = reverse("contact-reveal", args=[contacts.beni.pk])
    expected = {"administrator": 200, "manager": 200, "cla": 200}
    wrong = []
    for name in world.users:
        client.force_login(world.users[name])
        status = client.post(url, {"reason": REASON}).status_code
        if status != expected.get(name, 404):
            wrong.append(f"{name}: {status}")
    client.logout()
    anonymous = client.post(url, {"reason": REASON})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert not wrong


def test_those_who_may_reveal_see_who_asked(client, world, contacts):
    reveal(client, world.users["cla_bunia"], contacts.beni)  # refused (404), recorded
    reveal(client, world.users["manager"], contacts.beni)
    client.force_login(world.users["cla"])
    page = client.get(reverse("contact-detail", args=[contacts.beni.pk])).content.decode()
    assert "cla_bunia" in page and "refused" in page and REASON in page
    assert BENI_NAME not in page
