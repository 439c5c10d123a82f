"""Reads for the protection pages: committees with their figures, overdue plans and actions."""

from django.db.models import Count, OuterRef, Q, Subquery

from kiungo.missions.models import Mission
from kiungo.people.access import visible_committees, visible_field_visits
from kiungo.protection.dates import before_today_q
from kiungo.protection.models import (
    FieldVisit,
    FollowUpAction,
    MitigationMeasure,
    ProtectionPlan,
)


def _missions_of(queryset, path="mission_id"):
    return Mission.objects.filter(pk__in=queryset.values(path))


def past_review_q(missions, prefix: str = "") -> Q:
    """Active plans whose review date has passed (in their mission's time zone)."""
    return Q(**{f"{prefix}status": ProtectionPlan.Status.ACTIVE}) & before_today_q(
        f"{prefix}review_on", f"{prefix}committee__mission_id", missions
    )


def committees(user, *, past_review: bool = False):
    """The committees the user sees, with member counts, the active plan and its review date."""
    visible = visible_committees(user)
    missions = list(_missions_of(visible))
    active = ProtectionPlan.objects.filter(
        committee=OuterRef("pk"), status=ProtectionPlan.Status.ACTIVE
    )
    rows = visible.select_related("locality", "mission").annotate(
        member_count=Count("members", filter=Q(members__active=True), distinct=True),
        women_count=Count(
            "members", filter=Q(members__active=True, members__sex="f"), distinct=True
        ),
        active_version=Subquery(active.values("version")[:1]),
        review_on=Subquery(active.values("review_on")[:1]),
        pending_requests=Count(
            "plans__measures",
            filter=Q(
                plans__status=ProtectionPlan.Status.ACTIVE,
                plans__measures__answer=MitigationMeasure.Answer.PENDING,
            ),
            distinct=True,
        ),
    )
    overdue_plans = ProtectionPlan.objects.filter(past_review_q(missions))
    if past_review:
        rows = rows.filter(pk__in=overdue_plans.values("committee_id"))
    flagged = set(
        overdue_plans.filter(committee__in=visible).values_list("committee_id", flat=True)
    )
    rows = list(rows)
    for row in rows:
        row.past_review = row.pk in flagged
        row.women_share = row.women_count / row.member_count if row.member_count else None
    return rows


def plans_past_review(user):
    """The active plans past their review date among the user's committees (for their list)."""
    visible = visible_committees(user)
    missions = list(_missions_of(visible))
    return (
        ProtectionPlan.objects.filter(committee__in=visible)
        .filter(past_review_q(missions))
        .select_related("committee__locality")
        .order_by("review_on")
    )


def field_visits(user, *, overdue_only: bool = False):
    visible = visible_field_visits(user)
    missions = list(_missions_of(visible))
    overdue = FollowUpAction.objects.filter(status__in=FollowUpAction.OPEN_STATUSES).filter(
        before_today_q("due_on", "visit__mission_id", missions)
    )
    rows = visible.annotate(
        action_count=Count("actions", distinct=True),
        overdue_count=Count("actions", filter=Q(actions__in=overdue.values("pk")), distinct=True),
    ).prefetch_related("places")
    if overdue_only:
        rows = rows.filter(overdue_count__gt=0)
    return rows.order_by("-starts_on", "-pk")


def overdue_actions(visit: FieldVisit):
    return visit.actions.filter(status__in=FollowUpAction.OPEN_STATUSES).filter(
        before_today_q("due_on", "visit__mission_id", [visit.mission])
    )
