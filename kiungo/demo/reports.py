"""Two weeks of MONUSCO field reports, for the report pages and the compliance dashboard.

For each MONUSCO CLA deployed today, a daily report for each of the 14 days before today: most
sent on time, some late (the next morning), some missing; about one in five says "nothing to
report"; a few were returned by the manager with a comment and revised (two versions); most of
the older ones are accepted. Today, some CLAs have already sent theirs; the `cla` login has a
draft for today. Weekly reports for the last two weeks from most CLAs, and three flash reports
(the `cla` login's among them), perpetrators from the mission's armed actors. The mission's
reporting schedule (daily 18:00, weekly Monday 12:00, reminder an hour before) and two
distribution lists (JOC, Civil Affairs) with example.org addresses.

Rows are written with bulk inserts (well under a second), not through writing.py: that would
stamp everything with the current time and queue e-mails. The content of each version is built
by the same `snapshot` shape. Deterministic (a seeded random.Random per CLA) and idempotent:
nothing is done when MONUSCO already has reports.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock

DEMO_MISSION = "MONUSCO"
DAYS = 14
SHARES = {"on_time": 0.78, "late": 0.1, "missing": 0.12}
NOTHING_TO_REPORT = 0.2
RETURNED = 0.06
DISTRIBUTION = [
    ("JOC", "joc.monusco@example.org\njoc.duty@example.org", True),
    ("Civil Affairs", "civil.affairs@example.org", False),
]

SECURITY = [
    "Situation calme à {town}. Marché ouvert, circulation normale sur l'axe principal.",
    "Situation tendue à {town} après des tirs entendus la nuit vers {hour} h.",
    "Calme précaire à {town}; présence signalée de {actor} à une dizaine de km.",
    "Situation sécuritaire stable à {town}; patrouille de la compagnie le matin.",
]
ARMED_ACTORS = [
    "Mouvement de {actor} signalé vers les champs au nord de {town}.",
    "Aucun mouvement d'acteur armé signalé.",
    "Des éléments de {actor} auraient traversé la route vers {hour} h.",
]
ACTIVITIES = [
    "Réunion avec le comité local de protection de {town}.",
    "Visite de terrain et sensibilisation au numéro d'alerte.",
    "Rencontre avec les autorités locales et les leaders religieux.",
]
HUMANITARIAN = [
    "Arrivée d'environ {count} ménages déplacés depuis les villages voisins.",
    "Pas de nouveau mouvement de population signalé.",
]
PERCEPTIONS = [
    "La population salue les patrouilles de nuit mais demande plus de présence.",
    "Méfiance envers la mission après l'incident de la semaine passée.",
]
RECOMMENDATIONS = [
    "Renforcer les patrouilles sur l'axe {town} nord.",
    "Remplacer deux téléphones du réseau d'alerte en panne.",
    "",
]
WEEKLY = {
    "trends": "Hausse des enlèvements sur les axes agricoles autour de {town}.",
    "threats": "Menace persistante de {actor}; risque d'attaque pendant les récoltes.",
    "protection_plans": "Plan de protection de {town}: 3 actions sur 5 réalisées.",
    "network": "{count} points focaux actifs; 2 téléphones à recharger en crédit.",
    "recommendations": "Patrouilles de jour sur les axes agricoles.",
}
RETURN_COMMENTS = [
    "Préciser les mouvements des groupes armés (lieu, heure, nombre).",
    "Merci de joindre les alertes de la journée.",
    "Quelle source pour les déplacés ?",
]
FLASHES = [
    ("Attaque d'un village par des hommes armés; maisons incendiées.", (2, 3, 1, 0, 4, 0)),
    ("Enlèvement de civils sur la route des champs.", (0, 0, 0, 5, 2, 0)),
    ("Affrontements entre groupes armés près du marché.", (0, 4, 2, 0, 0, 120)),
]


@dataclass
class Summary:
    already: bool = False
    daily: int = 0
    weekly: int = 0
    flash: int = 0
    drafts: int = 0
    seconds: float = 0.0


def is_loaded() -> bool:
    from kiungo.reports.models import Report

    return Report.objects.filter(mission__code=DEMO_MISSION).exists()


def ensure(seed: int, now: datetime | None = None) -> Summary:
    """Create the demo reports unless MONUSCO has reports (one transaction)."""
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
    if summary.already or not (summary.daily or summary.weekly):
        return []
    return [
        f"Demo reports: {summary.daily} daily reports of MONUSCO CLAs over {DAYS} days, "
        f"{summary.weekly} weekly, {summary.flash} flash, {summary.drafts} draft(s), "
        f"in {summary.seconds:.1f} s."
    ]


class _Builder:
    def __init__(self, seed: int, mission, now: datetime):
        from kiungo.reports import periods

        self.seed, self.mission, self.now = seed, mission, now
        self.zone = periods.zone(mission)
        self.today = periods.local_today(mission, now)
        self.reports, self.versions, self.reviews = [], [], []
        self.summary = Summary()

    def rng(self, *purpose) -> random.Random:
        return random.Random(f"{self.seed}:reports:{':'.join(map(str, purpose))}")

    def at(self, day, hour, minute=0) -> datetime:
        return datetime.combine(day, clock(hour, minute), tzinfo=self.zone)

    def run(self) -> Summary:
        from kiungo.people.models import CLAProfile, Deployment, Role, RoleAssignment
        from kiungo.reports.headings import DEFAULTS
        from kiungo.reports.models import DistributionList, ReportingSchedule

        ReportingSchedule.objects.get_or_create(mission=self.mission)
        for name, addresses, flash in DISTRIBUTION:
            DistributionList.objects.get_or_create(
                mission=self.mission,
                name=name,
                defaults={"addresses": addresses, "receives_flash": flash},
            )
        self.headings = {
            kind: {key: str(title) for key, title, _r in rows} for kind, rows in DEFAULTS.items()
        }
        self.actors = list(self.mission.armed_actors.filter(active=True).order_by("pk"))
        clas = list(
            CLAProfile.objects.filter(
                deployments__base__mission=self.mission,
                deployments__ends_on__isnull=True,
                user__is_active=True,
                base__isnull=False,
            )
            .select_related("user", "base__locality", "supervisor")
            .order_by("staff_id")
            .distinct()
        )
        reviewers = {
            assignment.user_id: assignment.user
            for assignment in RoleAssignment.objects.filter(
                mission=self.mission, role=Role.CLA_MANAGER
            ).select_related("user")
        }
        self.fallback_reviewer = next(iter(reviewers.values()), None)
        self.since = dict(
            Deployment.objects.filter(cla__in=clas, ends_on__isnull=True).values_list(
                "cla_id", "starts_on"
            )
        )
        for cla in clas:
            self._daily(cla)
            self._weekly(cla)
        self._flash([cla for cla in clas if cla.user.username == "cla"] + clas[:2])
        self._save()
        return self.summary

    # What one CLA wrote.

    def _words(self, cla, rng) -> dict:
        actor = rng.choice(self.actors).short_name if self.actors else "des hommes armés"
        return {
            "town": cla.base.name,
            "actor": actor or "ADF",
            "hour": rng.randint(1, 23),
            "count": rng.randint(5, 80),
        }

    def _daily_sections(self, cla, rng) -> dict:
        words = self._words(cla, rng)
        sections = {
            "security": rng.choice(SECURITY),
            "armed_actors": rng.choice(ARMED_ACTORS),
            "activities": rng.choice(ACTIVITIES),
            "humanitarian": rng.choice(HUMANITARIAN),
            "perceptions": rng.choice(PERCEPTIONS) if rng.random() < 0.6 else "",
            "recommendations": rng.choice(RECOMMENDATIONS),
        }
        return {key: text.format(**words) for key, text in sections.items() if text}

    def _daily(self, cla) -> None:
        for back in range(DAYS, -1, -1):
            day = self.today - timedelta(days=back)
            rng = self.rng("daily", cla.staff_id, day.isoformat())
            if day < self.since.get(cla.pk, day):
                continue  # not deployed yet
            if back == 0:  # today: a third have sent theirs by now; `cla` has a draft
                if cla.user.username == "cla":
                    self._report(cla, "daily", day, day, sections=self._daily_sections(cla, rng))
                    self.summary.drafts += 1
                elif rng.random() < 0.33 and self.at(day, 9) < self.now:
                    sent = min(self.at(day, rng.randint(8, 11), rng.randint(0, 59)), self.now)
                    self._sent(cla, "daily", day, day, rng, sent)
                continue
            outcome = _pick(rng, SHARES)
            if outcome == "missing":
                continue
            if outcome == "late":
                sent = self.at(day + timedelta(days=1), rng.randint(6, 10), rng.randint(0, 59))
            else:
                sent = self.at(day, rng.randint(14, 17), rng.randint(0, 59))
            self._sent(cla, "daily", day, day, rng, sent)

    def _weekly(self, cla) -> None:
        monday = self.today - timedelta(days=self.today.weekday())
        for weeks_back in (2, 1):
            start = monday - timedelta(days=7 * weeks_back)
            rng = self.rng("weekly", cla.staff_id, start.isoformat())
            due = self.at(start + timedelta(days=7), 12)
            if rng.random() < 0.2 or due > self.now + timedelta(days=1):
                continue
            sent = due - timedelta(hours=rng.randint(-20, 30))
            words = self._words(cla, rng)
            sections = {key: text.format(**words) for key, text in WEEKLY.items()}
            self._sent(cla, "weekly", start, start + timedelta(days=6), rng, sent, sections)

    def _flash(self, clas) -> None:
        seen = set()
        for index, cla in enumerate(clas):
            if cla.pk in seen or index >= len(FLASHES):
                continue
            seen.add(cla.pk)
            rng = self.rng("flash", cla.staff_id)
            what, victims = FLASHES[index]
            occurred = self.now - timedelta(days=rng.randint(1, 9), hours=rng.randint(0, 12))
            day = occurred.astimezone(self.zone).date()
            counts = dict(
                zip(
                    (
                        "killed_male",
                        "killed_unknown",
                        "injured_male",
                        "abducted_female",
                        "abducted_male",
                        "displaced_unknown",
                    ),
                    victims,
                    strict=True,
                )
            )
            sections = {
                "what": what,
                "actions": "Alerte transmise à la compagnie; patrouille envoyée.",
                "recommendations": "Patrouilles de nuit renforcées.",
            }
            report = self._sent(
                cla,
                "flash",
                day,
                day,
                rng,
                occurred + timedelta(hours=1),
                sections,
                occurred_at=occurred,
                area_id=cla.base.locality_id,
                latitude=cla.base.latitude,
                longitude=cla.base.longitude,
                **counts,
            )
            report._actors = rng.sample(self.actors, min(len(self.actors), 2))

    # Rows.

    def _report(self, cla, kind, start, end, **fields):
        from kiungo.reports.models import Report

        report = Report(
            mission=self.mission,
            cla=cla,
            base_id=cla.base_id,
            kind=kind,
            period_start=start,
            period_end=end,
            **fields,
        )
        report._versions = []
        report._reviews = []
        self.reports.append(report)
        return report

    def _sent(self, cla, kind, start, end, rng, sent, sections=None, **extra):
        nothing = kind == "daily" and sections is None and rng.random() < NOTHING_TO_REPORT
        if sections is None:
            sections = {} if nothing else self._daily_sections(cla, rng)
        reviewer = cla.supervisor or self.fallback_reviewer
        returned = reviewer is not None and not nothing and rng.random() < RETURNED
        report = self._report(
            cla,
            kind,
            start,
            end,
            sections=sections,
            nothing_to_report=nothing,
            status="submitted",
            submitted_at=sent,
            last_submitted_at=sent,
            version=1,
            source="sms" if nothing and rng.random() < 0.5 else "web",
            **extra,
        )
        report._versions.append((1, sent, self._content(report)))
        if returned:
            comment = rng.choice(RETURN_COMMENTS)
            reviewed = sent + timedelta(hours=rng.randint(1, 5))
            report._reviews.append((1, "returned", comment, reviewer, reviewed))
            if (self.now - reviewed) > timedelta(hours=6):  # revised since
                revised = reviewed + timedelta(hours=rng.randint(1, 4))
                sections = dict(sections)
                sections["armed_actors"] = (
                    sections.get("armed_actors", "") + " Précision: une dizaine d'hommes armés."
                ).strip()
                report.sections = sections
                report.version = 2
                report.last_submitted_at = revised
                report._versions.append((2, revised, self._content(report)))
            else:
                report.status = "returned"
                report.reviewed_by, report.reviewed_at, report.review_comment = (
                    reviewer,
                    reviewed,
                    comment,
                )
        if report.status == "submitted" and reviewer and self.now - sent > timedelta(days=2):
            reviewed = report.last_submitted_at + timedelta(hours=rng.randint(2, 20))
            report._reviews.append((report.version, "accepted", "", reviewer, reviewed))
            report.status = "accepted"
            report.reviewed_by, report.reviewed_at = reviewer, reviewed
        setattr(self.summary, kind, getattr(self.summary, kind) + 1)
        return report

    def _content(self, report) -> dict:
        content = {
            "kind": report.kind,
            "period_start": report.period_start.isoformat(),
            "period_end": report.period_end.isoformat(),
            "nothing_to_report": report.nothing_to_report,
            "sections": dict(report.sections),
            "headings": self.headings[report.kind],
            "alerts": [],
            "incidents": [],
        }
        if report.kind == "flash":
            from kiungo.reports.models import VICTIM_FIELDS

            content.update(
                occurred_at=report.occurred_at.isoformat(),
                area=None,
                latitude=report.latitude,
                longitude=report.longitude,
                perpetrators=[],
                victims={name: getattr(report, name) for name in VICTIM_FIELDS},
            )
        return content

    def _save(self) -> None:
        from kiungo.reports.models import Report, ReportReview, ReportVersion

        Report.objects.bulk_create(self.reports, batch_size=500)
        versions, reviews, perpetrators = [], [], []
        Through = Report.perpetrators.through
        for report in self.reports:
            for number, at, content in report._versions:
                if report.kind == "flash":
                    content["area"] = str(report.cla.base.locality)
                    content["perpetrators"] = sorted(str(a) for a in getattr(report, "_actors", []))
                versions.append(
                    ReportVersion(
                        report=report,
                        number=number,
                        content=content,
                        submitted_by_id=report.cla.user_id,
                        submitted_at=at,
                        source=report.source,
                    )
                )
            for number, decision, comment, reviewer, at in report._reviews:
                reviews.append(
                    ReportReview(
                        report=report,
                        version=number,
                        decision=decision,
                        comment=comment,
                        by=reviewer,
                        at=at,
                    )
                )
            for actor in getattr(report, "_actors", []):
                perpetrators.append(Through(report_id=report.pk, armedactor_id=actor.pk))
        ReportVersion.objects.bulk_create(versions, batch_size=500)
        ReportReview.objects.bulk_create(reviews, batch_size=500)
        Through.objects.bulk_create(perpetrators)


def _pick(rng: random.Random, weights: dict) -> str:
    roll, total = rng.random() * sum(weights.values()), 0.0
    for key, weight in weights.items():
        total += weight
        if roll < total:
            return key
    return key
