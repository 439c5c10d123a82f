"""Field visits the CLAs facilitate, with follow-up actions; overdue actions are flagged."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from kiungo.protection.models import FieldVisit, FollowUpAction
from kiungo.protection.selectors import field_visits, overdue_actions

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.fixture
def visit(world):
    visit = FieldVisit.objects.create(
        mission=world.mission,
        kind="jpt",
        starts_on=date(2026, 11, 3),
        ends_on=date(2026, 11, 4),
        team="Affaires civiles, droits de l'homme, protection de l'enfant",
        findings="Déplacements vers Mavivi",
        created_by=world.users["cla"],
    )
    visit.places.set([world.beni])
    FollowUpAction.objects.create(
        visit=visit,
        description="Rapport JPT",
        owner_text="Affaires civiles",
        due_on=date(2026, 11, 10),
    )
    FollowUpAction.objects.create(
        visit=visit,
        description="Suivi des déplacés",
        owner_user=world.users["cla"],
        due_on=date(2026, 12, 1),
    )
    FollowUpAction.objects.create(
        visit=visit, description="Fait", owner_text="CLA", due_on=date(2026, 11, 5), status="done"
    )
    return visit


def test_overdue_actions_are_the_open_ones_past_their_date(world, visit):
    with time_machine.travel(NOW, tick=False):
        assert [action.description for action in overdue_actions(visit)] == ["Rapport JPT"]
        row = field_visits(world.users["cla"]).get()
        assert (row.action_count, row.overdue_count) == (3, 1)
        assert list(field_visits(world.users["cla"], overdue_only=True)) == [visit]
    visit.actions.filter(description="Rapport JPT").update(status="done")
    with time_machine.travel(NOW, tick=False):
        assert not field_visits(world.users["cla"], overdue_only=True).exists()


def test_the_pages_flag_overdue_actions(client, world, visit):
    with time_machine.travel(NOW, tick=False):
        client.force_login(world.users["manager"])
        listing = client.get(reverse("visits")).content.decode()
        page = client.get(reverse("visit-detail", args=[visit.pk])).content.decode()
    assert "1 overdue" in listing
    assert page.count("overdue-mark") == 1 and "Amani Kahindo" in page


def test_the_cla_records_a_visit_and_its_actions(client, world):
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("visit-new"),
        {
            "kind": "jam",
            "starts_on": "2026-11-20",
            "ends_on": "2026-11-21",
            "team": "JMAC, Affaires civiles",
            "team_members": [world.users["manager"].pk],
            "places_named": "Beni; CD6101",
            "findings": "Besoin d'éclairage au marché",
        },
    )
    visit = FieldVisit.objects.get()
    assert response.status_code == 302
    assert set(visit.places.all()) == {world.beni, world.beni_territory}
    assert list(visit.team_members.all()) == [world.users["manager"]]
    response = client.post(
        reverse("action-add", args=[visit.pk]),
        {
            "description": "Plaidoyer éclairage",
            "owner_text": "",
            "owner_user": "",
            "due_on": "2026-12-15",
            "status": "open",
        },
    )
    assert response.status_code == 400
    assert "Name an owner, or choose a Kiungo user." in response.content.decode()
    response = client.post(
        reverse("action-add", args=[visit.pk]),
        {
            "description": "Plaidoyer éclairage",
            "owner_text": "Mairie",
            "due_on": "2026-12-15",
            "status": "open",
        },
    )
    assert response.status_code == 302
    action = visit.actions.get()
    client.post(reverse("action-status", args=[visit.pk, action.pk]), {"status": "done"})
    action.refresh_from_db()
    assert action.status == "done"


def test_bad_dates_or_places_save_nothing(client, world):
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("visit-new"),
        {
            "kind": "jpt",
            "starts_on": "2026-11-20",
            "ends_on": "2026-11-19",
            "team": "x",
            "places_named": "Bunia",
        },
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "A visit cannot end before it starts." in text
    assert "No place in your area is called: Bunia." in text
    assert not FieldVisit.objects.exists()


def test_visits_are_seen_in_scope(world, visit):
    assert field_visits(world.users["manager"]).exists()
    assert field_visits(world.users["ewo"]).exists()
    assert not field_visits(world.users["cla_bunia"]).exists()
    assert not field_visits(world.users["other_ewo"]).exists()
    assert not field_visits(world.users["duty"]).exists()
