"""Thirty days of MONUSCO incidents and how the units answered them, for the board, the incident
pages and the accountability figures.

About 200 incidents (the count and everything else derive from the seed), first reported over
the 30 days before the first `manage.py demo` that creates them, mostly in North Kivu, Ituri and
South Kivu. Each has the alerts behind it (SMS from key contacts and unknown senders through the
demo gateways, calls logged by the base's CLAs) and the timeline a real run would have written:
"routed"; "escalated" steps for each deadline missed (the details `take_step` writes, the
steps and delays of the mission's own policy); "acknowledged", "responded" (patrol sent, on
site, referred, no action with a reason) and "contacts_told"; "verified" by the early-warning
officer; then "closed" with an outcome or "dismissed" with a reason. Answers come from the
units' duty phones (an SMS reply code, kept as an inbound SMS, channel "sms") or from the demo
logins on the web. Each battalion gets its own reliability, so the accountability figures differ
between units and contingents: most incidents are acknowledged in time, some late, some never.

Nothing of the history may escalate any more: a closed or dismissed incident has no next
escalation, an open one either has a response decided (nothing pending) or is old enough to
have taken every step of its level. No SMS or e-mail is queued: the outbox shows only what
happens live.

Rows are written directly (bulk inserts, about half a second), not through the services: these
would queue hundreds of notifications and stamp everything with the current time. Idempotent:
the incidents take their references from a fixed, seed-independent list, and the history is
created only while none of the first of those references exists.
"""

from __future__ import annotations

import bisect
import itertools
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kiungo.lib.references import ALPHABET

DEMO_MISSION = "MONUSCO"
DAYS = 30
INCIDENTS = (180, 240)
REFERENCE_NAMESPACE = "kiungo-demo-history"
MARKERS = 20  # the first references of the list: one of them present = history loaded

# Where incidents happen: weight of a province (by name), the rest of the mission gets OTHER.
PROVINCE_WEIGHTS = {"Nord-Kivu": 10.0, "Ituri": 6.0, "Sud-Kivu": 4.0, "Tanganyika": 1.5}
OTHER_PROVINCE = 0.3
BASE_TOWN_WEIGHT = 3.0  # a base's own town, against 1 for a neighbouring town it answers for
HOTSPOT = ("tanzbatt", 1.6)  # Beni territory (ADF): the `duty` login's battalion
RELIABILITY = (0.55, 0.93)  # per battalion: chance to acknowledge, and to decide, in time

# By rank of level (1 = most severe): share of incidents, then the threats at that level.
LEVEL_SHARES = (0.18, 0.42, 0.28, 0.12)
THREATS_BY_RANK = (
    {"attack": 0.5, "clash": 0.25, "abduction": 0.2, "sexual_violence": 0.05},
    {
        "attack": 0.3,
        "clash": 0.2,
        "abduction": 0.18,
        "sexual_violence": 0.1,
        "explosion": 0.05,
        "looting": 0.17,
    },
    {"looting": 0.35, "displacement": 0.3, "threat": 0.35},
    {"threat": 0.6, "displacement": 0.25, "other": 0.15},
)
RESPONSES = {"patrol_sent": 0.58, "referred": 0.22, "no_action": 0.2}
OUTCOMES = {
    "arrived": {
        "deterred": 0.4,
        "clashed": 0.13,
        "nothing_found": 0.27,
        "false_alarm": 0.1,
        "too_late": 0.07,
        "other": 0.03,
    },
    "patrol_sent": {"too_late": 0.4, "nothing_found": 0.3, "deterred": 0.2, "other": 0.1},
    "referred": {"referred": 0.8, "other": 0.1, "nothing_found": 0.1},
    "no_action": {"other": 0.4, "false_alarm": 0.3, "referred": 0.3},
    "": {"too_late": 0.45, "nothing_found": 0.3, "other": 0.25},  # never answered
}

# fmt: off
# Alert texts by language and threat ({place}: the place as people name it). A critical alert
# starts with the language's urgency word. Each is read by the real parser as its threat
# (checked by the demo tests).
TEXTS = {
    "fr": {
        "attack": ("ALERTE {place} attaque d'hommes armés, maisons brûlées et des blessés",
                   "ALERTE {place} attaque ADF cette nuit, plusieurs tués",
                   "{place}: des hommes armés attaquent le village, on entend crier"),
        "clash": ("ALERTE {place} combats entre FARDC et miliciens depuis ce matin",
                  "ALERTE {place} accrochage avec des miliciens près du marché"),
        "abduction": ("ALERTE {place} enlèvement de trois personnes aux champs",
                      "ALERTE {place} des hommes armés ont enlevé des enfants sur la route"),
        "sexual_violence": ("ALERTE {place} viol de deux femmes aux champs par des hommes armés",),
        "explosion": ("ALERTE {place} explosion sur la route principale, engin explosif",),
        "looting": ("ALERTE {place} pillage du marché par des hommes armés",
                    "ALERTE {place} pillage de bétail et de récoltes cette nuit"),
        "displacement": ("ALERTE {place} les gens fuient les villages, beaucoup de déplacés",),
        "threat": ("ALERTE {place} menaces d'une milice contre le village, les gens ont peur",
                   "ALERTE {place} rumeur d'attaque cette nuit, menace contre la population"),
        "other": ("ALERTE {place} situation tendue, des inconnus rôdent autour des écoles",),
    },
    "sw": {
        "attack": ("HATARI {place} shambulio la watu wenye silaha, nyumba zimechomwa",
                   "HATARI {place} ADF wameshambulia usiku, watu wameuawa"),
        "clash": ("HATARI {place} mapigano kati ya FARDC na wanamgambo",),
        "abduction": ("HATARI {place} utekaji nyara wa watu watatu shambani",),
        "sexual_violence": ("HATARI {place} ubakaji wa wanawake shambani",),
        "explosion": ("HATARI {place} mlipuko barabarani asubuhi",),
        "looting": ("HATARI {place} uporaji sokoni na watu wenye silaha",),
        "displacement": ("HATARI {place} wakimbizi wengi wanakuja kutoka vijiji",),
        "threat": ("HATARI {place} vitisho vya wanamgambo, watu wanaogopa",),
        "other": ("HATARI {place} hali ni mbaya, watu wasiojulikana wanazunguka",),
    },
    # Logged by a CLA from a call or a visit (French, free text).
    "cla": {
        "attack": ("Appel du chef de quartier: attaque d'hommes armés à {place}, deux blessés",),
        "clash": ("Le chef de village signale des combats près de {place}",),
        "abduction": ("Appel: enlèvement de deux cultivateurs près de {place}",),
        "sexual_violence": ("Une ONG signale des viols à {place} (victimes prises en charge)",),
        "explosion": ("Appel: explosion près de {place}, un engin sur la route",),
        "looting": ("Le chef de localité signale un pillage à {place} cette nuit",),
        "displacement": ("Visite: des familles fuient vers {place}, déplacés à l'école",),
        "threat": ("Appel: menaces d'une milice contre les habitants de {place}",),
        "other": ("Appel: situation tendue à {place}, demande de passage d'une patrouille",),
    },
}
URGENT = {"fr": "URGENT ", "sw": "HARAKA ", "cla": "URGENT ", "en": "URGENT "}
KEYWORDS = {"fr": "ALERTE", "sw": "HATARI"}

# Reply codes from a duty phone (kiungo.alerts.replies), in English and French.
REPLY_WORDS = {
    "en": {"acknowledge": ("OK", "ACK"), "patrol_sent": ("PATROL",), "arrived": ("ARRIVED",),
           "referred": ("REFER",), "no_action": ("NOACTION",), "close": ("CLOSE",)},
    "fr": {"acknowledge": ("OK", "RECU"), "patrol_sent": ("PATROUILLE",),
           "arrived": ("SURPLACE", "ARRIVE"), "referred": ("TRANSMIS", "REFERE"),
           "no_action": ("AUCUNE",), "close": ("CLOS", "FIN")},
}
OUTCOME_WORDS = {
    "en": {"deterred": "DETERRED", "clashed": "CLASH", "referred": "REFERRED",
           "nothing_found": "NOTHING", "false_alarm": "FALSE", "too_late": "LATE",
           "other": "OTHER"},
    "fr": {"deterred": "DISSUADE", "clashed": "ACCROCHAGE", "referred": "REFERE",
           "nothing_found": "RIEN", "false_alarm": "FAUX", "too_late": "TARD", "other": "AUTRE"},
}
NO_ACTION_REASONS = {
    "en": ("road cut by the river, no access before morning",
           "FARDC already on site and in control",
           "no troops available, all patrols already out",
           "bridge down, area unreachable at night"),
    "fr": ("route coupée par la rivière, pas d'accès avant demain",
           "FARDC déjà sur place",
           "aucune troupe disponible, patrouilles déjà dehors",
           "pont détruit, zone inaccessible la nuit"),
}
CLOSE_NOTES = {
    "deterred": ("Patrol stayed overnight, population reassured.",
                 "Attackers withdrew on the patrol's arrival."),
    "clashed": ("Exchange of fire, attackers withdrew towards the forest.",),
    "referred": ("FARDC took over; MONUSCO informed of the result.",),
    "nothing_found": ("Nothing seen on site; CLA to follow up with the chief.",),
    "false_alarm": ("Misunderstanding between two families, no armed men.",),
    "too_late": ("Patrol arrived after the attackers had left.",
                 "No answer from the unit in time; the village was already looted."),
    "other": ("Handled by the local authorities.",),
}
VERIFY_NOTES = ("Confirmed by the CLA at the base.", "Two independent sources.",
                "Confirmed by the chief of the locality by phone.")
DISMISS_REASONS = ("Rumour not confirmed by the CLA network.",
                   "Duplicate of an incident already reported.",
                   "Land dispute between families, not a protection threat.",
                   "The sender called back: a misunderstanding.")
# fmt: on


@dataclass
class Summary:
    incidents: int = 0
    alerts: int = 0
    events: int = 0
    open: int = 0
    seconds: float = 0.0
    already: bool = False


def references(prefix: str, count: int) -> list[str]:
    """The first `count` references of the fixed list for `prefix` (same in every database)."""
    rng = random.Random(f"{REFERENCE_NAMESPACE}:{prefix}")
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen.setdefault(prefix + "".join(rng.choice(ALPHABET) for _ in range(6)))
    return list(seen)


def is_loaded() -> bool:
    from kiungo.alerts.models import Incident

    return Incident.objects.filter(reference__in=references("K", MARKERS)).exists()


def ensure(seed: int, now: datetime | None = None) -> Summary:
    """Create the history unless it is there (one transaction). Returns what was done."""
    from django.db import transaction
    from django.utils import timezone

    from kiungo.missions.models import Mission

    started = time.monotonic()
    if is_loaded():
        return Summary(already=True)
    mission = Mission.objects.filter(code=DEMO_MISSION).first()
    if mission is None:
        return Summary()
    with transaction.atomic():
        summary = _Builder(seed, mission, now or timezone.now()).run()
    summary.seconds = time.monotonic() - started
    return summary


def format_summary(summary: Summary) -> list[str]:
    if summary.already:
        return []
    if not summary.incidents:
        return ["Demo history not created: MONUSCO has no open base or alert levels."]
    return [
        f"Demo history: {summary.incidents} MONUSCO incidents over the past {DAYS} days "
        f"({summary.open} still open), {summary.alerts} alerts, {summary.events} timeline "
        f"events, in {summary.seconds:.1f} s."
    ]


# --- What the history is made of ---------------------------------------------------------------


@dataclass
class _Place:
    area_id: int
    pcode: str
    name: str  # as people write it (a base's name when the town is known by it)
    base: object  # forces.Base
    weight: float
    contacts: list = field(default_factory=list)
    clas: list = field(default_factory=list)  # user ids of the CLAs at the base


@dataclass
class _Phone:
    number: str
    label: str  # as reply codes record it: "<unit code> <phone label>"
    unit: object


@dataclass
class _Actor:
    """Who answers: a login on the web (or the API), or a duty phone by SMS reply code."""

    channel: str
    user: object | None = None
    unit: object | None = None
    phone: _Phone | None = None
    language: str = "en"

    def details(self, reply) -> dict:
        details = {}
        if reply is not None:
            details["inbound"] = reply
        if self.unit is not None:
            details["unit"] = self.unit.code
        if self.phone is not None:
            details["phone"] = self.phone.label
        return details


@dataclass
class _Event:
    kind: str
    at: datetime
    actor: _Actor | None = None
    details: dict = field(default_factory=dict)
    reply: object | None = None  # the InboundMessage carrying an SMS reply code


def _weighted(rng: random.Random, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[key] for key in keys])[0]


def _between(rng: random.Random, low: timedelta, high: timedelta) -> timedelta:
    if high <= low:
        return low
    return timedelta(seconds=rng.uniform(low.total_seconds(), high.total_seconds()))


def _minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


class _Builder:
    def __init__(self, seed: int, mission, now: datetime):
        self.seed = seed
        self.mission = mission
        self.now = now
        self.incident_refs = self._free("K", INCIDENTS[1])
        self.alert_refs = self._free("A", INCIDENTS[1] * 5)

    @staticmethod
    def _free(prefix: str, count: int):
        """The fixed references, less any a real incident or alert happened to draw."""
        from kiungo.alerts.models import Alert, Incident

        model = Incident if prefix == "K" else Alert
        pool = references(prefix, count)
        taken = set(model.objects.filter(reference__in=pool).values_list("reference", flat=True))
        return iter([reference for reference in pool if reference not in taken])

    def rng(self, *purpose) -> random.Random:
        return random.Random(":".join(str(part) for part in (self.seed, "history", *purpose)))

    # The world as it is in the database --------------------------------------------------------

    def _load(self) -> bool:
        from kiungo.alerts import notify
        from kiungo.demo import channels as demo_channels
        from kiungo.forces.models import Base, DutyPhone, ResponsibilityArea
        from kiungo.geography.models import Area
        from kiungo.messaging.models import Channel
        from kiungo.messaging.outbox import notification_channel
        from kiungo.network.models import Contact
        from kiungo.people.models import CLAProfile, Role, RoleAssignment, User

        mission = self.mission
        self.levels = sorted(
            mission.levels.prefetch_related("steps"), key=lambda level: level.rank
        )[: len(LEVEL_SHARES)]
        bases = {
            base.pk: base
            for base in Base.objects.filter(mission=mission, closed_on__isnull=True).select_related(
                "unit__parent__parent__parent", "locality"
            )
        }
        if not bases or not self.levels:
            return False
        held = {
            pcode: bases[base_id]
            for base_id, pcode in ResponsibilityArea.objects.filter(
                base_id__in=list(bases)
            ).values_list("base_id", "area__pcode")
        }
        provinces = dict(
            Area.objects.filter(mission=mission, level=Area.Level.PROVINCE).values_list(
                "pcode", "name"
            )
        )
        towns = Area.objects.filter(
            mission=mission, level=Area.Level.LOCALITY, source=Area.Source.GEONAMES
        ).order_by("pcode")
        contacts = defaultdict(list)
        for contact in Contact.objects.filter(
            mission=mission, active=True, home_locality__isnull=False
        ).order_by("code"):
            contacts[contact.home_locality_id].append(contact)
        clas = defaultdict(list)
        for base_id, user_id in (
            CLAProfile.objects.filter(base_id__in=list(bases), user__is_active=True)
            .order_by("staff_id")
            .values_list("base_id", "user_id")
        ):
            clas[base_id].append(user_id)

        self.places = []
        for area_id, pcode, name in towns.values_list("id", "pcode", "name"):
            base = next(
                (held[pcode[:end]] for end in range(len(pcode), 3, -1) if pcode[:end] in held),
                None,
            )
            if base is None:
                continue
            own = base.locality_id == area_id
            weight = PROVINCE_WEIGHTS.get(provinces.get(pcode[:4], ""), OTHER_PROVINCE)
            weight *= BASE_TOWN_WEIGHT if own else 1.0
            if base.unit.parent and base.unit.parent.code == HOTSPOT[0]:
                weight *= HOTSPOT[1]
            self.places.append(
                _Place(
                    area_id=area_id,
                    pcode=pcode,
                    name=base.name if own else name,
                    base=base,
                    weight=weight,
                    contacts=contacts.get(area_id, []),
                    clas=clas.get(base.pk, []),
                )
            )
        if not self.places:
            return False
        self.cumulative = list(itertools.accumulate(place.weight for place in self.places))

        self.phones = {}
        for phone in DutyPhone.objects.filter(unit__mission=mission, active=True).select_related(
            "unit"
        ):
            self.phones.setdefault(
                phone.unit_id,
                _Phone(phone.number, f"{phone.unit.code} {phone.label}".strip(), phone.unit),
            )
        self.unit_reach = {}  # unit id -> (phones, officers), as notify.unit_recipients counts

        def reach(unit):
            if unit.pk not in self.unit_reach:
                found = notify.unit_recipients(unit)
                self.unit_reach[unit.pk] = (len(found.phones), len(found.officers))
            return self.unit_reach[unit.pk]

        self.reach = reach
        self.ewc_reach = {}  # area pcode -> officers

        self.ewo = User.objects.filter(username="ewo", is_active=True).first()
        self.officers = {}  # unit id -> a duty-officer login of that unit (the demo's)
        for assignment in RoleAssignment.objects.filter(
            mission=mission, role=Role.UNIT_DUTY_OFFICER, user__is_active=True, unit__isnull=False
        ).select_related("user", "unit"):
            self.officers.setdefault(assignment.unit_id, (assignment.user, assignment.unit))

        found = {
            channel.kind: channel
            for channel in Channel.objects.filter(
                mission=mission,
                uuid__in=[demo_channels.channel_uuid(kind) for kind in demo_channels.KINDS],
            )
        }
        self.sms_channels = [found[kind] for kind in ("twilio", "africastalking") if kind in found]
        self.relay = found.get("smssync")  # the Beni base's relay phone
        self.replies_to = notification_channel(mission.pk)
        return True

    def _ewc_officers(self, place: _Place) -> int:
        from types import SimpleNamespace

        from kiungo.alerts import notify

        if place.pcode not in self.ewc_reach:
            probe = SimpleNamespace(
                mission_id=self.mission.pk,
                area_id=place.area_id,
                area=SimpleNamespace(pcode=place.pcode),
            )
            self.ewc_reach[place.pcode] = len(notify.early_warning_cell(probe).officers)
        return self.ewc_reach[place.pcode]

    # Building ------------------------------------------------------------------------------------

    def run(self) -> Summary:
        summary = Summary()
        if not self._load():
            return summary
        count = self.rng("count").randint(*INCIDENTS)
        self.reliability = {}
        plans = [self._plan(index) for index in range(count)]
        self._save(plans)
        summary.incidents = len(plans)
        summary.alerts = sum(len(plan["alerts"]) for plan in plans)
        summary.events = sum(len(plan["events"]) for plan in plans)
        summary.open = sum(1 for plan in plans if plan["incident"].status == "open")
        return summary

    def _place(self, rng: random.Random) -> _Place:
        point = rng.uniform(0, self.cumulative[-1])
        return self.places[min(bisect.bisect_left(self.cumulative, point), len(self.places) - 1)]

    def _reliability(self, battalion) -> float:
        code = battalion.code if battalion else ""
        if code not in self.reliability:
            self.reliability[code] = self.rng("reliability", code).uniform(*RELIABILITY)
        return self.reliability[code]

    def _plan(self, index: int) -> dict:
        """One incident: its alerts and its timeline, in offsets from its first report, then
        placed in time so that everything it did is over by now."""
        from kiungo.alerts.models import Incident

        rng = self.rng("incident", index)
        place = self._place(rng)
        company = place.base.unit
        battalion = company.parent
        rank = min(
            rng.choices(range(len(self.levels)), weights=LEVEL_SHARES[: len(self.levels)])[0],
            len(THREATS_BY_RANK) - 1,
        )
        level = self.levels[rank]
        steps = sorted(level.steps.all(), key=lambda step: step.position)
        threat = _weighted(rng, THREATS_BY_RANK[rank])
        ack_within, respond_within = level.acknowledge_within, level.respond_within
        reliable = self._reliability(battalion)

        # The first alert, and when the incident was routed (at its intake).
        first_source = self._source(rng, place)
        routed = self._delay(rng, first_source)

        # The unit's answer.
        draw = rng.random()
        if draw < reliable:
            mode = "on_time"
        elif draw < reliable + (1 - reliable) * 0.5:
            mode = "late"
        elif draw < reliable + (1 - reliable) * 0.7:
            mode = "with_response"
        else:
            mode = "never"
        dismiss = rng.random() < (0.25 if threat in ("threat", "other") else 0.03)

        acknowledged = responded = arrived = None
        if mode == "on_time" and ack_within > routed + _minutes(1):
            acknowledged = routed + (ack_within - routed) * rng.uniform(0.1, 0.95)
        elif mode in ("on_time", "late"):
            acknowledged = max(ack_within, routed) + ack_within * min(rng.expovariate(1.6), 3.0)
            acknowledged += timedelta(seconds=rng.uniform(10, 60))
        if mode != "never":
            begin = acknowledged or routed
            if rng.random() < reliable and begin < respond_within - _minutes(2):
                responded = begin + (respond_within - begin) * rng.uniform(0.1, 0.9)
            else:
                responded = max(begin, respond_within) + respond_within * rng.uniform(0.05, 0.8)
            if mode == "with_response":
                acknowledged = responded
        action = _weighted(rng, RESPONSES) if responded is not None else ""
        if action == "patrol_sent" and rng.random() < 0.75:
            arrived = responded + _between(rng, _minutes(20), _minutes(150))

        # How it ends: dismissed, closed, or still open (recent with a response, or never
        # answered and past every step).
        ended = outcome = None
        stays_open = False
        if dismiss:
            ended = routed + _between(rng, _minutes(20), _minutes(600))
            acknowledged = acknowledged if acknowledged and acknowledged < ended else None
            responded = responded if responded and responded < ended else None
            arrived = arrived if arrived and arrived < ended else None
            action = action if responded else ""
            if responded and acknowledged is None:
                acknowledged = responded
        elif responded is not None:
            stays_open = rng.random() < 0.1
            if not stays_open:
                ended = (arrived or responded) + _between(rng, _minutes(40), _minutes(30 * 60))
                outcome = _weighted(rng, OUTCOMES["arrived" if arrived else action])
        else:
            stays_open = rng.random() < 0.3
            if not stays_open:
                ended = ack_within + _between(rng, _minutes(30), _minutes(36 * 60))
                outcome = _weighted(rng, OUTCOMES[""])

        verified = None
        if not dismiss and rng.random() < 0.4:
            verified = routed + _between(rng, _minutes(10), _minutes(240))
            if ended is not None and verified >= ended:
                verified = None

        escalations = self._escalations(
            rng, steps, (ack_within, respond_within), routed, acknowledged, responded, ended
        )

        # Corroborating alerts, while the incident is open.
        sources = [first_source]
        extra = rng.choices((0, 1, 2, 3), weights=(55, 25, 12, 8))[0]
        # (received before it ends: a later one would open an incident of its own)
        last_alert = min(_minutes(180), (ended or _minutes(200)) - _minutes(12))
        occurred = [timedelta(0)]
        for _number in range(extra):
            if last_alert <= _minutes(4):
                break
            occurred.append(_between(rng, _minutes(3), last_alert))
            same = rng.random() < 0.15
            sources.append(sources[0] if same else self._source(rng, place))
        occurred.sort()

        # The latest thing that happened, and so how long ago the incident can have started.
        times = [routed, *(at + _minutes(10) for at in occurred)]
        times += [at for _step, at, *_rest in escalations]
        times += [t for t in (acknowledged, responded, arrived, ended, verified) if t is not None]
        latest = max(times)
        if stays_open and responded is not None:
            age = latest + _between(rng, _minutes(10), _minutes(30 * 60))
        elif stays_open:
            age = _between(rng, max(latest + _minutes(60), timedelta(days=2)), timedelta(days=DAYS))
        else:
            age = _between(rng, latest + _minutes(5), timedelta(days=DAYS))
        age = min(max(age, latest + _minutes(5)), timedelta(days=DAYS + 5))
        start = self.now - age

        incident = Incident(
            mission=self.mission,
            reference=next(self.incident_refs),
            area_id=place.area_id,
            threat=threat,
            level=level,
            first_reported_at=start,
            last_reported_at=start + occurred[-1],
            alert_count=len(sources),
            source_count=len({self._source_key(source) for source in sources}),
            unit=company,
            base=place.base,
            routed_at=start + routed,
            acknowledge_due_at=start + ack_within,
            respond_due_at=start + respond_within,
            verified_at=start + verified if verified is not None else None,
            acknowledged_at=start + acknowledged if acknowledged is not None else None,
            response=action if not arrived else "arrived",
            responded_at=start + responded if responded is not None else None,
            arrived_at=start + arrived if arrived is not None else None,
            outcome=outcome or "",
            closed_at=start + ended if ended is not None else None,
            escalations=len(escalations),
            next_escalation_at=None,
        )
        if dismiss:
            incident.status = Incident.Status.DISMISSED
        elif ended is not None:
            incident.status = Incident.Status.CLOSED
        else:
            incident.status = Incident.Status.OPEN
        self._check(incident, steps)

        alerts = [
            self._alert(
                rng,
                incident,
                place,
                source,
                start + at,
                start + at + (routed if number == 0 else self._delay(rng, source)),
            )
            for number, (source, at) in enumerate(zip(sources, occurred, strict=True))
        ]
        events = self._timeline(
            rng,
            incident,
            place,
            steps,
            escalations,
            acknowledged_mode=mode,
            alerts=alerts,
        )
        return {"incident": incident, "alerts": alerts, "events": events}

    def _escalations(self, rng, steps, deadlines, routed, acknowledged, responded, ended):
        """The steps `escalate_due` would have taken: (step index, taken at, deadline, missed,
        due at), in offsets. Mirrors kiungo.alerts.escalation: the next untaken step counts
        from the deadline pending at the time (acknowledge, then respond) and falls due at
        that deadline plus the step's delay (at once if that is already past); a response, a
        closure or a dismissal stops it; the worker takes a step within a second or two, and
        steps due at the same time in the same pass."""
        ack_within, respond_within = deadlines
        taken, result = 0, []
        stop = min((t for t in (responded, ended) if t is not None), default=None)
        while taken < len(steps):
            after = steps[taken].after
            lag = timedelta(seconds=rng.uniform(0.3, 1.5))
            due = ack_within + after
            at = max(due, routed) + lag
            if acknowledged is not None and acknowledged <= at:
                deadline, missed, due = respond_within, "respond", respond_within + after
                at = max(due, acknowledged) + lag
            else:
                deadline, missed = ack_within, "acknowledge"
            if result and result[-1][4] == due and result[-1][3] == missed:
                at = result[-1][1]  # due together: taken in the same pass
            if stop is not None and stop <= at:
                break
            result.append((taken, at, deadline, missed, due))
            taken += 1
        return result

    def _check(self, incident, steps) -> None:
        """Nothing of the history escalates any more (see the module docstring)."""
        pending = incident.pending_deadline
        if pending is not None and incident.escalations < len(steps):
            raise AssertionError(f"history incident {incident.reference} would still escalate")

    # Alerts ----------------------------------------------------------------------------------

    def _source(self, rng: random.Random, place: _Place) -> tuple:
        """("contact", contact) | ("sms", number) | ("cla", user id)."""
        draw = rng.random()
        if place.contacts and draw < 0.55:
            return ("contact", rng.choice(place.contacts))
        if place.clas and draw > 0.7:
            return ("cla", rng.choice(place.clas))
        return ("sms", f"+24399200{rng.randint(0, 9999):04d}")

    @staticmethod
    def _source_key(source: tuple) -> str:
        kind, value = source
        return f"{kind}:{value.pk if kind == 'contact' else value}"

    @staticmethod
    def _delay(rng: random.Random, source: tuple) -> timedelta:
        """From the event to its intake: an SMS takes seconds, a CLA logs a call in minutes."""
        if source[0] == "cla":
            return _between(rng, _minutes(2), _minutes(10))
        return _between(rng, timedelta(seconds=5), _minutes(3))

    def _alert(self, rng, incident, place, source, occurred_at, received_at):
        from kiungo.alerts.models import Alert
        from kiungo.lib.crypto import keyed_hash
        from kiungo.messaging.models import InboundMessage

        kind, value = source
        threat, level = incident.threat, incident.level
        critical = level.rank == 1
        alert = Alert(
            mission=self.mission,
            reference=next(self.alert_refs),
            threat=threat,
            level=level,
            area_id=place.area_id,
            place_text=place.name,
            place_method=Alert.PlaceMethod.NAME,
            place_confidence=1.0,
            occurred_at=occurred_at,
            received_at=received_at,
            incident=incident,
        )
        if kind == "cla":
            text = rng.choice(TEXTS["cla"][threat]).format(place=place.name)
            alert.text = (URGENT["cla"] + text) if critical else text
            alert.source = rng.choice(
                (Alert.Source.CALL, Alert.Source.CALL, Alert.Source.IN_PERSON)
            )
            alert.created_by_id = value
            alert.language = "fr"
            alert.inbound_message = None
            return alert
        language = value.language if kind == "contact" and value.language in TEXTS else "fr"
        if kind == "sms" and rng.random() < 0.4:
            language = "sw"
        text = rng.choice(TEXTS[language][threat]).format(place=place.name)
        alert.text = (URGENT[language] + text) if critical else text
        alert.source = Alert.Source.SMS
        alert.language = language
        alert.keyword = KEYWORDS[language] if KEYWORDS[language] in alert.text.split()[:2] else ""
        alert.structured = bool(alert.keyword)
        if kind == "contact":
            alert.contact = value
            alert.sender_hash = value.phone_hash
            number = value.phone
        else:
            alert.sender_hash = keyed_hash(value)
            number = value
        channels = list(self.sms_channels)
        if self.relay is not None and place.base.code == "beni":
            channels.append(self.relay)
        if not channels:
            alert.inbound_message = None
            return alert
        alert.inbound_message = InboundMessage(
            channel=rng.choice(channels),
            external_id=f"{REFERENCE_NAMESPACE}-{alert.reference}",
            sender=number,
            sender_hash=alert.sender_hash,
            text=alert.text,
            received_at=alert.received_at,
            sent_at=occurred_at,
            state=InboundMessage.State.PROCESSED,
        )
        return alert

    # Timeline --------------------------------------------------------------------------------

    def _officer(self, incident) -> tuple | None:
        """A demo login (user, unit) answering on the web for the incident's company or its
        battalion, if there is one (the `duty` login for TANZBATT)."""
        for unit in incident.unit.chain():
            if unit.kind >= 3 and unit.pk in self.officers:
                return self.officers[unit.pk]
        return None

    def _answerer(self, rng, incident, escalated_to_battalion: bool) -> _Actor:
        company = incident.unit
        battalion = company.parent
        language = "fr" if company.contingent == "MA" or rng.random() < 0.2 else "en"
        officer = self._officer(incident)
        if officer is not None and rng.random() < 0.4:
            user, unit = officer
            return _Actor("api" if rng.random() < 0.15 else "web", user=user, unit=unit)
        if escalated_to_battalion and battalion is not None and rng.random() < 0.5:
            phone = self.phones.get(battalion.pk)
            if phone is not None:
                return _Actor("sms", unit=battalion, phone=phone, language=language)
        phone = self.phones.get(company.pk)
        if phone is not None:
            return _Actor("sms", unit=company, phone=phone, language=language)
        return _Actor("web", user=self.ewo)

    def _reply(self, rng, actor: _Actor, incident, at: datetime, text: str):
        """The SMS that carried a reply code, as the intake stores it."""
        from kiungo.lib.crypto import keyed_hash
        from kiungo.messaging.models import InboundMessage

        if actor.channel != "sms" or self.replies_to is None:
            return None
        return InboundMessage(
            channel=self.replies_to,
            sender=actor.phone.number,
            sender_hash=keyed_hash(actor.phone.number),
            text=text,
            received_at=at,
            state=InboundMessage.State.PROCESSED,
        )

    def _word(self, rng, actor: _Actor, action: str) -> str:
        return rng.choice(REPLY_WORDS[actor.language][action])

    def _timeline(self, rng, incident, place, steps, escalations, *, acknowledged_mode, alerts):
        from kiungo.alerts.models import Incident

        start = incident.first_reported_at
        ref = incident.reference
        events: list[_Event] = [
            _Event(
                "routed",
                incident.routed_at,
                details={
                    "unit": incident.unit.code,
                    "base": incident.base.code,
                    "level": incident.level.code,
                    "acknowledge_due_at": incident.acknowledge_due_at.isoformat(),
                    "respond_due_at": incident.respond_due_at.isoformat(),
                },
            )
        ]
        for taken, at, deadline, missed, due in escalations:
            target = steps[taken].target
            unit, phones, officers = self._reached(incident, place, target)
            events.append(
                _Event(
                    "escalated",
                    start + at,
                    details={
                        "step": taken + 1,
                        "target": target,
                        "unit": unit,
                        "missed": missed,
                        "deadline": (start + deadline).isoformat(),
                        "due_at": (start + due).isoformat(),
                        "phones": phones,
                        "officers": officers,
                    },
                )
            )

        def battalion_reached(at):
            return any(
                steps[taken].target == "battalion" and start + when <= at
                for taken, when, *_rest in escalations
            )

        if incident.verified_at is not None:
            note = rng.choice(VERIFY_NOTES) if rng.random() < 0.6 else ""
            events.append(
                _Event(
                    "verified",
                    incident.verified_at,
                    _Actor("web", user=self.ewo),
                    {"note": note} if note else {},
                )
            )

        answerer = None
        ack_at, resp_at = incident.acknowledged_at, incident.responded_at
        if ack_at is not None and (resp_at is None or ack_at < resp_at):
            answerer = self._answerer(rng, incident, battalion_reached(ack_at))
            incident.acknowledged_by_unit = answerer.unit or incident.unit
            reply = self._reply(
                rng, answerer, incident, ack_at, f"{self._word(rng, answerer, 'acknowledge')} {ref}"
            )
            events.append(
                _Event(
                    "acknowledged",
                    ack_at,
                    answerer,
                    {"late": ack_at > incident.acknowledge_due_at},
                    reply,
                )
            )
        if resp_at is not None:
            first_action = "patrol_sent" if incident.response == "arrived" else incident.response
            if answerer is None:
                answerer = self._answerer(rng, incident, battalion_reached(resp_at))
                incident.acknowledged_by_unit = answerer.unit or incident.unit
            details = {"response": first_action}
            text = f"{self._word(rng, answerer, first_action)} {ref}"
            if first_action == "no_action":
                reason = rng.choice(NO_ACTION_REASONS[answerer.language])
                details["reason"] = reason
                text += f" {reason}"
            if ack_at == resp_at:
                details["acknowledged"] = True
            details["late"] = resp_at > incident.respond_due_at
            events.append(
                _Event(
                    "responded",
                    resp_at,
                    answerer,
                    details,
                    self._reply(rng, answerer, incident, resp_at, text),
                )
            )
            if first_action != "no_action":
                told = {
                    alert.contact.pk
                    for alert in alerts
                    if alert.contact is not None
                    and alert.contact.consents_to_feedback
                    and alert.contact.phone.startswith("+")
                    and alert.received_at <= resp_at
                }
                if told:
                    events.append(_Event("contacts_told", resp_at, details={"contacts": len(told)}))
        if incident.arrived_at is not None:
            on_site = self._answerer(rng, incident, False)
            if on_site.channel != "sms":
                on_site = answerer
            text = f"{self._word(rng, on_site, 'arrived')} {ref}"
            events.append(
                _Event(
                    "responded",
                    incident.arrived_at,
                    on_site,
                    {"response": "arrived"},
                    self._reply(rng, on_site, incident, incident.arrived_at, text),
                )
            )

        if incident.status == Incident.Status.DISMISSED:
            events.append(
                _Event(
                    "dismissed",
                    incident.closed_at,
                    _Actor("web", user=self.ewo),
                    {"reason": rng.choice(DISMISS_REASONS)},
                )
            )
        elif incident.status == Incident.Status.CLOSED:
            closer = None
            if acknowledged_mode != "never" and rng.random() < 0.55:
                closer = answerer if answerer and answerer.channel == "sms" else None
                closer = closer or self._answerer(rng, incident, False)
                if closer.channel != "sms":
                    closer = None
            if closer is None:
                officer = self._officer(incident)
                if officer is not None and acknowledged_mode != "never" and rng.random() < 0.5:
                    closer = _Actor("web", user=officer[0], unit=officer[1])
                else:
                    closer = _Actor("web", user=self.ewo)
            note = rng.choice(CLOSE_NOTES[incident.outcome]) if rng.random() < 0.5 else ""
            details = {"outcome": incident.outcome}
            reply = None
            if closer.channel == "sms":
                word = OUTCOME_WORDS[closer.language][incident.outcome]
                note = ""  # a reply code rarely carries one
                reply = self._reply(
                    rng,
                    closer,
                    incident,
                    incident.closed_at,
                    f"{self._word(rng, closer, 'close')} {ref} {word}",
                )
            if note:
                details["note"] = note
            events.append(_Event("closed", incident.closed_at, closer, details, reply))
        events.sort(key=lambda event: event.at)  # stable: same-time events keep their order
        return events

    def _reached(self, incident, place, target) -> tuple:
        """(unit code or None, phones, officers) as `take_step` records who a step reached."""
        if target == "early_warning_cell":
            return None, 0, self._ewc_officers(place)
        kinds = {"battalion": 3, "sector": 2, "force_hq": 1}
        unit = incident.unit.superior(kinds.get(target, 0))
        if unit is None:
            return None, 0, 0
        phones, officers = self.reach(unit)
        return unit.code, phones, officers

    # Saving ----------------------------------------------------------------------------------

    def _save(self, plans: list[dict]) -> None:
        from django.db.models import F

        from kiungo.alerts.models import Alert, AlertEvent, Incident
        from kiungo.messaging.models import InboundMessage
        from kiungo.network.models import Contact

        inbound = [
            alert.inbound_message
            for plan in plans
            for alert in plan["alerts"]
            if alert.inbound_message is not None
        ]
        inbound += [
            event.reply for plan in plans for event in plan["events"] if event.reply is not None
        ]
        InboundMessage.objects.bulk_create(inbound)
        Incident.objects.bulk_create(plan["incident"] for plan in plans)
        alerts = []
        for plan in plans:
            for alert in plan["alerts"]:
                alert.incident = plan["incident"]
                alert.inbound = alert.inbound_message
                alerts.append(alert)
        Alert.objects.bulk_create(alerts)
        rows = []
        for plan in plans:
            for event in plan["events"]:
                actor = event.actor
                details = dict(event.details)
                if actor is not None:
                    details = {
                        **actor.details(event.reply.pk if event.reply is not None else None),
                        **details,
                    }
                rows.append(
                    AlertEvent(
                        incident=plan["incident"],
                        kind=event.kind,
                        at=event.at,
                        actor=actor.user if actor is not None else None,
                        channel=actor.channel if actor is not None else "system",
                        details=details,
                    )
                )
        AlertEvent.objects.bulk_create(rows)
        # An incident's row was created when its first alert was routed.
        Incident.objects.filter(pk__in=[plan["incident"].pk for plan in plans]).update(
            created_at=F("routed_at")
        )
        heard: dict[int, datetime] = {}
        for alert in alerts:
            if alert.contact_id is not None:
                heard[alert.contact_id] = max(
                    heard.get(alert.contact_id, alert.received_at), alert.received_at
                )
        for contact in Contact.objects.filter(pk__in=list(heard)):
            if contact.last_heard_at is None or contact.last_heard_at < heard[contact.pk]:
                Contact.objects.filter(pk=contact.pk).update(last_heard_at=heard[contact.pk])
