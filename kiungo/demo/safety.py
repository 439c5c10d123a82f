"""CLA management and safety in the demo (MONUSCO): a check-in policy, recent check-ins of its
CLAs, one Nord-Kivu CLA overdue (the worker tells `manager` at once, `security` 50 minutes later),
an open SOS, absences (one leaves a base below two CLAs present), a planned rotation, and the
`security` login (security officer over MONUSCO) on a database loaded before it existed.

Deterministic (seeded) and idempotent: nothing is done once MONUSCO has a check-in policy.
Times are relative to the moment of loading.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from kiungo.demo.scenario import DEMO_PASSWORD, EMAIL_DOMAIN

DEMO_MISSION = "MONUSCO"
EVERY_HOURS = 12
DURESS_WORD = "MANGUE"


@dataclass
class Summary:
    already: bool = False
    check_ins: int = 0
    overdue: str = ""  # staff id
    absences: int = 0
    short_base: str = ""
    rotation: str = ""
    security_added: bool = False
    lines: list[str] = field(default_factory=list)


def _ensure_security_login(mission) -> bool:
    from django.contrib.auth.hashers import make_password

    from kiungo.people.models import Role, RoleAssignment, User

    if User.objects.filter(username="security").exists():
        return False  # never take over an account that is already there
    user = User.objects.create(
        username="security",
        first_name="Demo",
        last_name="Security Officer",
        email=f"security@{EMAIL_DOMAIN}",
        password=make_password(DEMO_PASSWORD),
    )
    RoleAssignment.objects.create(
        user=user, role=Role.SECURITY_OFFICER, mission=mission, scope=RoleAssignment.Scope.MISSION
    )
    return True


def ensure(seed: int, now=None) -> Summary:
    """Load the safety and rotation demo unless it is there (one transaction)."""
    from django.db import transaction
    from django.utils import timezone

    from kiungo.missions.models import Mission
    from kiungo.safety.models import CheckInPolicy

    summary = Summary()
    mission = Mission.objects.filter(code=DEMO_MISSION).first()
    if mission is None:
        return summary
    with transaction.atomic():
        summary.security_added = _ensure_security_login(mission)
        if CheckInPolicy.objects.filter(mission=mission).exists():
            summary.already = True
            return summary
        _Builder(random.Random(f"{seed}-safety"), mission, now or timezone.now(), summary).run()
    return summary


class _Builder:
    def __init__(self, rng, mission, now, summary):
        self.rng, self.mission, self.now, self.summary = rng, mission, now, summary

    def run(self):
        from kiungo.people.deployment import local_today
        from kiungo.people.models import CLAProfile
        from kiungo.safety.models import CheckInPolicy

        policy = CheckInPolicy.objects.create(
            mission=self.mission,
            every_hours=EVERY_HOURS,
            grace_minutes=30,
            security_after_minutes=60,
            region_after_minutes=120,
            duress_word=DURESS_WORD,
        )
        self.policy, self.today = policy, local_today(self.mission)
        clas = list(
            CLAProfile.objects.filter(
                base__mission=self.mission, base__closed_on__isnull=True, user__is_active=True
            )
            .select_related("user", "supervisor", "base__locality")
            .order_by("staff_id")
        )
        north_kivu = [
            cla for cla in clas if cla.supervisor and cla.supervisor.username == "manager"
        ]
        others = [cla for cla in north_kivu if cla.user.username != "cla"]
        overdue = self.rng.choice(others)
        self._check_ins(clas, overdue)
        self._sos(self.rng.choice([cla for cla in others if cla is not overdue]))
        self._absences_and_rotation(north_kivu, overdue)

    def _check_ins(self, clas, overdue):
        from kiungo.safety.models import Channel, CheckIn, SafetyStatus

        channels = [Channel.SMS, Channel.SMS, Channel.WEB, Channel.API]
        check_ins, statuses = [], []
        for cla in clas:
            if cla is overdue:
                # Due 40 minutes ago: the manager is told now, security 50 minutes later.
                last = self.now - timedelta(hours=EVERY_HOURS, minutes=40)
            elif cla.user.username == "cla":
                last = self.now - timedelta(hours=3)
            else:
                last = self.now - timedelta(minutes=self.rng.randint(20, EVERY_HOURS * 60 - 60))
            for at in (last - timedelta(hours=EVERY_HOURS), last):
                point = self.rng.random() < 0.5 and cla.base.locality.latitude is not None
                check_ins.append(
                    CheckIn(
                        cla=cla,
                        mission=self.mission,
                        at=at - timedelta(minutes=self.rng.randint(0, 40)) if at != last else at,
                        channel=self.rng.choice(channels),
                        area=cla.base.locality,
                        latitude=cla.base.locality.latitude if point else None,
                        longitude=cla.base.locality.longitude if point else None,
                    )
                )
        CheckIn.objects.bulk_create(check_ins)
        last_of = {}
        for check in check_ins:
            last_of[check.cla_id] = check  # the later one comes second
        offsets = self.policy.step_offsets()
        for cla in clas:
            check = last_of[cla.pk]
            due = check.at + timedelta(hours=EVERY_HOURS)
            statuses.append(
                SafetyStatus(
                    cla=cla,
                    mission=self.mission,
                    due_at=due,
                    last_check_in=check,
                    next_escalation_at=due + offsets[0],
                )
            )
        SafetyStatus.objects.bulk_create(statuses)
        self.summary.check_ins = len(check_ins)
        self.summary.overdue = overdue.staff_id

    def _sos(self, cla):
        from kiungo.safety.models import Alarm

        at = self.now - timedelta(minutes=25)
        Alarm.objects.create(
            cla=cla,
            mission=self.mission,
            kind=Alarm.Kind.SOS,
            channel="sms",
            raised_at=at,
            last_signal_at=at,
            area=cla.base.locality,
            note="Hommes armés au marché",
            steps=[{"at": at.isoformat(), "channel": "sms", "told": ["manager", "security"]}],
        )
        self.summary.lines.append(f"open SOS from {cla.staff_id} ({cla.base.name})")

    def _absences_and_rotation(self, north_kivu, overdue):
        from collections import defaultdict

        from kiungo.people.models import Absence, Rotation

        by_base = defaultdict(list)
        for cla in north_kivu:
            by_base[cla.base].append(cla)
        candidates = sorted(
            (base for base, clas in by_base.items() if len(clas) >= 2 and base.code != "beni"),
            key=lambda base: (len(by_base[base]), base.code),
        )
        short = candidates[0]
        today = self.today
        absences = []
        for cla in by_base[short][1:]:  # all but one away: the base is below two
            absences.append(
                Absence(
                    cla=cla,
                    kind=Absence.Kind.LEAVE,
                    starts_on=today - timedelta(days=2),
                    ends_on=today + timedelta(days=5),
                    note="Congé annuel",
                )
            )
        elsewhere = [cla for cla in north_kivu if cla.base != short and cla is not overdue]
        trainee, sick = self.rng.sample(elsewhere, 2)
        absences.append(
            Absence(
                cla=trainee,
                kind=Absence.Kind.TRAINING,
                starts_on=today + timedelta(days=7),
                ends_on=today + timedelta(days=9),
                note="Formation alerte précoce, Goma",
            )
        )
        absences.append(
            Absence(
                cla=sick,
                kind=Absence.Kind.SICK,
                starts_on=today - timedelta(days=20),
                ends_on=today - timedelta(days=18),
            )
        )
        Absence.objects.bulk_create(absences)
        biggest = max(by_base, key=lambda base: (len(by_base[base]), base.code))
        mover = next(cla for cla in by_base[biggest] if cla not in (trainee, sick, overdue))
        Rotation.objects.create(
            cla=mover,
            to_base=short,
            planned_on=today + timedelta(days=10),
            note="Renfort pendant les congés",
        )
        self.summary.absences = len(absences)
        self.summary.short_base = short.name
        self.summary.rotation = f"{mover.staff_id} {biggest.name} -> {short.name}"


def format_summary(summary: Summary) -> list[str]:
    lines = []
    if summary.security_added:
        lines.append("Security officer login added: security.")
    if summary.already or not summary.check_ins:
        return lines
    return [
        *lines,
        f"Demo CLA safety (MONUSCO): {summary.check_ins} check-ins, every {EVERY_HOURS} h; "
        f"{summary.overdue} overdue; " + "; ".join(summary.lines) + ".",
        f"Demo CLA deployment: {summary.absences} absences ({summary.short_base} below two "
        f"CLAs present), a rotation planned ({summary.rotation}). Duress word: {DURESS_WORD}.",
    ]
