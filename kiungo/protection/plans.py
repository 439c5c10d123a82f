"""A committee's protection plan: start, edit while a draft, activate, revise.

Each function is one transaction that locks the committee row first, so two people (or a
retried request) cannot both create version 3 or both activate a plan; the partial unique
constraints on ProtectionPlan stay the last line of defence. Who may do it is checked by the
views (kiungo.people.access); these functions enforce what makes sense for the plan.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kiungo.protection import sharing
from kiungo.protection.models import Committee, ProtectionPlan


def _lock(committee: Committee) -> Committee:
    return Committee.objects.select_for_update().get(pk=committee.pk)


def start_plan(committee: Committee, by, review_on) -> ProtectionPlan:
    """The committee's first plan, as a draft (its existing draft if one is there already)."""
    with transaction.atomic():
        _lock(committee)
        plans = committee.plans.all()
        draft = plans.filter(status=ProtectionPlan.Status.DRAFT).first()
        if draft is not None:
            return draft
        if plans.filter(status=ProtectionPlan.Status.ACTIVE).exists():
            raise ValidationError(_("This committee has an active plan: revise it instead."))
        return ProtectionPlan.objects.create(
            committee=committee,
            version=_next_version(committee),
            review_on=review_on,
            created_by=by,
        )


def _next_version(committee: Committee) -> int:
    return (committee.plans.aggregate(last=Max("version"))["last"] or 0) + 1


def revise(plan: ProtectionPlan, by) -> ProtectionPlan:
    """A new draft version copied from the active plan: its threats (with perpetrators and
    places) and measures (requests keep the unit's answer until the new version is shared with
    another unit). The active plan stays in force, unchanged, until the draft is activated.
    A draft that already exists is returned as it is (a second click makes no second draft)."""
    with transaction.atomic():
        _lock(plan.committee)
        plan.refresh_from_db()
        draft = plan.committee.plans.filter(status=ProtectionPlan.Status.DRAFT).first()
        if draft is not None:
            return draft
        if plan.status != ProtectionPlan.Status.ACTIVE:
            raise ValidationError(_("Only the active plan can be revised."))
        new = ProtectionPlan.objects.create(
            committee=plan.committee,
            version=_next_version(plan.committee),
            vulnerabilities=plan.vulnerabilities,
            capacities=plan.capacities,
            review_on=plan.review_on,
            created_by=by,
        )
        for threat in plan.threats.prefetch_related("perpetrators", "places"):
            perpetrators, places = list(threat.perpetrators.all()), list(threat.places.all())
            threat.pk = None
            threat.plan = new
            threat._prefetched_objects_cache = {}  # else set() compares with the old rows
            threat.save()
            threat.perpetrators.set(perpetrators)
            threat.places.set(places)
        for measure in plan.measures.all():
            measure.pk = None
            measure.plan = new
            measure.save()
        return new


def activate(plan: ProtectionPlan, by) -> ProtectionPlan:
    """Put a draft in force: the previous active version is superseded, and the plan is shared
    with the unit responsible for the committee's locality (its duty officers are told).
    A plan without any threat is refused, and then nothing changes."""
    with transaction.atomic():
        _lock(plan.committee)
        plan.refresh_from_db()
        if plan.status != ProtectionPlan.Status.DRAFT:
            raise ValidationError(_("Only a draft can be activated."))
        if not plan.threats.exists():
            raise ValidationError(
                _("A plan needs at least one threat before it can be activated."), code="threat"
            )
        now = timezone.now()
        plan.committee.plans.filter(status=ProtectionPlan.Status.ACTIVE).update(
            status=ProtectionPlan.Status.SUPERSEDED, superseded_at=now
        )
        plan.status = ProtectionPlan.Status.ACTIVE
        plan.activated_at, plan.activated_by = now, by
        plan.save(update_fields=["status", "activated_at", "activated_by"])
        sharing.share(plan, now)
        return plan


def require_draft(plan: ProtectionPlan) -> None:
    if not plan.is_editable:
        raise ValidationError(_("Only a draft can be changed; revise the plan to change it."))
