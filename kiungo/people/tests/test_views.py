"""Login, the home page per role, CLA pages: matrix and content."""

from datetime import UTC, datetime

import time_machine

from kiungo.lib.testing import check_matrix
from kiungo.people.models import CLAProfile


def test_home_page_is_open_to_every_signed_in_user(client, world):
    check_matrix(
        client,
        world,
        "/",
        {
            "administrator",
            "leadership",
            "analyst",
            "ewo",
            "manager",
            "duty",
            "cla",
            "cla_bunia",
            "other_ewo",
            "outsider",
        },
    )


def test_cla_page_matrix(client, world):
    beni = CLAProfile.objects.get(staff_id="T-001")
    check_matrix(client, world, f"/clas/{beni.pk}/", {"administrator", "leadership", "manager"})


def home(client, world, name):
    client.force_login(world.users[name])
    return client.get("/").content.decode()


def test_home_lists_what_each_role_answers_for(client, world):
    page = home(client, world, "cla")
    assert "Community Liaison Assistant" in page
    assert "Staff id T-001" in page
    assert "Beni (COB)" in page and "Butembo" not in page

    page = home(client, world, "manager")
    assert "CLA manager" in page and "Nord-Kivu" in page
    assert "Amani Kahindo" in page
    assert "Butembo (COB)" in page and "Bunia" in page  # supervises T-002 at Bunia

    page = home(client, world, "duty")
    assert "the area of responsibility of Indbatt" in page
    assert "Beni (COB)" in page and "Butembo (COB)" in page and "Bunia (SOB)" not in page

    page = home(client, world, "ewo")
    assert "the whole mission" in page and "Bunia (SOB)" in page

    page = home(client, world, "outsider")
    assert "You have no role yet" in page


def test_home_flags_bases_with_fewer_than_two_clas(client, world):
    page = home(client, world, "ewo")
    assert "3 bases have fewer than two CLAs." in page


def test_login_and_logout(client, world):
    response = client.post("/accounts/login/", {"username": "cla", "password": "x"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "Staff id T-001" in client.get("/").content.decode()
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_a_wrong_password_is_refused(client, world):
    response = client.post("/accounts/login/", {"username": "cla", "password": "nope"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()


def test_the_login_page_in_french(client, db):
    response = client.get("/accounts/login/?lang=fr")
    page = response.content.decode()
    assert '<html lang="fr">' in page
    assert "Se connecter à Kiungo" in page
    assert "Mot de passe" in page
    assert response.cookies["kiungo_language"].value == "fr"
    # The choice is remembered on the next page.
    assert "Se connecter à Kiungo" in client.get("/accounts/login/").content.decode()


def test_the_language_follows_the_browser(client, db):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr-CD,fr;q=0.9").content
    assert "Mot de passe" in page.decode()
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content
    assert "Password" in page.decode()


def test_pages_show_the_missions_local_time(client, world):
    client.force_login(world.users["cla"])
    with time_machine.travel(datetime(2026, 11, 25, 21, 30, tzinfo=UTC), tick=False):
        page = client.get("/").content.decode()
    assert "Local time: 2026-11-25 23:30 (Africa/Lubumbashi)" in page
    client.force_login(world.users["other_ewo"])
    with time_machine.travel(datetime(2026, 11, 25, 21, 30, tzinfo=UTC), tick=False):
        page = client.get("/").content.decode()
    assert "Local time: 2026-11-25 23:30 (Africa/Juba)" in page
    client.logout()
    with time_machine.travel(datetime(2026, 11, 25, 21, 30, tzinfo=UTC), tick=False):
        page = client.get("/accounts/login/").content.decode()
    assert "Local time: 2026-11-25 21:30 (UTC)" in page
