"""What happens to an incident after routing: the unit's answer and the early-warning cell's
decisions. Each function is one transaction that locks the incident, checks the state, changes
it, reschedules escalation, records one immutable timeline event and queues the messages the
change causes (kiungo.alerts.notify).

The unit: acknowledge, then decide a response (patrol sent, referred to national forces, no
action — with a reason), report the patrol on site, close with an outcome. Deciding a response
acknowledges too, if that had not happened. An officer acting without a unit of the chain (an
early-warning officer who reached the unit by radio) acknowledges for the incident's unit.
The early-warning cell: verify, re-level, reassign (kiungo.alerts.routing.reassign), dismiss
with a reason, close.

Who may do it is not checked here: views ask kiungo.people.access, SMS reply codes check the
duty phone (kiungo.alerts.replies). These functions enforce what makes sense for the incident.
Repeating an action already recorded (a second "OK") changes nothing and returns False.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kiungo.alerts import escalation, notify, routing
from kiungo.alerts.models import AlertEvent, Incident, Outcome, Response
from kiungo.forces.models import Unit
from kiungo.missions.models import AlertLevel


@dataclass(frozen=True)
class Actor:
    """Who acts, and through what: a signed-in user (web, api) or a duty phone (sms)."""

    user: object | None = None
    unit: Unit | None = None  # the unit answering, when known
    channel: str = "web"
    phone: str = ""  # the duty phone's label, for SMS (never its number)
    inbound: int | None = None  # the SMS that carried a reply code

    def details(self) -> dict:
        details = {}
        if self.inbound is not None:
            details["inbound"] = self.inbound
        if self.unit is not None:
            details["unit"] = self.unit.code
        if self.phone:
            details["phone"] = self.phone
        return details


def _locked(incident: Incident) -> Incident:
    """The incident re-read under a row lock (PostgreSQL; SQLite's write lock is taken at
    BEGIN IMMEDIATE), so two answers at once are applied one after the other."""
    return (
        Incident.objects.select_for_update(of=("self",))
        .select_related("mission", "level", "area", "unit")
        .get(pk=incident.pk)
    )


def _require_reason(reason: str, message: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError(message, code="reason")
    return reason[:500]


def _save(incident: Incident, fields: list[str]) -> None:
    escalation.reschedule(incident)
    incident.save(update_fields=[*fields, "next_escalation_at"])


def _event(incident: Incident, kind: str, actor: Actor, now: datetime, **details) -> AlertEvent:
    return AlertEvent.record(
        kind,
        at=now,
        actor=actor.user,
        channel=actor.channel,
        incident=incident,
        details={**actor.details(), **details},
    )


@transaction.atomic
def acknowledge(incident: Incident, actor: Actor, *, now: datetime | None = None) -> bool:
    """The unit has seen the incident. False if it was already acknowledged."""
    incident = _locked(incident)
    incident.require_open()
    if incident.acknowledged_at is not None:
        return False
    now = now or timezone.now()
    incident.acknowledged_at = now
    incident.acknowledged_by_unit = actor.unit or incident.unit
    _save(incident, ["acknowledged_at", "acknowledged_by_unit"])
    _event(incident, "acknowledged", actor, now, late=_late(incident.acknowledge_due_at, now))
    return True


def _late(due: datetime | None, now: datetime) -> bool:
    return due is not None and now > due


def _last_reason(incident: Incident) -> str:
    last = incident.events.filter(kind="responded").order_by("-at", "-pk").first()
    return last.details.get("reason", "") if last is not None else ""


@transaction.atomic
def respond(
    incident: Incident,
    action: str,
    actor: Actor,
    *,
    reason: str = "",
    now: datetime | None = None,
) -> bool:
    """Record the unit's response (a `Response`). NO_ACTION needs a reason.

    The first response decided stops escalation and, unless it is NO_ACTION, tells the
    consenting contacts that the mission is responding. False if nothing changed.
    """
    action = Response(action)
    if action == Response.NO_ACTION:
        reason = _require_reason(reason, _("Say why no action is taken."))
    incident = _locked(incident)
    incident.require_open()
    if incident.response == action and (
        action != Response.NO_ACTION or reason == _last_reason(incident)
    ):
        return False  # a repeat (NO_ACTION again with another reason is a new decision)
    now = now or timezone.now()
    fields = ["response"]
    first = incident.responded_at is None
    details = {"response": action.value, **({"reason": reason} if reason else {})}
    if incident.acknowledged_at is None:
        incident.acknowledged_at = now
        incident.acknowledged_by_unit = actor.unit or incident.unit
        fields += ["acknowledged_at", "acknowledged_by_unit"]
        details["acknowledged"] = True
    if first:
        incident.responded_at = now
        fields.append("responded_at")
        details["late"] = _late(incident.respond_due_at, now)
    if action == Response.ARRIVED and incident.arrived_at is None:
        incident.arrived_at = now
        fields.append("arrived_at")
    incident.response = action
    _save(incident, fields)
    _event(incident, "responded", actor, now, **details)
    already_told = incident.events.filter(kind="contacts_told").exists()
    if action != Response.NO_ACTION and not already_told:
        told = notify.follow_up(incident)
        if told:
            AlertEvent.record(
                "contacts_told", at=now, incident=incident, details={"contacts": told}
            )
    return True


@transaction.atomic
def close(
    incident: Incident,
    outcome: str,
    actor: Actor,
    *,
    note: str = "",
    now: datetime | None = None,
) -> Incident:
    """Close the incident with its outcome (an `Outcome`); escalation stops."""
    outcome = Outcome(outcome)
    incident = _locked(incident)
    incident.require_open()
    now = now or timezone.now()
    incident.status = Incident.Status.CLOSED
    incident.outcome = outcome
    incident.closed_at = now
    _save(incident, ["status", "outcome", "closed_at"])
    note = " ".join((note or "").split())[:500]
    _event(
        incident, "closed", actor, now, outcome=outcome.value, **({"note": note} if note else {})
    )
    return incident


@transaction.atomic
def dismiss(
    incident: Incident, actor: Actor, *, reason: str, now: datetime | None = None
) -> Incident:
    """The early-warning cell sets the incident aside (not credible, not for the mission)."""
    reason = _require_reason(reason, _("Say why the incident is dismissed."))
    incident = _locked(incident)
    incident.require_open()
    now = now or timezone.now()
    incident.status = Incident.Status.DISMISSED
    incident.closed_at = now
    _save(incident, ["status", "closed_at"])
    _event(incident, "dismissed", actor, now, reason=reason)
    return incident


@transaction.atomic
def verify(
    incident: Incident, actor: Actor, *, note: str = "", now: datetime | None = None
) -> bool:
    """The early-warning cell has checked the incident is real. False if already verified."""
    incident = _locked(incident)
    incident.require_open()
    if incident.verified_at is not None:
        return False
    now = now or timezone.now()
    incident.verified_at = now
    incident.save(update_fields=["verified_at"])
    note = " ".join((note or "").split())[:500]
    _event(incident, "verified", actor, now, **({"note": note} if note else {}))
    return True


@transaction.atomic
def relevel(
    incident: Incident,
    level: AlertLevel,
    actor: Actor,
    *,
    reason: str,
    now: datetime | None = None,
) -> bool:
    """The early-warning cell sets another level: the deadlines follow it (counted from the
    first report, as always) and the unit is told again. False if the level is the same."""
    reason = _require_reason(reason, _("Say why the level changes."))
    if level.mission_id != incident.mission_id:
        raise ValidationError(_("Choose a level of the incident's mission."), code="mission")
    incident = _locked(incident)
    incident.require_open()
    if incident.level_id == level.pk:
        return False
    now = now or timezone.now()
    previous = incident.level.code
    incident.level = level
    routing.plan(incident, find_unit=False)
    incident.routed_at = now
    incident.save(update_fields=["level", *routing.ROUTING_FIELDS])
    _event(
        incident,
        "relevelled",
        actor,
        now,
        previous=previous,
        level=level.code,
        reason=reason,
        acknowledge_due_at=incident.acknowledge_due_at.isoformat(),
        respond_due_at=incident.respond_due_at.isoformat(),
    )
    if incident.unit_id and incident.responded_at is None:
        notify.tell_unit(incident)
    return True
