"""Read-side queries for the alert pages: the incident board, its change stamp, detail facts.

Every query starts from the scoped querysets of `kiungo.people.access`; nothing here widens
what a user may see. The board runs a constant number of queries whatever its size.
"""

import zlib
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Case, Count, Exists, F, Max, OuterRef, Q, QuerySet, Sum, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kiungo.alerts.models import Alert, AlertEvent, Incident, Outcome, Response
from kiungo.forces.models import Unit
from kiungo.geography.models import Area
from kiungo.lib.text import fold
from kiungo.messaging.models import OutboundMessage
from kiungo.missions.models import EscalationStep, Mission
from kiungo.people.access import Capability, visible_alerts, visible_incidents
from kiungo.people.models import Role, RoleAssignment

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
    overdue: bool = False,
) -> QuerySet[Incident]:
    """Incidents in the user's scope matching the board's filters (unordered)."""
    incidents = visible_incidents(user)
    if overdue:
        incidents = incidents.filter(overdue_q(timezone.now()))
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


def overdue_q(now: datetime) -> Q:
    """Open incidents past the deadline they must meet next (`Incident.overdue`, in SQL)."""
    return Q(status=Incident.Status.OPEN, responded_at__isnull=True) & (
        Q(acknowledged_at__isnull=True, acknowledge_due_at__lt=now)
        | Q(acknowledged_at__isnull=False, respond_due_at__lt=now)
    )


RESPONSE_NUMBERS = [When(response=value, then=n) for n, value in enumerate(Response.values, 1)]


def board_stamp(incidents: QuerySet[Incident]) -> str:
    """Changes whenever a row of the board would: "<count>-<last report>-<max id>-<digest>".

    The digest folds, in one query: alert counts and levels weighted by id (an alert moving
    between incidents, a level changing), the latest acknowledgement, response, arrival,
    closure, verification and routing (each action sets one of these to "now", so the
    maximum moves), the responses weighted by id (a decided response changing), the
    escalation steps taken, and how many incidents are overdue right now (a deadline passing
    changes the board even when nobody acts).
    """
    facts = incidents.order_by().aggregate(
        count=Count("pk"),
        last=Max("last_reported_at"),
        top=Max("pk"),
        checksum=Sum(F("pk") * F("alert_count") + F("level_id")),
        acknowledged=Max("acknowledged_at"),
        responded=Max("responded_at"),
        arrived=Max("arrived_at"),
        closed=Max("closed_at"),
        verified=Max("verified_at"),
        routed=Max("routed_at"),
        responses=Sum(F("pk") * Case(*RESPONSE_NUMBERS, default=0)),
        escalations=Sum("escalations"),
        overdue=Count("pk", filter=overdue_q(timezone.now())),
    )
    last = int(facts["last"].timestamp()) if facts["last"] else 0
    digest = zlib.crc32(repr(sorted(facts.items())).encode())
    return f"{facts['count']}-{last}-{facts['top'] or 0}-{digest}"


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


# A unit's queue: what its duty officer must do next.

QUEUE_LIMIT = 200  # rows per group; more than this is a crisis better followed on the board


@dataclass
class Queue:
    to_acknowledge: list[Incident]
    to_answer: list[Incident]
    under_way: list[Incident]

    @property
    def empty(self) -> bool:
        return not (self.to_acknowledge or self.to_answer or self.under_way)


def unit_queue(user) -> Queue:
    """The open incidents the user may answer for, by what they await (three queries).

    Ordered by the deadline to meet, earliest first: the overdue ones (deadline past) come
    first by construction.
    """
    incidents = (
        visible_incidents(user, Capability.RESPOND_ALERTS)
        .filter(status=Incident.Status.OPEN)
        .select_related("area", "level", "mission", "unit", "base")
    )
    return Queue(
        to_acknowledge=list(
            incidents.filter(acknowledged_at__isnull=True).order_by(
                F("acknowledge_due_at").asc(nulls_last=True), "level__rank", "pk"
            )[:QUEUE_LIMIT]
        ),
        to_answer=list(
            incidents.filter(acknowledged_at__isnull=False, responded_at__isnull=True).order_by(
                F("respond_due_at").asc(nulls_last=True), "level__rank", "pk"
            )[:QUEUE_LIMIT]
        ),
        # Decided (a patrol, a referral, or no action and why): each still needs closing.
        under_way=list(
            incidents.filter(responded_at__isnull=False).order_by("responded_at", "pk")[
                :QUEUE_LIMIT
            ]
        ),
    )


def acting_unit(user, incident: Incident) -> Unit | None:
    """The unit a duty officer answers for on this incident, for the timeline and the
    accountability figures: their unit, when it is the incident's unit or one above it.
    None otherwise (an early-warning officer, or a unit outside the incident's chain).
    Not a permission check: kiungo.people.access decided that already.
    """
    if incident.unit_id is None:
        return None
    assignment = (
        RoleAssignment.objects.filter(
            user=user,
            role=Role.UNIT_DUTY_OFFICER,
            scope=RoleAssignment.Scope.UNIT,
            mission_id=incident.mission_id,
        )
        .select_related("unit")
        .first()
    )
    if assignment is None:
        return None
    chain = {unit.pk for unit in incident.unit.chain()}
    return assignment.unit if assignment.unit_id in chain else None


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
    "acknowledged": gettext_lazy("Acknowledged"),
    "responded": gettext_lazy("Response decided"),
    "closed": gettext_lazy("Closed"),
    "dismissed": gettext_lazy("Dismissed"),
    "verified": gettext_lazy("Verified"),
    "relevelled": gettext_lazy("Level changed"),
    "escalated": gettext_lazy("Escalated"),
    "contacts_told": gettext_lazy("Sources told that the mission is responding"),
}

CHANNELS = {
    "web": gettext_lazy("web"),
    "api": gettext_lazy("API"),
    "sms": gettext_lazy("SMS"),
    "system": gettext_lazy("system"),
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


def _label(choices, value) -> str:
    """The translated label of a stored choice (the value itself if it is no longer one)."""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _local(value: str | None, zone: ZoneInfo | None) -> str:
    """An ISO time stored in an event's details, as mission-local "YYYY-MM-DD HH:MM"."""
    if not value:
        return "—"
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    return timezone.localtime(when, zone).strftime("%Y-%m-%d %H:%M")


def _by_unit(details: dict) -> list[str]:
    return [_("unit %(unit)s") % {"unit": details["unit"]}] if details.get("unit") else []


def _late(details: dict) -> list[str]:
    return [_("after the deadline")] if details.get("late") else []


def _text(label: str, details: dict, key: str) -> list[str]:
    return [label % {key: details[key]}] if details.get(key) else []


def _describe_response(event: AlertEvent, zone: ZoneInfo | None) -> list[str] | None:
    """Readable lines for the response events (kiungo.alerts.response, escalation); None for
    the other kinds, which keep the generic description."""
    d = event.details or {}
    kind = event.kind
    if kind == "acknowledged":
        return _by_unit(d) + _late(d)
    if kind == "responded":
        lines = [_label(Response, d.get("response", ""))]
        lines += _text(_("reason: %(reason)s"), d, "reason")
        if d.get("acknowledged"):
            lines.append(_("acknowledged at the same time"))
        return lines + _by_unit(d) + _late(d)
    if kind == "closed":
        lines = [_("outcome: %(outcome)s") % {"outcome": _label(Outcome, d.get("outcome", ""))}]
        return lines + _text(_("note: %(note)s"), d, "note") + _by_unit(d)
    if kind == "dismissed":
        return _text(_("reason: %(reason)s"), d, "reason")
    if kind == "verified":
        return _text(_("note: %(note)s"), d, "note")
    if kind == "relevelled":
        return [
            _("level: %(old)s → %(new)s") % {"old": d.get("previous"), "new": d.get("level")},
            *_text(_("reason: %(reason)s"), d, "reason"),
            _("acknowledge by %(time)s") % {"time": _local(d.get("acknowledge_due_at"), zone)},
            _("decide a response by %(time)s") % {"time": _local(d.get("respond_due_at"), zone)},
        ]
    if kind == "escalated":
        if d.get("missed") == "acknowledge":
            missed = _("missed the deadline to acknowledge")
        else:
            missed = _("missed the deadline to decide a response")
        step = _("step %(step)s: %(target)s") % {
            "step": d.get("step"),
            "target": _label(EscalationStep.Target, d.get("target", "")),
        }
        lines = [step + (f" ({d['unit']})" if d.get("unit") else ""), missed]
        if not d.get("phones") and not d.get("officers"):
            lines.append(_("nobody could be reached at this step"))
        else:
            lines.append(
                _("duty phones told: %(phones)s · officers told: %(officers)s")
                % {"phones": d.get("phones", 0), "officers": d.get("officers", 0)}
            )
        return lines
    if kind in ("routed", "reassigned"):
        lines = []
        if kind == "reassigned":
            lines.append(
                _("from %(old)s to %(new)s")
                % {"old": d.get("previous") or "—", "new": d.get("unit") or "—"}
            )
            lines += _text(_("reason: %(reason)s"), d, "reason")
        elif d.get("unit"):
            lines.append(_("unit %(unit)s") % {"unit": d["unit"]})
        else:
            lines.append(_("no unit answers for this place"))
        if d.get("base"):
            lines.append(_("base %(base)s") % {"base": d["base"]})
        if d.get("level"):
            lines.append(_("level: %(level)s") % {"level": d["level"]})
        if d.get("acknowledge_due_at"):
            lines.append(
                _("acknowledge by %(time)s") % {"time": _local(d["acknowledge_due_at"], zone)}
            )
        if d.get("respond_due_at"):
            lines.append(
                _("decide a response by %(time)s") % {"time": _local(d["respond_due_at"], zone)}
            )
        return lines
    if kind == "contacts_told":
        return [_("contacts told: %(count)s") % {"count": d.get("contacts", 0)}]
    return None


def event_actor(event: AlertEvent) -> str:
    """Who acted, as a page may say it: the user's name, or the duty phone's label (never
    its number), or "system"."""
    if event.actor is not None:
        return event.actor.get_full_name() or event.actor.get_username()
    phone = (event.details or {}).get("phone")
    if phone:
        return _("duty phone %(label)s") % {"label": phone}
    return _("system")


def _decorate(events: list[AlertEvent], zone: ZoneInfo | None) -> list[AlertEvent]:
    for event in events:
        event.label = EVENT_KINDS.get(event.kind, event.kind)
        described = _describe_response(event, zone)
        event.lines = describe_event(event) if described is None else described
        event.who = event_actor(event)
        event.through = CHANNELS.get(event.channel, event.channel)
    return events


def history(incident: Incident) -> list[AlertEvent]:
    events = list(
        AlertEvent.objects.filter(Q(incident=incident) | Q(alert__incident=incident))
        .select_related("actor", "alert")
        .order_by("at", "pk")
    )
    return _decorate(events, ZoneInfo(incident.mission.time_zone))


def alert_history(alert: Alert) -> list[AlertEvent]:
    events = list(alert.events.select_related("actor").order_by("at", "pk"))
    return _decorate(events, ZoneInfo(alert.mission.time_zone))


def messages_about(incident: Incident) -> dict:
    """How many SMS and e-mails were written about the incident, and how many failed for good
    (for the officers who watch delivery: a failed SMS to a duty phone needs a phone call)."""
    failed = OutboundMessage.State.FAILED
    return {
        "sms": incident.sms.count(),
        "emails": incident.emails.count(),
        "failed": incident.sms.filter(state=failed).count()
        + incident.emails.filter(state=failed).count(),
    }


def mark_acknowledgeable(user, incidents: list[Incident]) -> None:
    """Set `can_acknowledge` on each row the user may still acknowledge (one query a page),
    so the board offers the button where it can be used."""
    waiting = [
        i.pk for i in incidents if i.status == Incident.Status.OPEN and not i.acknowledged_at
    ]
    allowed = (
        set(
            visible_incidents(user, Capability.RESPOND_ALERTS)
            .filter(pk__in=waiting)
            .values_list("pk", flat=True)
        )
        if waiting
        else set()
    )
    for incident in incidents:
        incident.can_acknowledge = incident.pk in allowed
