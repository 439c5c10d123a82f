"""A CLA's check-ins and alarms: the business rules behind the web form, the SMS codes and
the API.

Each action is one transaction that locks the CLA's safety status row first: a check-in and
the escalation worker, or two SOS in a row, are serialised, and a check-in changes the very
columns the worker claims (`escalations`, `next_escalation_at`), so a step planned before it
no longer matches and is not taken.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kiungo.geography.models import Area
from kiungo.missions.models import Mission
from kiungo.people.deployment import cla_mission
from kiungo.people.models import CLAProfile, User
from kiungo.safety import notify
from kiungo.safety.models import Alarm, CheckIn, CheckInPolicy, SafetyStatus


def policy_for(mission: Mission) -> CheckInPolicy | None:
    """The mission's active check-in policy, or None (then nothing is due, nobody is chased)."""
    policy = CheckInPolicy.objects.filter(mission=mission, active=True).first()
    if policy is not None:
        policy.mission = mission
    return policy


def plan(status: SafetyStatus, policy: CheckInPolicy | None, due_at: datetime | None) -> None:
    """Set the next deadline and reset its escalation (no save)."""
    status.due_at = due_at if policy is not None else None
    status.escalations = 0
    status.next_escalation_at = (
        due_at + policy.step_offsets()[0] if policy is not None and due_at is not None else None
    )


def _mission_of(cla: CLAProfile) -> Mission:
    mission = cla_mission(cla)
    if mission is None:
        raise ValidationError(_("You are not deployed on a base: there is nothing to check in to."))
    return mission


def _locked_status(cla: CLAProfile, mission: Mission) -> SafetyStatus:
    SafetyStatus.objects.get_or_create(cla=cla, defaults={"mission": mission})
    return SafetyStatus.objects.select_for_update().get(cla=cla)


def _location(mission: Mission, area: Area | None, latitude, longitude) -> dict:
    if (latitude is None) != (longitude is None):
        raise ValidationError(_("Give both latitude and longitude, or neither."))
    if latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValidationError(_("This point is not on Earth: check latitude and longitude."))
    if area is not None and area.mission_id != mission.pk:
        raise ValidationError(_("This place is not in your mission."))
    return {"area": area, "latitude": latitude, "longitude": longitude}


def check_in(
    cla: CLAProfile,
    *,
    channel: str,
    area: Area | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    note: str = "",
    idempotency_key: str = "",
    now: datetime | None = None,
) -> tuple[CheckIn, bool]:
    """Record that the CLA is safe; the next check-in falls due from now, any escalation of a
    missed one stops and its alarm closes. Returns (check-in, created): a retry with the same
    `idempotency_key` returns the first check-in."""
    now = now or timezone.now()
    mission = _mission_of(cla)
    place = _location(mission, area, latitude, longitude)
    if idempotency_key:
        first = CheckIn.objects.filter(cla=cla, idempotency_key=idempotency_key).first()
        if first is not None:
            return first, False
    try:
        with transaction.atomic():
            status = _locked_status(cla, mission)
            check = CheckIn.objects.create(
                cla=cla,
                mission=mission,
                at=now,
                channel=channel,
                note=note[:300],
                idempotency_key=idempotency_key,
                **place,
            )
            policy = policy_for(mission)
            plan(status, policy, policy.next_due(now) if policy else None)
            status.last_check_in = check
            status.save()
            Alarm.objects.filter(cla=cla, kind=Alarm.Kind.MISSED, closed_at__isnull=True).update(
                closed_at=now, close_note="checked in"
            )
    except IntegrityError:
        # The same idempotency key committed by a concurrent retry: answer with that one.
        first = CheckIn.objects.filter(cla=cla, idempotency_key=idempotency_key).first()
        if idempotency_key and first is not None:
            return first, False
        raise
    return check, True


def next_due_after_check_in(cla: CLAProfile, now: datetime | None = None) -> datetime | None:
    """When the next check-in would be due if the CLA checked in now (for a reply that must
    look like an ordinary confirmation)."""
    policy = policy_for(_mission_of(cla))
    return policy.next_due(now or timezone.now()) if policy else None


def raise_alarm(
    cla: CLAProfile,
    kind: str,
    *,
    channel: str,
    area: Area | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Alarm:
    """An SOS or a duress word: the CLA's manager and the security officers are told at once.
    A repeat while the alarm is open is counted on it and told again."""
    assert kind in (Alarm.Kind.SOS, Alarm.Kind.DURESS)
    now = now or timezone.now()
    mission = _mission_of(cla)
    place = _location(mission, area, latitude, longitude)
    with transaction.atomic():
        _locked_status(cla, mission)
        alarm = Alarm.objects.filter(cla=cla, kind=kind, closed_at__isnull=True).first()
        if alarm is None:
            alarm = Alarm(
                cla=cla,
                mission=mission,
                kind=kind,
                channel=channel,
                raised_at=now,
                last_signal_at=now,
                note=note[:300],
                **place,
            )
        else:
            alarm.signals += 1
            alarm.last_signal_at = now
            if note:
                alarm.note = note[:300]
            if place["area"] is not None or place["latitude"] is not None:
                for name, value in place.items():
                    setattr(alarm, name, value)
        alarm.mission = mission
        told = notify.tell_alarm(alarm)
        alarm.steps = [*alarm.steps, {"at": now.isoformat(), "channel": channel, "told": told}]
        alarm.save()
    return alarm


def close_alarm(alarm: Alarm, *, by: User, note: str, now: datetime | None = None) -> bool:
    """Close an open alarm with a note (required); False when it was already closed."""
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say how it was resolved.")})
    return bool(
        Alarm.objects.filter(pk=alarm.pk, closed_at__isnull=True).update(
            closed_at=now or timezone.now(), closed_by=by, close_note=note[:500]
        )
    )


def ensure_statuses(now: datetime | None = None) -> int:
    """Give every deployed, active CLA of a mission with an active policy a safety status
    (their first check-in due from now); returns how many were added."""
    now = now or timezone.now()
    missing = list(
        CLAProfile.objects.filter(
            base__mission__check_in_policy__active=True,
            base__closed_on__isnull=True,
            user__is_active=True,
            safety__isnull=True,
        ).select_related("base__mission__check_in_policy")
    )
    rows = []
    for cla in missing:
        mission = cla.base.mission
        policy = mission.check_in_policy
        status = SafetyStatus(cla=cla, mission=mission)
        plan(status, policy, policy.first_due_from(now))
        rows.append(status)
    SafetyStatus.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def overdue_by(status: SafetyStatus, now: datetime | None = None) -> timedelta | None:
    if status.due_at is None:
        return None
    late = (now or timezone.now()) - status.due_at
    return late if late > timedelta(0) else None
