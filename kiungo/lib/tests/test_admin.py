"""The admin site: administrators of a mission only, and only their missions' data."""

from kiungo.forces.models import Base


def test_only_administrators_enter_the_admin(client, world):
    for name, status in [("administrator", 200), ("ewo", 302), ("manager", 302), ("outsider", 302)]:
        world.users[name].is_staff = True
        world.users[name].save()
        client.force_login(world.users[name])
        assert client.get("/admin/").status_code == status, name


def test_an_administrator_edits_only_their_missions_data(client, world):
    client.force_login(world.users["administrator"])
    page = client.get("/admin/forces/base/").content.decode()
    assert "Beni" in page and "Juba" not in page
    assert client.get(f"/admin/forces/base/{world.other_base.pk}/change/").status_code == 302
    response = client.get(f"/admin/forces/base/{world.base_beni.pk}/change/")
    assert response.status_code == 200


def test_the_admin_refuses_an_overlapping_aor(client, world):
    client.force_login(world.users["administrator"])
    base = world.base_bunia
    url = f"/admin/forces/base/{base.pk}/change/"
    held = base.responsibility.get()
    data = {
        "mission": base.mission_id,
        "code": base.code,
        "name": base.name,
        "kind": base.kind,
        "locality": base.locality_id,
        "latitude": base.latitude,
        "longitude": base.longitude,
        "unit": base.unit_id,
        "responsibility-TOTAL_FORMS": "2",
        "responsibility-INITIAL_FORMS": "1",
        "responsibility-MIN_NUM_FORMS": "0",
        "responsibility-MAX_NUM_FORMS": "1000",
        "responsibility-0-id": held.pk,
        "responsibility-0-base": base.pk,
        "responsibility-0-area": held.area_id,
        "responsibility-1-base": base.pk,
        "responsibility-1-area": world.beni_territory.pk,
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "overlaps" in response.content.decode()
    assert Base.objects.get(pk=base.pk).responsibility.count() == 1
