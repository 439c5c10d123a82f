"""A live escalation for `make run`: a critical alert whose deadline falls a minute after start.

Each `manage.py demo` makes sure one MONUSCO incident is about to escalate: an urgent SMS from a
key contact, received on the demo console channel through the real intake (`receive_sms`), sent
by the phone about 14 minutes earlier (the SMS's own time stamp), so that the incident, counted
from its first report, must be acknowledged about 75 seconds after the command runs. It is
placed, grouped and routed like any SMS: to the company that holds the place, whose duty phone
is told at once (and the sender gets a receipt). Nobody answers, so once `make run` has
started the worker, the first step escalates it to the battalion (SMS to its duty phone, e-mail
to the `duty` login), 15 minutes later to the sector and the early-warning cell, 30 minutes
after that to force HQ, all readable on the outbox page.

Re-runs: an incident left from an earlier run is never touched (it goes on escalating, or
waits for someone to answer it). A new one is added unless one is already pending: open,
unanswered, no step taken yet, and due to be acknowledged between 30 seconds and 5 minutes from
now (it will escalate shortly after start anyway; a second one would only double the show).
The new alert must open an incident of its own, not corroborate an open one (same place and
threat within six hours), so the messages take turns among several places and threats of the
`duty` login's battalion (TANZBATT: Oicha, Mangina, Butembo, Beni).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DEMO_MISSION = "MONUSCO"
LEAD = timedelta(seconds=75)  # from the command to the deadline to acknowledge
PENDING = (timedelta(seconds=30), timedelta(minutes=5))  # a pending one's deadline, from now
LEVEL = "critical"

# (key contact, text): each is read as critical, at a TANZBATT town, with a distinct threat per
# town (checked by the demo tests).
# fmt: off
MESSAGES = (
    ("NK-OIC-001", "URGENT attaque ADF en cours à Oicha, des coups de feu, venez vite"),
    ("NK-MAN-002", "URGENT Mangina des hommes armés enlèvent des gens au marché, venez vite"),
    ("NK-BUT-002", "URGENT attaque en cours à Butembo, maisons brûlées, venez vite"),
    ("NK-BEN-002", "URGENT Beni enlèvement de cultivateurs par des hommes armés, venez vite"),
    ("NK-OIC-002", "URGENT Oicha des hommes armés ont enlevé des enfants, venez vite"),
    ("NK-MAN-001", "HATARI haraka Mangina ADF wameshambulia kijiji, njooni upesi"),
    ("NK-BEN-001", "URGENT attaque des ADF à Beni, des maisons brûlent, venez vite"),
    ("NK-BUT-001", "URGENT Butembo des hommes armés enlèvent des commerçants, venez vite"),
)
# fmt: on


@dataclass
class Live:
    incident: object | None = None  # the one pending, new or from an earlier run
    created: bool = False
    problem: str = ""


def pending(mission, now: datetime):
    """The incident already set to escalate soon, if any (see the module docstring)."""
    from kiungo.alerts.models import Incident

    return (
        Incident.objects.filter(
            mission=mission,
            status=Incident.Status.OPEN,
            level__code=LEVEL,
            acknowledged_at__isnull=True,
            responded_at__isnull=True,
            escalations=0,
            acknowledge_due_at__gt=now + PENDING[0],
            acknowledge_due_at__lte=now + PENDING[1],
        )
        .select_related("area", "unit", "level")
        .order_by("acknowledge_due_at")
        .first()
    )


def ensure(now: datetime | None = None) -> Live:
    """Add the live incident unless one is pending. Never raises for a demo problem: says it."""
    from django.utils import timezone

    from kiungo.alerts.intake import IncomingSMS, prepare_alert, receive_sms
    from kiungo.alerts.models import CORROBORATION_WINDOW, Alert, Incident
    from kiungo.demo import channels
    from kiungo.messaging.models import Channel
    from kiungo.missions.models import Mission
    from kiungo.network.models import Contact

    now = now or timezone.now()
    mission = Mission.objects.filter(code=DEMO_MISSION).first()
    if mission is None:
        return Live(problem="MONUSCO is not loaded")
    found = pending(mission, now)
    if found is not None:
        return Live(incident=found)
    level = mission.levels.filter(code=LEVEL).first()
    channel = Channel.objects.filter(uuid=channels.channel_uuid("console")).first()
    if level is None or channel is None:
        return Live(problem="no critical level or no demo console channel")
    sent_at = now - max(level.acknowledge_within - LEAD, timedelta(0))

    contacts = {
        contact.code: contact
        for contact in Contact.objects.filter(
            mission=mission, code__in=[code for code, _text in MESSAGES]
        )
    }
    for code, text in MESSAGES:
        contact = contacts.get(code)
        if contact is None or not contact.phone:
            continue
        # Would it open an incident of its own? (read-only: the intake decides for real)
        alert = prepare_alert(
            mission=mission,
            text=text,
            source=Alert.Source.SMS,
            received_at=now,
            occurred_at=sent_at,
            contact=contact,
        )
        if alert.area_id is None or alert.level.code != LEVEL:
            continue
        if Incident.objects.filter(
            mission=mission,
            status=Incident.Status.OPEN,
            area_id=alert.area_id,
            threat=alert.threat,
            last_reported_at__gte=sent_at - CORROBORATION_WINDOW,
        ).exists():
            continue  # it would corroborate that one (kiungo.alerts.incidents)
        sms = IncomingSMS(
            sender=contact.phone,
            text=text,
            external_id=f"kiungo-demo-live-{now:%Y%m%dT%H%M%S.%f}",
            sent_at=sent_at,
        )
        message, _created = receive_sms(channel, sms)
        made = Alert.objects.filter(inbound=message).select_related("incident").first()
        incident = made.incident if made is not None else None
        if incident is None:
            return Live(problem=f"the SMS was stored but made no incident ({message.error})")
        incident = Incident.objects.select_related("area", "unit", "level").get(pk=incident.pk)
        return Live(incident=incident, created=True)
    return Live(
        problem="every demo place already has an open incident of the same kind; answer or "
        "close one (or wait six hours)"
    )


def format_live(live: Live, now: datetime | None = None) -> list[str]:
    from django.utils import timezone

    from kiungo.alerts.notify import local_time

    if live.incident is None:
        return [f"No live escalation this time: {live.problem}."] if live.problem else []
    incident = live.incident
    now = now or timezone.now()
    seconds = max(0, round((incident.acknowledge_due_at - now).total_seconds()))
    battalion = incident.unit.parent.code.upper() if incident.unit and incident.unit.parent else "-"
    place = incident.area.name if incident.area else "?"
    due = local_time(incident.mission, incident.acknowledge_due_at)
    return [
        f"Live escalation {'added' if live.created else 'already pending'}: incident "
        f"{incident.reference} ({incident.level.name} {incident.threat}, {place}, unit "
        f"{incident.unit.code if incident.unit else '-'}) must be acknowledged by {due} "
        f"mission time (in {seconds} s); then the worker escalates it to {battalion}. Watch "
        f"/incidents/{incident.reference}/ and /outbox/."
    ]
