"""Reference pages: who may open them (the permission matrix) and what they show."""

from kiungo.lib.testing import BENI, BUTEMBO, check_matrix

MISSION_WIDE = {"administrator", "leadership", "analyst", "ewo"}


def test_base_page_matrix(client, world):
    check_matrix(
        client, world, f"/bases/{world.base_beni.pk}/", MISSION_WIDE | {"manager", "duty", "cla"}
    )
    check_matrix(client, world, f"/bases/{world.base_bunia.pk}/", MISSION_WIDE | {"cla_bunia"})
    check_matrix(client, world, f"/bases/{world.other_base.pk}/", {"other_ewo"})


def test_unit_page_matrix(client, world):
    check_matrix(
        client, world, f"/units/{world.company_butembo.pk}/", MISSION_WIDE | {"manager", "duty"}
    )
    # The chain above a CLA's company is visible to them: escalation goes there.
    check_matrix(
        client,
        world,
        f"/units/{world.sector_north.pk}/",
        MISSION_WIDE | {"manager", "duty", "cla", "cla_bunia"},
    )


def test_area_page_matrix(client, world):
    check_matrix(client, world, "/areas/CD6101/", MISSION_WIDE | {"manager", "duty", "cla"})
    check_matrix(client, world, "/areas/CD54/", MISSION_WIDE)
    check_matrix(client, world, "/areas/cd5401010100/", set())  # no such area: 404 for all


def test_responsibility_page_matrix(client, world):
    everyone_with_a_role = MISSION_WIDE | {"manager", "duty", "cla", "cla_bunia", "other_ewo"}
    check_matrix(client, world, "/responsibility/", everyone_with_a_role | {"outsider"})


def test_base_page_shows_aor_chain_and_clas_to_a_manager(client, world):
    client.force_login(world.users["manager"])
    page = client.get(f"/bases/{world.base_beni.pk}/").content.decode()
    assert "Territoire de Beni" in page
    assert "Indbatt A → Indbatt → Sector North → Force Hq" in page
    assert "Amani Kahindo" in page


def test_base_page_does_not_list_clas_to_a_duty_officer(client, world):
    client.force_login(world.users["duty"])
    page = client.get(f"/bases/{world.base_beni.pk}/").content.decode()
    assert "Amani Kahindo" not in page


def test_area_page_names_the_responsible_unit(client, world):
    client.force_login(world.users["ewo"])
    page = client.get("/areas/CD61010101001/").content.decode()
    assert "Indbatt A" in page
    assert "Africa/Lubumbashi" in page
    assert "بيني" in page
    page = client.get("/areas/CD61/").content.decode()
    assert "No unit is responsible for this area." in page


def lookup(client, world, **params):
    return client.get("/responsibility/", {"mission": world.mission.pk, **params})


def test_lookup_by_name_pcode_and_point(client, world):
    client.force_login(world.users["ewo"])
    assert "Indbatt A (" in lookup(client, world, place="béni").content.decode()
    assert "Banbatt A (" in lookup(client, world, place="cd5401").content.decode()
    lat, lon = (BENI[0] + 0.8 * (BUTEMBO[0] - BENI[0]), BENI[1] + 0.8 * (BUTEMBO[1] - BENI[1]))
    page = lookup(client, world, latitude=lat, longitude=lon).content.decode()
    assert "Indbatt B (" in page
    assert "nearest known locality" in page


def test_lookup_says_nothing_outside_the_users_scope(client, world):
    client.force_login(world.users["cla"])
    page = lookup(client, world, place="Bunia").content.decode()
    assert "Banbatt" not in page
    assert "No unit in your scope" in page
    page = lookup(client, world, latitude=1.55, longitude=30.25).content.decode()
    assert "Banbatt" not in page


def test_lookup_explains_bad_input(client, world):
    client.force_login(world.users["ewo"])
    page = lookup(client, world).content.decode()
    assert "Give a P-code or name, or a latitude and longitude." in page
    page = lookup(client, world, latitude=123, longitude=0).content.decode()
    assert "less than or equal to 90" in page
    response = client.get("/responsibility/", {"mission": world.other_mission.pk, "place": "x"})
    assert "Select a valid choice" in response.content.decode()
