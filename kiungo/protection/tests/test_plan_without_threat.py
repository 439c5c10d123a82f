"""A plan without a threat cannot be activated: a clear error and nothing changes."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kiungo.messaging.models import OutboundEmail
from kiungo.protection import plans
from kiungo.protection.models import ProtectionPlan

from .conftest import add_request

pytestmark = pytest.mark.django_db


def test_the_service_refuses_and_leaves_everything_as_it_was(world, committee):
    plan = plans.start_plan(committee, world.users["cla"], date(2027, 1, 1))
    add_request(plan)
    with pytest.raises(ValidationError) as error:
        plans.activate(plan, world.users["cla"])
    assert "at least one threat" in error.value.messages[0]
    plan.refresh_from_db()
    assert plan.status == ProtectionPlan.Status.DRAFT
    assert plan.shared_with is None and plan.activated_at is None
    assert plan.measures.get().unit is None
    assert not OutboundEmail.objects.exists()


def test_the_page_says_why(client, world, committee):
    plan = plans.start_plan(committee, world.users["cla"], date(2027, 1, 1))
    client.force_login(world.users["cla"])
    response = client.post(reverse("plan-activate", args=[plan.pk]))
    assert response.status_code == 400
    assert (
        "A plan needs at least one threat before it can be activated." in response.content.decode()
    )
    plan.refresh_from_db()
    assert plan.status == ProtectionPlan.Status.DRAFT


def test_a_revision_emptied_of_threats_keeps_the_old_version_in_force(world, active_plan):
    draft = plans.revise(active_plan, world.users["cla"])
    draft.threats.all().delete()
    with pytest.raises(ValidationError):
        plans.activate(draft, world.users["cla"])
    active_plan.refresh_from_db()
    assert active_plan.status == ProtectionPlan.Status.ACTIVE
    draft.refresh_from_db()
    assert draft.status == ProtectionPlan.Status.DRAFT
