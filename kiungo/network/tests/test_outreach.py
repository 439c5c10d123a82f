"""Outreach activities: recorded by CLAs and managers for places in their area."""

from datetime import date

import pytest
from django.urls import reverse

from kiungo.lib.testing import check_matrix
from kiungo.network.models import OutreachActivity

LOGGERS = {"administrator", "manager", "cla", "cla_bunia"}


def data(world, **extra):
    values = {
        "kind": OutreachActivity.Kind.MEETING,
        "held_on": "2026-11-20",
        "area": world.beni.pk,
        "cla": world.users["cla"].cla_profile.pk,
        "women": "23",
        "men": "31",
        "messages": "How to send an alert by SMS; the mission's hotline.",
        "languages": ["fr", "sw"],
    }
    values.update(extra)
    return values


def test_a_cla_records_an_activity(client, world):
    client.force_login(world.users["cla"])
    response = client.post(reverse("outreach-new"), data(world))
    assert response.status_code == 302
    activity = OutreachActivity.objects.get()
    assert (activity.women, activity.men, activity.audience) == (23, 31, 54)
    assert activity.held_on == date(2026, 11, 20)
    assert activity.mission == world.mission and activity.created_by == world.users["cla"]
    assert activity.languages == ["fr", "sw"]
    page = client.get(reverse("outreach-list")).content.decode()
    assert "Community meeting" in page and "How to send an alert by SMS" in page


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"women": "-3"}, "women"),
        ({"languages": []}, "languages"),
        ({"held_on": "20/13/2026"}, "held_on"),
        ({"area": "bunia"}, "area"),
    ],
)
def test_bad_input_is_refused_and_nothing_saved(client, world, bad, field):
    client.force_login(world.users["cla"])
    response = client.post(reverse("outreach-new"), data(world, **bad))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not OutreachActivity.objects.exists()


def test_a_place_outside_the_area_is_refused(client, world):
    client.force_login(world.users["cla"])
    response = client.post(reverse("outreach-new"), data(world, area=world.bunia.pk))
    assert "area" in response.context["form"].errors


def test_each_sees_the_activities_of_their_area(client, world):
    for area, user in ((world.beni, "cla"), (world.bunia, "cla_bunia")):
        OutreachActivity.objects.create(
            mission=world.mission,
            kind=OutreachActivity.Kind.RADIO,
            held_on=date(2026, 11, 1),
            area=area,
            messages=f"Programme in {area.name}",
            languages=["fr"],
            created_by=world.users[user],
        )
    client.force_login(world.users["cla"])
    page = client.get(reverse("outreach-list")).content.decode()
    assert "Programme in Beni" in page and "Programme in Bunia" not in page


@pytest.mark.parametrize("name", ["outreach-list", "outreach-new"])
def test_permission_matrix(client, world, name):
    check_matrix(client, world, reverse(name), LOGGERS)
