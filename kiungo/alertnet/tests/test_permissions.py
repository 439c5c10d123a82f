"""Who may open each alert-network page: the permission matrix for every view."""

from datetime import date

import pytest

from kiungo.alertnet import assets
from kiungo.alertnet.tests.conftest import contact
from kiungo.lib.testing import ROLE_USERS, check_matrix

pytestmark = pytest.mark.django_db

VIEW = {"administrator", "ewo", "manager", "cla"}  # Beni's network
MANAGE = {"administrator", "manager", "cla"}
AIRTIME = {"administrator", "manager"}


@pytest.fixture
def phone(world):
    return assets.issue_phone(
        base=world.base_beni,
        contact=contact(world, "NK-BEN-001"),
        model="Nokia 105",
        imei="490154203237518",
        issued_on=date(2026, 1, 5),
        by=world.users["cla"],
    )


def post_matrix(client, world, url, allowed, data=None, expected=(302,)):
    """Like check_matrix for a POST: the allowed get `expected`, the others 403 or 404."""
    wrong = []
    client.logout()
    if client.post(url, data or {}).status_code != 302:
        wrong.append("anonymous: not sent to log in")
    for name in ROLE_USERS:
        client.force_login(world.users[name])
        status = client.post(url, data or {}).status_code
        ok = status in expected if name in allowed else status in (403, 404)
        if not ok:
            wrong.append(f"{name}: {status}")
    assert not wrong, f"permission matrix for POST {url}:\n" + "\n".join(wrong)


def test_overview(client, world):
    allowed = {"administrator", "ewo", "manager", "cla", "cla_bunia", "other_ewo"}
    check_matrix(client, world, "/network/", allowed)


@pytest.mark.parametrize("page", ["", "health/"])
def test_base_pages_for_readers(client, world, page):
    check_matrix(client, world, f"/network/bases/{world.base_beni.pk}/{page}", VIEW)


@pytest.mark.parametrize("page", ["radios/new/", "hotline/new/", "phones/"])
def test_base_pages_for_those_who_run_the_network(client, world, page):
    check_matrix(client, world, f"/network/bases/{world.base_beni.pk}/{page}", MANAGE)


def test_bunia_is_the_bunia_clas(client, world):
    check_matrix(
        client,
        world,
        f"/network/bases/{world.base_bunia.pk}/phones/",
        {"administrator", "cla_bunia"},  # the manager's region is North Kivu
    )


@pytest.mark.parametrize("page", ["airtime/", "airtime.csv"])
def test_airtime_pages(client, world, page):
    check_matrix(client, world, f"/network/bases/{world.base_beni.pk}/{page}", AIRTIME)


def test_airtime_forms(client, world):
    base = world.base_beni.pk
    post_matrix(client, world, f"/network/bases/{base}/airtime/top-ups/", AIRTIME, None, (400,))
    post_matrix(client, world, f"/network/bases/{base}/airtime/budget/", AIRTIME, None, (400,))


def test_starting_a_test(client, world, channel):
    contact(world, "NK-BEN-001")
    post_matrix(client, world, f"/network/bases/{world.base_beni.pk}/tests/", MANAGE)


def test_phone_pages(client, world, phone):
    check_matrix(client, world, f"/network/phones/{phone.pk}/missing/", MANAGE)
    post_matrix(client, world, f"/network/phones/{phone.pk}/return/", MANAGE)


def test_the_nav_link(client, world):
    for name, shown in [("cla", True), ("ewo", True), ("analyst", False), ("duty", False)]:
        client.force_login(world.users[name])
        assert ('href="/network/"' in client.get("/").content.decode()) is shown, name


@pytest.mark.parametrize("model", ["networkpolicy", "radiostation", "hotlinedistribution"])
def test_admin_pages_for_administrators_only(client, world, model):
    client.force_login(world.users["administrator"])
    assert client.get(f"/admin/alertnet/{model}/").status_code == 200
    assert client.get(f"/admin/alertnet/{model}/add/").status_code == 200
    client.force_login(world.users["manager"])
    assert client.get(f"/admin/alertnet/{model}/").status_code == 302  # to the admin login
