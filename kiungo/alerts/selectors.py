"""Read-side queries for the alert pages: the incident board, its change stamp, detail facts.

Every query starts from the scoped querysets of `kiungo.people.access`; nothing here widens
what a user may see. The board runs a constant number of queries whatever its size.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kiungo.alerts.models import Alert, AlertEvent, Incident
from kiungo.geography.models import Area
from kiungo.lib.text import fold
from kiungo.missions.models import Mission
from kiungo.people.access import visible_alerts, visible_incidents

PAGE_SIZE = 100
STATUSES = ("open", "closed", "merged", "all")


# Places typed by people: a P-code or a name (any alias), within one mission or several.


@dataclass
class PlaceMatch:
    area: Area | None
    candidates: list[Area]  # several areas share the name: the person must choose

    @property
    def ambiguous(self) -> bool:
        return self.area is None and len(self.candidates) > 1


def _resolver():
    try:
        from kiungo.alerts.placing import resolve_place
    except ImportError:  # the placing module is optional: exact matches still work
        return None
    return resolve_place


def resolve_typed_place(mission: Mission, text: str, preferred: QuerySet | None = None):
    """The area a person means by `text` in `mission`: P-code, exact name or alias, then the
    placing service's wider matching. Several exact matches are narrowed to `preferred`
    (the user's own scope); if still several, they are returned as candidates.
    """
    text = (text or "").strip()
    if not text:
        return PlaceMatch(None, [])
    areas = Area.objects.filter(mission=mission)
    by_code = areas.filter(pcode=text.upper()).first()
    if by_code is not None:
        return PlaceMatch(by_code, [by_code])
    named = list(areas.named(mission, text).order_by("level", "pcode")[:20])
    if len(named) > 1 and preferred is not None:
        mine = set(preferred.filter(pk__in=[a.pk for a in named]).values_list("pk", flat=True))
        if len(mine) == 1:
            named = [a for a in named if a.pk in mine]
    if len(named) == 1:
        return PlaceMatch(named[0], named)
    if named:
        return PlaceMatch(None, named)
    resolve_place = _resolver()
    if resolve_place is not None:
        placement = resolve_place(mission, [text], None)
        area = getattr(placement, "area", None)
        ambiguous = getattr(placement, "ambiguous", False)
        if area is not None and not ambiguous and area.mission_id == mission.pk:
            return PlaceMatch(area, [area])
    return PlaceMatch(None, [])


def areas_matching(missions: QuerySet, text: str) -> list[Area]:
    """Areas of `missions` with this P-code, or this name or alias (board filter)."""
    text = (text or "").strip()
    if not text:
        return []
    areas = Area.objects.filter(mission__in=missions)
    by_code = list(areas.filter(pcode=text.upper())[:1])
    if by_code:
        return by_code
    return list(areas.filter(names__folded=fold(text)).distinct().order_by("level")[:50])


# The board.


def board_incidents(
    user,
    *,
    mission: Mission | None = None,
    areas: list[Area] | None = None,
    level: str = "",
    threat: str = "",
    status: str = "open",
) -> QuerySet[Incident]:
    """Incidents in the user's scope matching the board's filters (unordered)."""
    incidents = visible_incidents(user)
    if mission is not None:
        incidents = incidents.filter(mission=mission)
    if areas is not None:  # a place was asked for: that place and everything below it
        condition = Q(pk__in=[])
        for area in areas:
            condition |= Q(mission_id=area.mission_id, area__pcode__startswith=area.pcode)
        incidents = incidents.filter(condition)
    if level:
        incidents = incidents.filter(level__code=level)
    if threat:
        incidents = incidents.filter(threat=threat)
    if status and status != "all":
        incidents = incidents.filter(status=status)
    return incidents


def board_rows(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """Most severe first, then oldest first; with what a row shows, in one query."""
    pending = Alert.objects.filter(incident=OuterRef("pk"), needs_review=True)
    return (
        incidents.select_related("area", "level", "mission", "unit", "base")
        .annotate(needs_review=Exists(pending))
        .order_by("level__rank", "first_reported_at", "pk")
    )


def board_stamp(incidents: QuerySet[Incident]) -> str:
    """Changes whenever a row of the board would: "<count>-<last report>-<max id>-<checksum>".

    The checksum (alert counts and levels weighted by id) also catches an alert moving between
    incidents and a level changing, which the first three parts alone would miss.
    """
    facts = incidents.order_by().aggregate(
        count=Count("pk"),
        last=Max("last_reported_at"),
        top=Max("pk"),
        checksum=Sum(F("pk") * F("alert_count") + F("level_id")),
    )
    last = int(facts["last"].timestamp()) if facts["last"] else 0
    return f"{facts['count']}-{last}-{facts['top'] or 0}-{facts['checksum'] or 0}"


def short_age(since: datetime, now: datetime) -> str:
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return _("%(n)d min") % {"n": minutes}
    hours = minutes // 60
    if hours < 48:
        return _("%(n)d h") % {"n": hours}
    return _("%(n)d days") % {"n": hours // 24}


def decorate_rows(incidents: list[Incident]) -> None:
    """Add `province`, `age` and `age_seconds` to the incidents of a board page (one query)."""
    prefixes = set()
    for incident in incidents:
        if incident.area is not None:
            prefixes.update([incident.area.pcode, *incident.area.ancestor_pcodes()])
    provinces = {
        area.pcode: area
        for area in Area.objects.filter(pcode__in=prefixes, level=Area.Level.PROVINCE)
    }
    now = timezone.now()
    for incident in incidents:
        incident.province = None
        if incident.area is not None and incident.area.level != Area.Level.PROVINCE:
            for pcode in incident.area.ancestor_pcodes():
                if pcode in provinces:
                    incident.province = provinces[pcode]
                    break
        incident.age = short_age(incident.first_reported_at, now)
        incident.age_seconds = max(0, int((now - incident.first_reported_at).total_seconds()))


# Detail pages.


def alerts_of(user, incident: Incident) -> QuerySet[Alert]:
    """The incident's alerts the user may see (after a merge some may lie outside scope)."""
    return (
        visible_alerts(user)
        .filter(incident=incident)
        .select_related("area", "contact", "level", "created_by")
        .defer("contact__name", "contact__phone")  # never decrypted for a page
        .order_by("received_at", "pk")
    )


def one_alert(user, reference: str, capability=None) -> QuerySet[Alert]:
    alerts = visible_alerts(user) if capability is None else visible_alerts(user, capability)
    return (
        alerts.filter(reference=reference.upper())
        .select_related("area", "contact", "level", "created_by", "incident", "mission")
        .defer("contact__name", "contact__phone")
    )


def source_label(alert: Alert) -> str:
    """Who sent it, as a screen may say it: a pseudonym, never a name or number."""
    if alert.contact_id:
        return alert.contact.code
    if alert.sender_hash:
        return _("unknown sender #%(hash)s") % {"hash": alert.sender_hash[:6]}
    return ""


def map_point(alerts, area: Area | None) -> tuple[float, float] | None:
    for alert in alerts:
        if alert.latitude is not None and alert.longitude is not None:
            return alert.latitude, alert.longitude
    if area is not None and area.has_point:
        return area.latitude, area.longitude
    return None


EVENT_KINDS = {
    "created": gettext_lazy("Created"),
    "corrected": gettext_lazy("Corrected"),
    "merged_into": gettext_lazy("Merged into another incident"),
    "merged_from": gettext_lazy("Another incident merged in"),
    "split": gettext_lazy("Alerts split off"),
    "split_from": gettext_lazy("Split off from another incident"),
    "alert_moved_out": gettext_lazy("Alert moved to another incident"),
    "routed": gettext_lazy("Routed to the responsible unit"),
    "reassigned": gettext_lazy("Reassigned to another unit"),
}

DETAIL_LABELS = {
    "place": gettext_lazy("place"),
    "threat": gettext_lazy("threat"),
    "level": gettext_lazy("level"),
    "incident": gettext_lazy("incident"),
    "alert": gettext_lazy("alert"),
    "alerts": gettext_lazy("alerts"),
}


def describe_event(event: AlertEvent) -> list[str]:
    """The details of an event as short lines; [old, new] pairs read "old → new"."""
    lines = []
    for key, value in (event.details or {}).items():
        label = DETAIL_LABELS.get(key, key)
        if isinstance(value, list) and len(value) == 2 and key != "alerts":
            old, new = (item if item not in (None, "") else "—" for item in value)
            lines.append(f"{label}: {old} → {new}")
        elif isinstance(value, list):
            lines.append(f"{label}: {', '.join(str(item) for item in value)}")
        else:
            lines.append(f"{label}: {value}")
    return lines


def history(incident: Incident) -> list[AlertEvent]:
    events = list(
        AlertEvent.objects.filter(Q(incident=incident) | Q(alert__incident=incident))
        .select_related("actor", "alert")
        .order_by("at", "pk")
    )
    for event in events:
        event.label = EVENT_KINDS.get(event.kind, event.kind)
        event.lines = describe_event(event)
    return events


def alert_history(alert: Alert) -> list[AlertEvent]:
    events = list(alert.events.select_related("actor").order_by("at", "pk"))
    for event in events:
        event.label = EVENT_KINDS.get(event.kind, event.kind)
        event.lines = describe_event(event)
    return events
