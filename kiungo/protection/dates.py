""" "Today" where the committee or the visit is: in the mission's time zone, not UTC."""

from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from kiungo.missions.models import Mission


def mission_today(mission: Mission) -> date:
    return timezone.localdate(timezone.now(), ZoneInfo(mission.time_zone))


def before_today_q(field: str, mission_path: str, missions) -> Q:
    """`field` before today, each mission's own today (a list may span several missions)."""
    condition = Q(pk__in=[])
    for mission in missions:
        condition |= Q(**{mission_path: mission.pk, f"{field}__lt": mission_today(mission)})
    return condition
