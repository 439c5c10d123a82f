"""An active plan is shared with the unit responsible for the committee's locality; that unit's
duty officers (and those above it, and the early-warning cell) see its requests and answer."""

import pytest
from django.urls import reverse

from kiungo.messaging.models import OutboundEmail
from kiungo.people.access import visible_plan_requests
from kiungo.people.models import Role, RoleAssignment, User
from kiungo.protection import plans
from kiungo.protection.models import MitigationMeasure, PlanRequestAnswer

from .conftest import add_request, add_threat

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_(active_plan):
    return active_plan.measures.get(by=MitigationMeasure.By.MISSION)


@pytest.fixture
def company_officer(world):
    officer = User.objects.create_user("beni.ops", email="ops.beni@example.org", password="x")
    RoleAssignment.objects.create(
        user=officer,
        role=Role.UNIT_DUTY_OFFICER,
        mission=world.mission,
        scope="unit",
        unit=world.company_beni,
    )
    return officer


@pytest.fixture
def bunia_duty(world):
    officer = User.objects.create_user("bunia.ops", password="x")
    RoleAssignment.objects.create(
        user=officer,
        role=Role.UNIT_DUTY_OFFICER,
        mission=world.mission,
        scope="unit",
        unit=world.battalion_b,
    )
    return officer


def test_activation_shares_with_the_responsible_unit(world, active_plan, request_):
    assert active_plan.shared_with == world.company_beni
    assert active_plan.activated_by == world.users["cla"]
    assert request_.unit == world.company_beni
    assert request_.answer == MitigationMeasure.Answer.PENDING
    assert request_.requested_at == active_plan.shared_at
    # Only requests to the mission are addressed.
    assert not active_plan.measures.filter(by="community", unit__isnull=False).exists()


def test_the_units_duty_officers_are_told_by_email(world, committee, company_officer):
    plan = plans.start_plan(committee, world.users["cla"], committee.created_on.replace(year=2027))
    add_threat(plan)
    add_request(plan)
    plans.activate(plan, world.users["cla"])
    mail = OutboundEmail.objects.get()
    assert mail.to == "ops.beni@example.org"
    assert "indbatt-a" in mail.subject and committee.name in mail.subject
    assert "/protection/requests/" in mail.body


def test_without_officers_on_the_unit_the_nearest_unit_above_is_told(world, committee):
    duty = world.users["duty"]  # battalion_a, above company_beni
    duty.email = "duty@example.org"
    duty.save()
    plan = plans.start_plan(committee, world.users["cla"], committee.created_on.replace(year=2027))
    add_threat(plan)
    plans.activate(plan, world.users["cla"])
    assert list(OutboundEmail.objects.values_list("to", flat=True)) == ["duty@example.org"]


def test_who_sees_the_request(world, request_, bunia_duty, company_officer):
    assert list(visible_plan_requests(company_officer)) == [request_]
    assert list(visible_plan_requests(world.users["duty"])) == [request_]  # the battalion above
    assert list(visible_plan_requests(world.users["ewo"])) == [request_]
    assert not visible_plan_requests(bunia_duty).exists()
    assert not visible_plan_requests(world.users["other_ewo"]).exists()
    assert not visible_plan_requests(world.users["cla"]).exists()


def test_the_unit_answers_and_the_cla_sees_it(client, world, request_, active_plan):
    client.force_login(world.users["duty"])
    page = client.get(reverse("plan-requests")).content.decode()
    assert "Patrouilles les jours de marché" in page and "Comité de protection de Beni" in page
    url = reverse("plan-request-answer", args=[request_.pk])
    response = client.post(url, {"answer": "accepted", "text": "Patrouille chaque jeudi"})
    assert response.status_code == 302
    request_.refresh_from_db()
    assert request_.answer == "accepted" and request_.answered_by == world.users["duty"]
    trail = PlanRequestAnswer.objects.get()
    assert (trail.unit, trail.answer, trail.by) == (
        world.company_beni,
        "accepted",
        world.users["duty"],
    )
    # The same answer again changes nothing; a new one is appended to the trail.
    client.post(url, {"answer": "accepted", "text": "Patrouille chaque jeudi"})
    client.post(url, {"answer": "done", "text": "Trois patrouilles faites"})
    assert list(PlanRequestAnswer.objects.values_list("answer", flat=True)) == ["accepted", "done"]
    # Pending only by default: the answered request leaves the unit's list.
    assert (
        "Patrouilles les jours de marché"
        not in client.get(reverse("plan-requests")).content.decode()
    )
    client.force_login(world.users["cla"])
    for name in ("committee-detail", "plan-detail"):
        pk = active_plan.committee_id if name == "committee-detail" else active_plan.pk
        page = client.get(reverse(name, args=[pk])).content.decode()
        assert "Trois patrouilles faites" in page and "Done" in page


def test_declining_needs_a_reason(client, world, request_):
    client.force_login(world.users["ewo"])
    response = client.post(
        reverse("plan-request-answer", args=[request_.pk]), {"answer": "declined", "text": " "}
    )
    assert response.status_code == 400
    assert "Say why the request is declined." in response.content.decode()
    request_.refresh_from_db()
    assert request_.answer == "pending" and not PlanRequestAnswer.objects.exists()


def test_another_unit_can_neither_see_nor_answer(client, world, request_, bunia_duty):
    client.force_login(bunia_duty)
    assert client.get(reverse("plan-request", args=[request_.pk])).status_code == 404
    response = client.post(
        reverse("plan-request-answer", args=[request_.pk]), {"answer": "accepted"}
    )
    assert response.status_code == 404
    assert "Patrouilles" not in client.get(reverse("plan-requests")).content.decode()
    request_.refresh_from_db()
    assert request_.answer == "pending"


def test_a_request_of_a_superseded_plan_is_closed(world, active_plan, request_):
    from django.core.exceptions import ValidationError

    from kiungo.protection.sharing import answer_request

    draft = plans.revise(active_plan, world.users["cla"])
    plans.activate(draft, world.users["cla"])
    with pytest.raises(ValidationError):
        answer_request(request_, "accepted", "", world.users["duty"])
    assert list(visible_plan_requests(world.users["duty"])) == [draft.measures.get(by="mission")]


def test_a_locality_nobody_answers_for_leaves_the_plan_unshared(world, actors):
    from .conftest import make_committee

    committee = make_committee(world, world.butembo, "Comité de Butembo")
    # Butembo's territory is held by the Butembo base alone: closed, nobody answers there.
    world.base_butembo.closed_on = committee.created_on
    world.base_butembo.save()
    plan = plans.start_plan(committee, world.users["cla"], committee.created_on.replace(year=2027))
    add_threat(plan)
    add_request(plan)
    plans.activate(plan, world.users["cla"])
    plan.refresh_from_db()
    assert plan.status == "active" and plan.shared_with is None
    assert plan.measures.get(by="mission").unit is None
    assert not OutboundEmail.objects.exists()


def test_an_officer_of_chosen_areas_sees_the_requests_of_committees_there(world, request_):
    officer = User.objects.create_user("ewo.ituri", password="x")
    assignment = RoleAssignment.objects.create(
        user=officer, role=Role.EARLY_WARNING_OFFICER, mission=world.mission, scope="areas"
    )
    assignment.areas.set([world.ituri])
    assert not visible_plan_requests(officer).exists()
    assignment.areas.set([world.north_kivu])
    officer = User.objects.get(pk=officer.pk)  # scopes are cached per user object
    assert list(visible_plan_requests(officer)) == [request_]
