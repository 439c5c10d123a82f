"""A missed check-in climbs its ladder by itself: the CLA's manager, then the mission's
security officers, then the region's other CLA managers.

The same deadline machinery as an incident's escalation (kiungo.lib.deadlines): the CLA's
safety status carries `escalations` and `next_escalation_at`; `escalate_missed_check_ins()` —
a task of `manage.py worker` — takes a due step with one conditional UPDATE of that pair and,
in the same transaction, opens (or extends) the "missed check-in" alarm and queues the
messages. Two workers or a restart never double or lose a step; a check-in racing the worker
changes the pair, so a step planned before it is not taken.

A CLA away on a recorded absence (kiungo.people.deployment.absent_on) is not chased: the
deadline moves to the day after the absence instead.
"""

import logging
import zoneinfo
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from kiungo.lib import deadlines, worker
from kiungo.people.models import Absence
from kiungo.safety import notify
from kiungo.safety.checkins import ensure_statuses, plan, policy_for
from kiungo.safety.models import STEP_TARGETS, Alarm, SafetyStatus

logger = logging.getLogger(__name__)

BATCH = 100


def next_due(status: SafetyStatus, policy) -> datetime | None:
    """When the next step of the status's missed check-in falls due (None: no step left)."""
    offsets = policy.step_offsets()
    if status.due_at is None or status.escalations >= len(offsets):
        return None
    return status.due_at + offsets[status.escalations]


def _away_until(status: SafetyStatus, now: datetime) -> datetime | None:
    """If the CLA is on a recorded absence today: the start of the day they are back."""
    zone = zoneinfo.ZoneInfo(status.mission.time_zone)
    today = timezone.localdate(now, zone)
    absence = (
        Absence.objects.filter(cla_id=status.cla_id, starts_on__lte=today, ends_on__gte=today)
        .order_by("-ends_on")
        .first()
    )
    if absence is None:
        return None
    back = absence.ends_on + timedelta(days=1)
    return datetime.combine(back, time(0), tzinfo=zone)


def take_step(status_id: int, now: datetime | None = None) -> bool:
    """Take the status's due escalation step if still due and nobody else took it."""
    now = now or timezone.now()
    status = (
        SafetyStatus.objects.select_related("mission", "cla__user", "cla__supervisor")
        .filter(pk=status_id)
        .first()
    )
    if status is None or status.next_escalation_at is None:
        return False
    due_at, taken = status.next_escalation_at, status.escalations
    if due_at > now:
        return False
    policy = policy_for(status.mission)
    cla = status.cla
    if (
        policy is None
        or status.due_at is None
        or taken >= len(STEP_TARGETS)
        or not cla.user.is_active
        or cla.base_id is None
    ):
        deadlines.drop_plan(SafetyStatus, status.pk, taken=taken, due_at=due_at)
        return False
    back = _away_until(status, now)
    if back is not None:
        # Not expected to check in while away: the deadline restarts on their return.
        status.escalations = taken
        plan(status, policy, policy.first_due_from(back))
        SafetyStatus.objects.filter(
            pk=status.pk, escalations=taken, next_escalation_at=due_at
        ).update(due_at=status.due_at, escalations=0, next_escalation_at=status.next_escalation_at)
        return False
    target, missed = STEP_TARGETS[taken], status.due_at
    status.escalations = taken + 1
    following = next_due(status, policy)
    with transaction.atomic():
        if not deadlines.claim(
            SafetyStatus, status.pk, taken=taken, due_at=due_at, following=following
        ):
            return False  # another worker took it, or the CLA checked in meanwhile
        told = notify.tell_missed(cla, status.mission, target, missed, taken + 1)
        alarm = Alarm.objects.filter(
            cla=cla, kind=Alarm.Kind.MISSED, closed_at__isnull=True
        ).first()
        if alarm is None:
            alarm = Alarm(
                cla=cla,
                mission=status.mission,
                kind=Alarm.Kind.MISSED,
                raised_at=now,
                last_signal_at=now,
                signals=0,
            )
        alarm.signals += 1
        alarm.last_signal_at = now
        alarm.steps = [
            *alarm.steps,
            {"at": now.isoformat(), "step": taken + 1, "target": str(target), "told": told},
        ]
        alarm.save()
    logger.info("safety status %s escalated: step %s (%s)", status.pk, taken + 1, target)
    return True


@worker.register
def escalate_missed_check_ins(now: datetime | None = None, limit: int = BATCH) -> int:
    """Take every due step of a missed check-in (at most `limit`); returns how many."""
    ensure_statuses(now)

    def due_ids(count: int) -> list[int]:
        current = now or timezone.now()
        return list(
            SafetyStatus.objects.filter(next_escalation_at__lte=current)
            .order_by("next_escalation_at", "pk")
            .values_list("pk", flat=True)[:count]
        )

    return deadlines.take_due(
        due_ids, lambda pk: take_step(pk, now=now), limit=limit, label="safety status"
    )
