"""Corroboration: alerts about the same place, threat and time window form one incident."""

import zlib

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Value
from django.utils import timezone

from kiungo.alerts import notify, routing
from kiungo.alerts.models import CORROBORATION_WINDOW, Alert, AlertEvent, Incident


def _lock_place(mission_id: int, area_id: int, threat: str) -> None:
    """Serialise grouping for one place and threat, so two alerts cannot open two incidents.

    SQLite transactions here already start with BEGIN IMMEDIATE (one writer at a time);
    PostgreSQL takes a transaction-scoped advisory lock on the (mission, area, threat) key.
    """
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"{mission_id}:{area_id}:{threat}".encode())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7301, key - 2**31])


def open_incident_for(alert: Alert) -> Incident | None:
    """The open incident this alert corroborates, if any (call inside a transaction)."""
    if alert.area_id is None:
        return None  # an alert that could not be placed is not grouped until a person places it
    _lock_place(alert.mission_id, alert.area_id, alert.threat)
    source = _source_filter(alert)
    same_source = (
        Exists(Alert.objects.filter(source, incident_id=OuterRef("pk")))
        if source is not None
        else Value(False)
    )
    incident = (
        Incident.objects.filter(
            mission_id=alert.mission_id,
            status=Incident.Status.OPEN,
            area_id=alert.area_id,
            threat=alert.threat,
            last_reported_at__gte=alert.occurred_at - CORROBORATION_WINDOW,
        )
        .annotate(same_source=same_source)  # folded in: one query, not two
        .select_related("level")  # the unit and base are read only when a joining alert reroutes
        .order_by("-last_reported_at")
        .first()
    )
    if incident is not None:  # the alert's own: no joins for them (this runs for every SMS)
        incident.mission, incident.area = alert.mission, alert.area
    return incident


def attach(alert: Alert) -> Incident:
    """Put a new (unsaved or saved) alert into its incident, opening one if needed; saves both.

    A new incident is routed (one query for the responsible unit, one for the "routed" event).
    A more severe or earlier report tightens the deadlines of the incident it joins (never
    loosens them); an alert joining at the same level and time costs no routing query.
    """
    incident = open_incident_for(alert)
    now = timezone.now()
    if incident is None:
        incident = Incident(
            mission=alert.mission,
            area=alert.area,
            threat=alert.threat,
            level=alert.level,
            first_reported_at=alert.occurred_at,
            last_reported_at=alert.occurred_at,
            alert_count=1,
            source_count=1,
        )
        routing.plan(incident)
        incident.routed_at = now
        incident.save()
        alert.incident = incident
        alert.save()
        routing.record(incident, now)
        notify.tell_unit(incident)
        return incident

    same = getattr(incident, "same_source", None)
    new_source = not (_same_source_in(incident, alert) if same is None else same)
    alert.incident = incident
    alert.save()
    incident.alert_count += 1
    incident.source_count += int(new_source)
    incident.last_reported_at = max(incident.last_reported_at, alert.occurred_at)
    earlier = alert.occurred_at < incident.first_reported_at
    incident.first_reported_at = min(incident.first_reported_at, alert.occurred_at)
    raised = alert.level.rank < incident.level.rank
    if raised:
        incident.level = alert.level  # a more severe report raises the incident
    fields = ["alert_count", "source_count", "last_reported_at", "first_reported_at", "level"]
    rerouted = (raised or earlier or incident.acknowledge_due_at is None) and routing.plan(
        incident, find_unit=False, tighten_only=True
    )
    if rerouted:
        incident.routed_at = now
        fields += routing.ROUTING_FIELDS
    incident.save(update_fields=fields)
    if rerouted:
        routing.record(incident, now)
        if raised and incident.is_open:
            notify.tell_unit(incident)  # tighter deadlines: the unit must know
    return incident


def _source_filter(alert: Alert) -> Q | None:
    """What makes another alert come from the same source as `alert` (None: no source)."""
    if alert.contact_id:
        return Q(contact_id=alert.contact_id)
    if alert.sender_hash:
        return Q(sender_hash=alert.sender_hash)
    if alert.created_by_id:
        return Q(created_by_id=alert.created_by_id, contact__isnull=True, sender_hash="")
    return None


def _same_source_in(incident: Incident, alert: Alert) -> bool:
    source = _source_filter(alert)
    return source is not None and incident.alerts.filter(source).exists()


def recount(incident: Incident) -> None:
    """Recompute an incident's counts, dates and level from its alerts."""
    alerts = list(incident.alerts.select_related("level"))
    if not alerts:
        return
    incident.alert_count = len(alerts)
    incident.source_count = len({alert.source_key for alert in alerts})
    incident.first_reported_at = min(alert.occurred_at for alert in alerts)
    incident.last_reported_at = max(alert.occurred_at for alert in alerts)
    incident.level = min((alert.level for alert in alerts), key=lambda level: level.rank)
    incident.save()


@transaction.atomic
def merge_incidents(target: Incident, others: list[Incident], user) -> Incident:
    """Move the alerts of `others` into `target`; the others stay, marked MERGED, for history."""
    now = timezone.now()
    for other in others:
        if other.pk == target.pk or other.mission_id != target.mission_id:
            continue
        Alert.objects.filter(incident=other).update(incident=target)
        other.mark_merged_into(target)
        AlertEvent.record(
            "merged_into",
            at=now,
            actor=user,
            channel="web",
            incident=other,
            details={"incident": target.reference},
        )
        AlertEvent.record(
            "merged_from",
            at=now,
            actor=user,
            channel="web",
            incident=target,
            details={"incident": other.reference},
        )
    recount(target)
    routing.route(target, now=now)
    return target


@transaction.atomic
def split_alerts(incident: Incident, alerts: list[Alert], user) -> Incident:
    """Take some alerts out of an incident into a new incident of their own."""
    moving = [alert for alert in alerts if alert.incident_id == incident.pk]
    if not moving or len(moving) == incident.alerts.count():
        raise ValueError("Choose some, but not all, of the incident's alerts to split off.")
    first = min(moving, key=lambda alert: alert.occurred_at)
    new = Incident.objects.create(
        mission_id=incident.mission_id,
        area_id=first.area_id,
        threat=first.threat,
        level_id=first.level_id,
        first_reported_at=first.occurred_at,
        last_reported_at=first.occurred_at,
    )
    Alert.objects.filter(pk__in=[alert.pk for alert in moving]).update(incident=new)
    recount(new)
    recount(incident)
    now = timezone.now()
    refs = sorted(alert.reference for alert in moving)
    AlertEvent.record(
        "split",
        at=now,
        actor=user,
        channel="web",
        incident=incident,
        details={"incident": new.reference, "alerts": refs},
    )
    AlertEvent.record(
        "split_from",
        at=now,
        actor=user,
        channel="web",
        incident=new,
        details={"incident": incident.reference, "alerts": refs},
    )
    routing.route(new, now=now)
    routing.route(incident, now=now)
    return new
