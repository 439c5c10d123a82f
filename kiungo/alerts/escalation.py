"""Automatic escalation: a missed deadline goes up the chain by itself.

The deadline the unit must meet next is the one to acknowledge, then, once acknowledged, the
one to decide a response (`Incident.pending_deadline`). The level's escalation steps count
from that deadline: step i falls due at `deadline + steps[i].after`. Steps already taken stay
taken (escalation never goes back down): after a late acknowledgement, the next untaken step
counts from the deadline to respond. A decided response, a closure, a dismissal or a merge
stops escalation.

The state is two columns of the incident: `escalations` (steps taken) and
`next_escalation_at` (when the next one falls due, NULL for none). `escalate_due()` — a task
of `manage.py worker` — takes a due step with one conditional UPDATE on both columns
(`kiungo.lib.deadlines.claim`, shared with the CLAs' safety check-ins) and, in
the same transaction, records the "escalated" event and queues the notifications. So:
- two workers: the database lets one UPDATE match; the other changes nothing and moves on;
- a crash before the commit: nothing of the step is kept, and the next pass takes it again;
- an acknowledgement racing the worker: it changes `next_escalation_at`, so a step planned
  from the old state no longer matches.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kiungo.alerts import notify
from kiungo.alerts.models import AlertEvent, Incident
from kiungo.lib import deadlines, worker
from kiungo.missions.models import EscalationStep

logger = logging.getLogger(__name__)

BATCH = 100  # steps taken per pass at most; the worker comes back within a second


def steps_of(incident: Incident) -> list[EscalationStep]:
    """The level's steps in order (uses a prefetch of `level__steps` when there is one)."""
    return sorted(incident.level.steps.all(), key=lambda step: step.position)


def next_due(incident: Incident, steps: list[EscalationStep] | None = None) -> datetime | None:
    """When the next escalation step falls due, for the incident as it is in memory."""
    deadline = incident.pending_deadline
    if deadline is None:
        return None
    steps = steps_of(incident) if steps is None else steps
    if incident.escalations >= len(steps):
        return None
    return deadline + steps[incident.escalations].after


def reschedule(incident: Incident) -> bool:
    """Set `next_escalation_at` from the incident's state (no save); True if it changed."""
    due = next_due(incident)
    changed = due != incident.next_escalation_at
    incident.next_escalation_at = due
    return changed


def _missed(incident: Incident) -> str:
    return "acknowledge" if incident.acknowledged_at is None else "respond"


def take_step(incident_id: int, now: datetime | None = None) -> bool:
    """Take the incident's due escalation step if it is still due and nobody else took it.

    Returns whether this call took it.
    """
    now = now or timezone.now()
    incident = (
        Incident.objects.select_related("mission", "level", "area", "unit__parent__parent__parent")
        .prefetch_related("level__steps")
        .filter(pk=incident_id)
        .first()
    )
    if incident is None or incident.next_escalation_at is None:
        return False
    due_at, taken = incident.next_escalation_at, incident.escalations
    if due_at > now:
        return False
    steps = steps_of(incident)
    if taken >= len(steps) or incident.pending_deadline is None:
        # Nothing left to take (the level lost steps since this one was planned).
        deadlines.drop_plan(Incident, incident.pk, taken=taken, due_at=due_at)
        return False
    step = steps[taken]
    deadline, missed = incident.pending_deadline, _missed(incident)
    incident.escalations = taken + 1
    following = next_due(incident, steps)
    with transaction.atomic():
        claimed = deadlines.claim(
            Incident,
            incident.pk,
            taken=taken,
            due_at=due_at,
            following=following,
            still=Q(status=Incident.Status.OPEN, responded_at__isnull=True),
        )
        if not claimed:
            return False  # another worker took it, or the incident changed meanwhile
        incident.next_escalation_at = following
        reached = notify.tell_escalation(incident, step.target, missed, deadline)
        AlertEvent.record(
            "escalated",
            at=now,
            incident=incident,
            details={
                "step": taken + 1,
                "target": step.target,
                "unit": reached.unit.code if reached.unit else None,
                "missed": missed,
                "deadline": deadline.isoformat(),
                "due_at": due_at.isoformat(),
                "phones": len(reached.phones),
                "officers": len(reached.officers),
            },
        )
    logger.info("incident %s escalated: step %s (%s)", incident.pk, taken + 1, step.target)
    return True


@worker.register
def escalate_due(now: datetime | None = None, limit: int = BATCH) -> int:
    """Take every escalation step that has fallen due (at most `limit`); returns how many.

    A step due at the same time as the one before (two steps with the same delay) is taken
    in the same pass.
    """

    def due_ids(count: int) -> list[int]:
        current = now or timezone.now()
        return list(
            Incident.objects.filter(status=Incident.Status.OPEN, next_escalation_at__lte=current)
            .order_by("next_escalation_at", "pk")
            .values_list("pk", flat=True)[:count]
        )

    # `take_step` is looked up on every call (tests count or slow it down).
    return deadlines.take_due(
        due_ids, lambda pk: take_step(pk, now=now), limit=limit, label="incident"
    )
