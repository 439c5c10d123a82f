"""What the safety pages show: the manager's overview and the CLA's own home-page box."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F
from django.utils import timezone

from kiungo.people.access import visible_alarms, visible_safety_clas
from kiungo.people.models import User
from kiungo.safety.models import Alarm, SafetyStatus


@dataclass
class Row:
    cla: object
    status: SafetyStatus | None
    overdue: bool


def overview(user: User, now: datetime | None = None) -> dict:
    """Open alarms (SOS and duress first), then every CLA in view: overdue ones first (the
    longest overdue on top), then by next deadline."""
    now = now or timezone.now()
    alarms = list(
        visible_alarms(user)
        .filter(closed_at__isnull=True)
        .select_related("cla__user", "cla__base", "area")
        .order_by("kind", "-last_signal_at")
    )
    # SOS and duress above missed check-ins; the latest signal first within each.
    alarms.sort(
        key=lambda alarm: (alarm.kind == Alarm.Kind.MISSED, -alarm.last_signal_at.timestamp())
    )
    clas = (
        visible_safety_clas(user)
        .filter(user__is_active=True, base__isnull=False)
        .select_related("user", "base", "safety__last_check_in__area")
        .order_by(F("safety__due_at").asc(nulls_last=True), "staff_id")
    )
    rows = []
    for cla in clas:
        status = getattr(cla, "safety", None) if hasattr(cla, "safety") else None
        rows.append(Row(cla, status, bool(status and status.is_overdue(now))))
    rows.sort(key=lambda row: not row.overdue)  # stable: overdue first, each by due time
    return {"alarms": alarms, "rows": rows, "overdue": sum(row.overdue for row in rows)}


@dataclass
class HomeSafety:
    status: SafetyStatus | None
    overdue: bool


def home_safety(user: User) -> HomeSafety | None:
    """The check-in box of a CLA's home page (None for anyone without a CLA profile)."""
    profile = getattr(user, "cla_profile", None) if hasattr(user, "cla_profile") else None
    if profile is None or profile.base_id is None:
        return None
    status = SafetyStatus.objects.filter(cla=profile).select_related("last_check_in").first()
    return HomeSafety(status, bool(status and status.is_overdue()))
