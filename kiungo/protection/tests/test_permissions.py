"""The permission matrix of every protection view, for every role of the test world."""

import pytest
from django.urls import reverse

from kiungo.lib.testing import ROLE_USERS, check_matrix
from kiungo.protection import plans
from kiungo.protection.models import FieldVisit, FollowUpAction, MitigationMeasure

pytestmark = pytest.mark.django_db

READERS = {"administrator", "leadership", "analyst", "ewo", "manager", "cla"}
LIST_READERS = READERS | {"cla_bunia", "other_ewo"}  # their lists are empty
MANAGERS = {"administrator", "manager", "cla"}
ANSWERERS = {"administrator", "ewo", "duty"}


@pytest.fixture
def visit(world):
    visit = FieldVisit.objects.create(
        mission=world.mission, kind="jpt", starts_on="2026-11-03", ends_on="2026-11-03", team="JPT"
    )
    visit.places.set([world.beni])
    FollowUpAction.objects.create(
        visit=visit, description="Rapport", owner_text="CA", due_on="2026-11-30"
    )
    return visit


def test_the_lists(client, world, active_plan, visit):
    check_matrix(client, world, reverse("committees"), LIST_READERS)
    check_matrix(client, world, reverse("visits"), LIST_READERS)
    check_matrix(client, world, reverse("plan-requests"), ANSWERERS | {"other_ewo"})


def test_the_forms(client, world):
    check_matrix(client, world, reverse("committee-new"), MANAGERS | {"cla_bunia"})
    check_matrix(client, world, reverse("visit-new"), MANAGERS | {"cla_bunia"})


def test_the_pages(client, world, active_plan, visit):
    request = active_plan.measures.get(by=MitigationMeasure.By.MISSION)
    check_matrix(
        client, world, reverse("committee-detail", args=[active_plan.committee_id]), READERS
    )
    # Duty officers of the unit it is shared with (and above) read the plan, not the committee.
    check_matrix(client, world, reverse("plan-detail", args=[active_plan.pk]), READERS | {"duty"})
    check_matrix(client, world, reverse("plan-pdf", args=[active_plan.pk]), READERS)
    check_matrix(client, world, reverse("plan-docx", args=[active_plan.pk]), READERS)
    check_matrix(client, world, reverse("plan-request", args=[request.pk]), ANSWERERS)
    check_matrix(client, world, reverse("visit-detail", args=[visit.pk]), READERS)


def check_post(client, world, url: str, allowed: set[str], data=None):
    """POST as every user: those allowed reach the action (whatever its answer), the others get
    403 or 404 and nothing happens to them."""
    wrong = []
    client.logout()
    if client.post(url, data or {}).status_code != 302:
        wrong.append("anonymous: not sent to log in")
    for name in ROLE_USERS:
        client.force_login(world.users[name])
        status = client.post(url, data or {}).status_code
        refused = status in (403, 404)
        if refused == (name in allowed):
            wrong.append(f"{name}: {status}")
    client.logout()
    assert not wrong, f"POST matrix for {url}:\n" + "\n".join(wrong)


def test_the_actions(client, world, active_plan, visit):
    committee = active_plan.committee
    member = committee.members.first()
    request = active_plan.measures.get(by=MitigationMeasure.By.MISSION)
    check_post(client, world, reverse("plan-request-answer", args=[request.pk]), ANSWERERS)
    for name in ("member-add", "meeting-add", "training-add", "plan-start"):
        check_post(client, world, reverse(name, args=[committee.pk]), MANAGERS)
    check_post(client, world, reverse("member-leave", args=[committee.pk, member.pk]), MANAGERS)
    check_post(client, world, reverse("plan-revise", args=[active_plan.pk]), MANAGERS)
    measure = active_plan.measures.first()
    check_post(
        client, world, reverse("measure-status", args=[active_plan.pk, measure.pk]), MANAGERS
    )
    draft = plans.revise(active_plan, world.users["cla"])
    threat = draft.threats.first()
    for name in ("plan-edit", "threat-add", "measure-add"):
        check_post(client, world, reverse(name, args=[draft.pk]), MANAGERS)
    check_post(
        client, world, reverse("plan-item-remove", args=[draft.pk, "threat", threat.pk]), MANAGERS
    )
    check_post(client, world, reverse("plan-activate", args=[draft.pk]), MANAGERS)
    action = visit.actions.get()
    check_post(client, world, reverse("action-add", args=[visit.pk]), MANAGERS)
    check_post(client, world, reverse("action-status", args=[visit.pk, action.pk]), MANAGERS)
