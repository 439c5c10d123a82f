"""Phones issued to contacts; a lost or stolen phone is a security event told to the CLA
managers."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from kiungo.alertnet import assets
from kiungo.alertnet.models import IssuedPhone, SecurityEvent
from kiungo.alertnet.tests.conftest import contact
from kiungo.messaging.models import OutboundEmail

pytestmark = pytest.mark.django_db

IMEI = "490154203237518"  # a valid IMEI (Luhn check digit 8)


@pytest.fixture
def phone(world):
    manager = world.users["manager"]
    manager.email = "manager@example.org"
    manager.save()
    return assets.issue_phone(
        base=world.base_beni,
        contact=contact(world, "NK-BEN-001"),
        model="Nokia 105",
        imei="49-015420-323751-8",
        issued_on=date(2026, 1, 5),
        by=world.users["cla"],
    )


@pytest.mark.parametrize(
    "imei, problem",
    [("49015420323751", "15 digits"), ("490154203237519", "check digit"), ("abc", "15 digits")],
)
def test_a_bad_imei_is_refused(imei, problem):
    with pytest.raises(ValidationError, match=problem):
        assets.normalise_imei(imei)


def test_the_imei_is_stored_encrypted_and_shown_by_its_last_digits(client, world, phone):
    assert phone.imei == IMEI and phone.imei_tail == "7518"
    with connection.cursor() as cursor:
        cursor.execute("SELECT imei FROM alertnet_issuedphone")
        (stored,) = cursor.fetchone()
    assert IMEI not in stored
    client.force_login(world.users["cla"])
    page = client.get(f"/network/bases/{world.base_beni.pk}/phones/").content.decode()
    assert "…7518" in page and IMEI not in page and "Name of" not in page


def test_a_stolen_phone_is_a_security_event_told_to_the_cla_managers(world, phone):
    event = assets.report_missing(
        phone,
        stolen=True,
        on=date(2026, 2, 1),
        circumstances="Taken at a roadblock near Mavivi",
        by=world.users["cla"],
    )
    phone.refresh_from_db()
    assert phone.status == IssuedPhone.Status.STOLEN and phone.ended_on == date(2026, 2, 1)
    assert event.kind == SecurityEvent.Kind.PHONE_STOLEN and event.contact == phone.contact
    email = OutboundEmail.objects.get()
    assert email.to == "manager@example.org"
    assert "NK-BEN-001" in email.subject
    assert "Name of" not in email.body and phone.contact.phone not in email.body


def test_a_phone_is_reported_missing_only_once(world, phone):
    assets.report_missing(
        phone, stolen=False, on=date(2026, 2, 1), circumstances="Lost", by=world.users["cla"]
    )
    with pytest.raises(ValidationError, match="no longer with the contact"):
        assets.report_missing(
            phone, stolen=True, on=date(2026, 2, 2), circumstances="Again", by=world.users["cla"]
        )
    assert SecurityEvent.objects.count() == 1 and OutboundEmail.objects.count() == 1


def test_bad_reports_save_nothing(world, phone):
    for on, circumstances, problem in [
        (date(2026, 1, 1), "Lost", "before it was issued"),
        (date(2026, 2, 1), "  ", "Say what happened"),
        (date(2099, 1, 1), "Lost", "future"),
    ]:
        with pytest.raises(ValidationError, match=problem):
            assets.report_missing(
                phone, stolen=False, on=on, circumstances=circumstances, by=world.users["cla"]
            )
    phone.refresh_from_db()
    assert phone.status == IssuedPhone.Status.ISSUED
    assert not SecurityEvent.objects.exists() and not OutboundEmail.objects.exists()


def test_the_report_page_records_the_event_and_shows_it_to_the_manager(client, world, phone):
    client.force_login(world.users["cla"])
    url = f"/network/phones/{phone.pk}/missing/"
    assert client.post(url, {"stolen": "1", "on": "2026-02-01"}).status_code == 400
    response = client.post(
        url, {"stolen": "0", "on": "2026-02-01", "circumstances": "Dropped in the river"}
    )
    assert response.status_code == 302
    client.force_login(world.users["manager"])
    page = client.get(f"/network/bases/{world.base_beni.pk}/phones/").content.decode()
    assert "Phone lost" in page and "Dropped in the river" in page
    # Once missing, no second report.
    assert client.get(url).status_code == 404


def test_a_handset_is_with_one_contact_at_a_time(world, phone):
    other = contact(world, "NK-BEN-002")
    issue = {
        "base": world.base_beni,
        "contact": other,
        "model": "Nokia 105",
        "imei": IMEI,
        "issued_on": date(2026, 2, 1),
        "by": world.users["cla"],
    }
    with pytest.raises(ValidationError, match="already issued"):
        assets.issue_phone(**issue)
    assets.return_phone(phone, on=date(2026, 1, 20))
    assert assets.issue_phone(**issue).contact == other


def test_returned_phones(client, world, phone):
    client.force_login(world.users["cla"])
    response = client.post(f"/network/phones/{phone.pk}/return/")
    assert response.status_code == 302
    phone.refresh_from_db()
    assert phone.status == IssuedPhone.Status.RETURNED and phone.ended_on is not None
    with pytest.raises(ValidationError):
        assets.return_phone(phone, on=date(2026, 3, 1))


def test_issue_form_refuses_bad_input(client, world):
    who = contact(world, "NK-BEN-001")
    client.force_login(world.users["cla"])
    url = f"/network/bases/{world.base_beni.pk}/phones/"
    data = {
        "contact": who.pk,
        "model": "Itel",
        "imei": "490154203237519",
        "issued_on": "2026-01-05",
    }
    response = client.post(url, data)
    assert response.status_code == 400 and "check digit" in response.content.decode()
    assert not IssuedPhone.objects.exists()
    elsewhere = contact(world, "NK-BUN-001", world.bunia)
    response = client.post(url, {**data, "imei": IMEI, "contact": elsewhere.pk})
    assert response.status_code == 400 and not IssuedPhone.objects.exists()
    assert client.post(url, {**data, "imei": IMEI}).status_code == 302
    assert IssuedPhone.objects.get().issued_by == world.users["cla"]


def test_the_overview_lists_security_events_to_those_who_run_networks(client, world, phone):
    assets.report_missing(
        phone, stolen=True, on=date(2026, 2, 1), circumstances="Roadblock", by=world.users["cla"]
    )
    client.force_login(world.users["manager"])
    page = client.get("/network/").content.decode()
    assert "Phone stolen, NK-BEN-001" in page and "Roadblock" not in page
    client.force_login(world.users["ewo"])  # reads networks, not their assets
    assert "Phone stolen" not in client.get("/network/").content.decode()
