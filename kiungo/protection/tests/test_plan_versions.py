"""Plans are versioned: revising copies the active plan into a draft; activating supersedes."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from kiungo.protection import plans
from kiungo.protection.models import MitigationMeasure, ProtectionPlan
from kiungo.protection.sharing import answer_request

from .conftest import add_threat

pytestmark = pytest.mark.django_db


def test_revising_copies_threats_and_measures_into_a_new_draft(world, active_plan):
    draft = plans.revise(active_plan, world.users["cla"])
    assert (draft.version, draft.status) == (2, ProtectionPlan.Status.DRAFT)
    assert draft.vulnerabilities == active_plan.vulnerabilities
    old = list(active_plan.threats.order_by("pk"))
    new = list(draft.threats.order_by("pk"))
    assert [(t.threat, t.description, t.likelihood, t.impact) for t in new] == [
        (t.threat, t.description, t.likelihood, t.impact) for t in old
    ]
    assert {t.pk for t in new}.isdisjoint({t.pk for t in old})
    assert list(new[0].perpetrators.all()) == list(old[0].perpetrators.all())
    assert list(new[0].places.all()) == [world.beni]
    assert draft.measures.count() == active_plan.measures.count() == 2
    # The active plan stays in force until the draft is activated.
    active_plan.refresh_from_db()
    assert active_plan.status == ProtectionPlan.Status.ACTIVE


def test_revising_twice_gives_the_same_draft(world, active_plan):
    first = plans.revise(active_plan, world.users["cla"])
    assert plans.revise(active_plan, world.users["cla"]) == first
    assert active_plan.committee.plans.count() == 2


def test_activating_the_new_version_supersedes_the_old_which_stays_readable(
    client, world, active_plan
):
    draft = plans.revise(active_plan, world.users["cla"])
    draft.threats.filter(threat="abduction").delete()
    plans.activate(draft, world.users["cla"])
    active_plan.refresh_from_db()
    assert active_plan.status == ProtectionPlan.Status.SUPERSEDED
    assert active_plan.superseded_at is not None
    assert active_plan.threats.count() == 2  # untouched
    assert active_plan.committee.active_plan() == draft
    client.force_login(world.users["cla"])
    page = client.get(reverse("plan-detail", args=[active_plan.pk]))
    assert page.status_code == 200
    assert "Superseded" in page.content.decode()
    # A superseded plan cannot be revised or edited.
    with pytest.raises(ValidationError):
        plans.revise(active_plan, world.users["cla"])
    response = client.post(
        reverse("threat-add", args=[active_plan.pk]),
        {"threat": "attack", "description": "x", "likelihood": 1, "impact": 1},
    )
    assert response.status_code == 400
    assert active_plan.threats.count() == 2


def test_an_unchanged_answer_carries_over_to_the_next_version(world, active_plan):
    request = active_plan.measures.get(by=MitigationMeasure.By.MISSION)
    answer_request(request, "accepted", "Patrouille chaque jeudi", world.users["duty"])
    draft = plans.revise(active_plan, world.users["cla"])
    plans.activate(draft, world.users["cla"])
    copied = draft.measures.get(by=MitigationMeasure.By.MISSION)
    assert (copied.answer, copied.unit) == ("accepted", world.company_beni)


def test_the_database_refuses_two_active_plans(world, active_plan):
    with pytest.raises(IntegrityError), transaction.atomic():
        ProtectionPlan.objects.create(
            committee=active_plan.committee, version=9, status="active", review_on=date(2027, 1, 1)
        )


def test_a_committee_with_an_active_plan_revises_rather_than_starts(world, active_plan):
    with pytest.raises(ValidationError):
        plans.start_plan(active_plan.committee, world.users["cla"], date(2027, 1, 1))


def test_the_cla_writes_and_activates_a_plan_on_the_web(client, world, committee, actors):
    client.force_login(world.users["cla"])
    response = client.post(reverse("plan-start", args=[committee.pk]), {"review_on": "2027-03-01"})
    plan = committee.plans.get()
    assert response.status_code == 302 and plan.version == 1
    response = client.post(
        reverse("threat-add", args=[plan.pk]),
        {
            "threat": "looting",
            "description": "Pillage des récoltes",
            "perpetrators": [actors[0].pk],
            "places_named": "Beni",
            "places_text": "champs au nord",
            "timing": "saison des récoltes",
            "likelihood": "3",
            "impact": "4",
        },
    )
    assert response.status_code == 302
    threat = plan.threats.get()
    assert list(threat.places.all()) == [world.beni] and threat.risk == "high"
    response = client.post(
        reverse("measure-add", args=[plan.pk]),
        {
            "by": "mission",
            "description": "Patrouilles",
            "responsible": "MONUSCO",
            "status": "planned",
        },
    )
    assert response.status_code == 302
    assert client.post(reverse("plan-activate", args=[plan.pk])).status_code == 302
    plan.refresh_from_db()
    assert plan.status == "active" and plan.shared_with == world.company_beni


def test_a_threat_with_an_unknown_place_or_off_scale_values_is_refused(client, world, committee):
    plan = plans.start_plan(committee, world.users["cla"], date(2027, 1, 1))
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("threat-add", args=[plan.pk]),
        {
            "threat": "attack",
            "description": "x",
            "places_named": "Atlantis",
            "likelihood": "7",
            "impact": "2",
        },
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Atlantis" in text
    assert plan.threats.count() == 0


def test_a_new_threat_joins_a_draft_only(world, active_plan):
    draft = plans.revise(active_plan, world.users["cla"])
    add_threat(draft, description="Nouvelle menace")
    assert draft.threats.count() == 3 and active_plan.threats.count() == 2


def test_a_measures_progress_changes_without_a_new_version(client, world, active_plan):
    measure = active_plan.measures.get(by="community")
    client.force_login(world.users["cla"])
    url = reverse("measure-status", args=[active_plan.pk, measure.pk])
    assert client.post(url, {"status": "done"}).status_code == 302
    measure.refresh_from_db()
    assert measure.status == "done" and active_plan.committee.plans.count() == 1
    assert client.post(url, {"status": "finished"}).status_code == 400
    draft = plans.revise(active_plan, world.users["cla"])
    plans.activate(draft, world.users["cla"])
    response = client.post(url, {"status": "dropped"})
    assert response.status_code == 400
    assert "A superseded plan is kept as it was." in response.content.decode()
    measure.refresh_from_db()
    assert measure.status == "done"
