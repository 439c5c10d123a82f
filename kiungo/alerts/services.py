"""Changes a person makes to an alert after intake (web triage)."""

from django.db import transaction
from django.utils import timezone

from kiungo.alerts import incidents, routing
from kiungo.alerts.models import Alert, AlertEvent, Incident
from kiungo.geography.models import Area
from kiungo.missions.models import AlertLevel


def _place(area: Area | None) -> str:
    return f"{area.name} ({area.pcode})" if area is not None else ""


@transaction.atomic
def correct_alert(
    alert: Alert, *, user, area: Area | None, threat: str, level: AlertLevel, channel="web"
) -> Alert:
    """Set an alert's place, threat and level as a person decided; regroup it if needed.

    A new place or threat takes the alert out of its incident and into the one it now
    corroborates (opening one if none); the old incident is recounted, or marked merged into
    the new one if it has no alert left. A person who placed the alert has reviewed it.
    Records one "corrected" event (old → new); returns the alert unchanged if nothing changed.
    Both incidents touched are re-routed (unit and deadlines; a "routed" event if they change).
    """
    alert = Alert.objects.select_related("area", "level", "incident").get(pk=alert.pk)
    changes = {}
    if area != alert.area:
        changes["place"] = [_place(alert.area), _place(area)]
    if threat != alert.threat:
        changes["threat"] = [alert.threat, threat]
    if level != alert.level:
        changes["level"] = [alert.level.code, level.code]
    if not changes:
        return alert

    old = alert.incident
    regroup = "place" in changes or "threat" in changes or old is None
    alert.area, alert.threat, alert.level = area, threat, level
    if "place" in changes:
        alert.place_method = Alert.PlaceMethod.PERSON if area else Alert.PlaceMethod.NONE
        alert.place_confidence = 1.0 if area else 0.0
    if area is not None and threat:
        alert.needs_review, alert.review_reasons = False, []
    elif area is None and "place" not in alert.review_reasons:
        alert.review_reasons = [*alert.review_reasons, "place"]
        alert.needs_review = True

    now = timezone.now()
    if regroup:
        alert.incident = None
        alert.save()
        new = incidents.attach(alert)
        incidents.recount(new)
        routing.route(new, now=now)
        if old is not None and old.pk != new.pk:
            changes["incident"] = [old.reference, new.reference]
            _after_move_out(old, alert, new, user, channel, now)
    else:
        alert.save()
        new = old
        incidents.recount(old)
        routing.route(old, now=now)
    AlertEvent.record(
        "corrected",
        at=now,
        actor=user,
        channel=channel,
        alert=alert,
        incident=new,
        details=changes,
    )
    return alert


def _after_move_out(old: Incident, alert: Alert, new: Incident, user, channel, now) -> None:
    AlertEvent.record(
        "alert_moved_out",
        at=now,
        actor=user,
        channel=channel,
        incident=old,
        details={"alert": alert.reference, "incident": new.reference},
    )
    old.refresh_from_db()
    if old.alerts.exists():
        incidents.recount(old)
        routing.route(old, now=now)
        return
    # Its only alert now belongs elsewhere: the incident is that one, as after a merge.
    old.mark_merged_into(new)
