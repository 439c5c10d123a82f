"""The demo's protection committees, plans, plan requests and field visits."""

from django.urls import reverse

from kiungo.demo import protection
from kiungo.people.access import visible_committees, visible_plan_requests
from kiungo.people.models import User
from kiungo.protection.dates import mission_today
from kiungo.protection.models import Committee, FollowUpAction, MitigationMeasure, ProtectionPlan
from kiungo.protection.selectors import field_visits, plans_past_review


def test_committees_have_one_active_plan_each_with_threats(monusco, demo_output):
    committees = Committee.objects.filter(mission=monusco)
    assert committees.count() >= 5
    assert "Protection (MONUSCO)" in demo_output
    shares = set()
    for committee in committees:
        plan = committee.active_plan()
        assert plan is not None and 2 <= plan.threats.count() <= 4
        assert plan.shared_with is not None
        assert all(threat.perpetrators.exists() for threat in plan.threats.all())
        shares.add(round(committee.women_share(), 2))
    assert len(shares) > 2  # the share of women varies
    assert ProtectionPlan.objects.filter(status="superseded").count() == 1


def test_requests_are_partly_answered_and_duty_has_one_pending(monusco, client):
    requests = MitigationMeasure.objects.filter(plan__status="active", by="mission")
    assert requests.filter(answer="pending").exists()
    assert requests.exclude(answer="pending").exists()
    duty = User.objects.get(username="duty")
    assert visible_plan_requests(duty).filter(answer="pending").exists()
    client.force_login(duty)
    response = client.get(reverse("plan-requests"))
    assert response.status_code == 200 and "Comité local de protection" in response.content.decode()


def test_cla_and_manager_see_committees_and_a_plan_is_past_review(monusco):
    for name in ("cla", "manager"):
        assert visible_committees(User.objects.get(username=name)).exists()
    assert plans_past_review(User.objects.get(username="manager")).count() == 1


def test_field_visits_with_one_overdue_action(monusco):
    cla = User.objects.get(username="cla")
    assert field_visits(cla).exists()
    assert field_visits(User.objects.get(username="ewo")).count() == 3
    open_past = FollowUpAction.objects.filter(status__in=["open", "under_way"])
    overdue = [action for action in open_past if action.is_overdue(mission_today(monusco))]
    assert len(overdue) == 1


def test_a_second_run_changes_nothing(monusco):
    before = Committee.objects.count(), MitigationMeasure.objects.count()
    assert protection.ensure(1) == []
    assert (Committee.objects.count(), MitigationMeasure.objects.count()) == before
