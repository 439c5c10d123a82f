"""Routing: an incident goes to the unit whose area of responsibility holds its place.

The incident's level sets its deadlines, counted from its first report: acknowledge within
`level.acknowledge_within`, decide a response within `level.respond_within`. An incident with
no place, or a place no open base answers for, stays unrouted (`unit` empty): the early-warning
cell sees it and assigns it. Every change is a "routed" (or "reassigned") timeline event.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kiungo.alerts import escalation, notify
from kiungo.alerts.models import AlertEvent, Incident
from kiungo.forces.models import Base, Unit
from kiungo.forces.responsibility import responsible_for_area

ROUTING_FIELDS = [
    "unit",
    "base",
    "routed_at",
    "acknowledge_due_at",
    "respond_due_at",
    "next_escalation_at",
]


def deadlines(incident: Incident) -> tuple[datetime, datetime]:
    """(acknowledge by, decide a response by) for the incident's level and first report."""
    level = incident.level
    start = incident.first_reported_at
    return start + level.acknowledge_within, start + level.respond_within


def _code(obj) -> str | None:
    return obj.code if obj is not None else None


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def _reassigned(incident: Incident) -> bool:
    return incident.pk is not None and incident.events.filter(kind="reassigned").exists()


def plan(incident: Incident, *, find_unit: bool = True, tighten_only: bool = False) -> bool:
    """Set the incident's routing fields in memory (no save); return whether they changed.

    `find_unit=False` keeps the unit and base (the place has not changed) and costs no query
    once the incident's level is loaded. `tighten_only` never moves a deadline later. A unit an
    early-warning officer chose ("reassigned") is kept rather than replaced by the map's choice.
    """
    before = (
        incident.unit_id,
        incident.base_id,
        incident.acknowledge_due_at,
        incident.respond_due_at,
    )
    if find_unit:
        found = responsible_for_area(incident.area) if incident.area_id else None
        unit, base = (found.unit, found.base) if found else (None, None)
        if (unit.pk if unit else None) != incident.unit_id:
            if not (incident.unit_id and _reassigned(incident)):
                incident.unit, incident.base = unit, base
        elif base is not None:
            incident.base = base
    acknowledge, respond = deadlines(incident)
    if tighten_only:
        if incident.acknowledge_due_at is not None:
            acknowledge = min(acknowledge, incident.acknowledge_due_at)
        if incident.respond_due_at is not None:
            respond = min(respond, incident.respond_due_at)
    incident.acknowledge_due_at, incident.respond_due_at = acknowledge, respond
    escalation.reschedule(incident)
    after = (incident.unit_id, incident.base_id, acknowledge, respond)
    return after != before


def record(
    incident: Incident, now: datetime, *, kind="routed", actor=None, channel="system", **extra
) -> AlertEvent:
    """The timeline event of a routing change (call after the incident is saved)."""
    details = {
        "unit": _code(incident.unit),
        "base": _code(incident.base),
        "level": incident.level.code,
        "acknowledge_due_at": _iso(incident.acknowledge_due_at),
        "respond_due_at": _iso(incident.respond_due_at),
        **extra,
    }
    return AlertEvent.record(
        kind, at=now, actor=actor, channel=channel, incident=incident, details=details
    )


def route(
    incident: Incident,
    *,
    now: datetime | None = None,
    find_unit: bool = True,
    tighten_only: bool = False,
) -> bool:
    """Route a saved incident to its responsible unit and set its deadlines; saves it.

    Records a "routed" event only when something changed; returns whether it did.
    """
    previous_unit = incident.unit_id
    if not plan(incident, find_unit=find_unit, tighten_only=tighten_only):
        return False
    now = now or timezone.now()
    incident.routed_at = now
    incident.save(update_fields=ROUTING_FIELDS)
    record(incident, now)
    if incident.unit_id and incident.unit_id != previous_unit and incident.is_open:
        notify.tell_unit(incident)
    return True


@transaction.atomic
def reassign(
    incident: Incident,
    unit: Unit,
    user,
    reason: str,
    *,
    now: datetime | None = None,
    channel: str = "web",
) -> Incident:
    """An early-warning officer gives the incident to another unit of the same mission.

    The base becomes the unit's open base if it has exactly one, else none. Until a response
    is decided, the new unit starts afresh: it must acknowledge, within the level's time
    counted from now, and escalation starts again from its first step (it chases the unit
    that now holds the incident, not the one that handed it over). Once a response is decided,
    only the holder changes. Raises ValidationError for a unit of another mission, an empty
    reason, an incident that is no longer open, or the unit it already has. Records a
    "reassigned" event with who and why.
    """
    reason = (reason or "").strip()
    if unit.mission_id != incident.mission_id:
        raise ValidationError(_("Choose a unit of the incident's mission."), code="mission")
    if not reason:
        raise ValidationError(_("Say why the incident goes to another unit."), code="reason")
    incident = (
        Incident.objects.select_for_update(of=("self",))
        .select_related("mission", "level", "area", "unit")
        .get(pk=incident.pk)
    )
    incident.require_open()
    if unit.pk == incident.unit_id:
        raise ValidationError(_("The incident is already with this unit."), code="same")
    now = now or timezone.now()
    previous = _code(incident.unit)
    bases = list(Base.objects.filter(unit=unit, closed_on__isnull=True)[:2])
    incident.unit = unit
    incident.base = bases[0] if len(bases) == 1 else None
    fields = list(ROUTING_FIELDS)
    if incident.responded_at is None:
        incident.acknowledge_due_at, incident.respond_due_at = (
            now + incident.level.acknowledge_within,
            now + incident.level.respond_within,
        )
        incident.acknowledged_at = incident.acknowledged_by_unit = None
        incident.escalations = 0
        fields += ["acknowledged_at", "acknowledged_by_unit", "escalations"]
    escalation.reschedule(incident)
    incident.routed_at = now
    incident.save(update_fields=fields)
    if incident.responded_at is None:
        notify.tell_unit(incident)
    record(
        incident,
        now,
        kind="reassigned",
        actor=user,
        channel=channel,
        previous=previous,
        reason=reason,
    )
    return incident
