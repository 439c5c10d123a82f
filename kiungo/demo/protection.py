"""MONUSCO's protection committees, their plans and the units' answers, and field visits.

One committee in the locality of each of a few MONUSCO bases of North Kivu and Ituri (Beni,
Butembo, Mangina, Oicha, Bunia, Djugu, Goma), with members (no names, as in real use: a seat is a
position, a category and a sex; the share of women varies from committee to committee),
meetings and a training; one active plan per committee (2 to 4 threats naming the mission's
armed actors; measures by the community, by local authorities, and requests to the mission)
shared with the unit responsible for the locality, the way kiungo.protection.sharing does it.
Some requests are answered by the unit, the others wait: Beni's, in the `duty` login's area,
always has one waiting. One plan (Mangina's) is past its review date, and Beni's has an older,
superseded version 1. Three field visits with follow-up actions, one of them overdue.

Rows are written directly (no e-mail to duty officers is queued: the outbox shows only what
happens live). Dates are relative to the day of loading. Idempotent: nothing is done while
MONUSCO has a committee.
"""

from __future__ import annotations

import random
from datetime import timedelta

DEMO_MISSION = "MONUSCO"
BASES = ("beni", "butembo", "mangina", "oicha", "bunia", "djugu", "goma")
PAST_REVIEW = "mangina"  # the committee whose plan is past its review date
REVISED = "beni"  # the committee whose plan has a superseded version 1

CATEGORIES = (
    "traditional_authority",
    "religious_leader",
    "womens_representative",
    "youth",
    "teacher",
    "health_worker",
    "civil_society",
    "local_official",
)
# (threat type, description, timing)
THREATS = (
    ("attack", "Attaques contre les civils aux abords des champs", "saison des récoltes"),
    ("abduction", "Enlèvements sur la route de desserte agricole", "la nuit, jours de marché"),
    ("looting", "Pillage du marché et des boutiques", "jours de marché"),
    ("sexual_violence", "Violences sexuelles contre les femmes allant au bois", "le matin tôt"),
    ("clash", "Affrontements entre groupes armés près du village", "saison sèche"),
    ("displacement", "Déplacements forcés après les menaces", "après chaque attaque"),
)
COMMUNITY_MEASURES = (
    ("Se déplacer en groupe vers les champs", "Chefs de quartier"),
    ("Système d'alerte par sifflets et tambours", "Comité local de protection"),
    ("Recenser les ménages déplacés", "Représentante des femmes"),
)
AUTHORITY_MEASURES = (
    ("Couvre-feu du marché à 18 h", "Chef de groupement"),
    ("Présence de la police aux barrières", "Administrateur du territoire"),
)
REQUESTS = (
    "Patrouilles les jours de marché",
    "Escortes des femmes vers les champs",
    "Patrouilles de nuit sur l'axe principal",
    "Présence dissuasive près de l'école",
)
ANSWERS = (
    ("accepted", "Patrouille prévue chaque jeudi."),
    ("done", "Patrouilles conduites pendant quatre semaines."),
    ("declined", "Axe hors de portée de la compagnie pendant la saison des pluies."),
)
VISITS = (
    # (kind, base, days ago it started, length in days, team, findings, actions)
    (
        "jpt",
        "beni",
        20,
        2,
        "Affaires civiles, Droits de l'homme, Protection de l'enfant, ALC",
        "Déplacements vers le centre de Beni après les attaques; besoin d'éclairage au marché.",
        (
            ("Rapport de l'équipe conjointe au chef de bureau", "Affaires civiles", -6, "open"),
            ("Plaidoyer pour l'éclairage du marché", "Mairie de Beni", 15, "under_way"),
        ),
    ),
    (
        "jam",
        "bunia",
        12,
        1,
        "JMAC, Affaires civiles, ALC",
        "Tensions entre communautés autour des sites de déplacés.",
        (
            ("Dialogue intercommunautaire", "Affaires civiles", 20, "open"),
            ("Partager l'analyse avec le secteur", "JMAC", -1, "done"),
        ),
    ),
    (
        "other",
        "butembo",
        5,
        1,
        "Affaires civiles, ALC",
        "Le comité demande une formation sur l'alerte précoce.",
        (("Planifier la formation du comité", "ALC", 25, "open"),),
    ),
)


def ensure(seed: int) -> list[str]:
    """Create the demo committees, plans and visits if MONUSCO has none; summary lines."""
    from django.db import transaction

    from kiungo.missions.models import Mission
    from kiungo.protection.models import Committee

    mission = Mission.objects.filter(code=DEMO_MISSION).first()
    if mission is None or Committee.objects.filter(mission=mission).exists():
        return []
    with transaction.atomic():
        return _Loader(mission, seed).run()


class _Loader:
    def __init__(self, mission, seed: int):
        from django.utils import timezone

        from kiungo.people.models import User
        from kiungo.protection.dates import mission_today

        self.mission = mission
        self.seed = seed
        self.now = timezone.now()
        self.today = mission_today(mission)
        self.cla = User.objects.filter(username="cla").first()
        self.duty = User.objects.filter(username="duty").first()

    def rng(self, *purpose) -> random.Random:
        return random.Random(":".join(str(part) for part in (self.seed, "protection", *purpose)))

    def run(self) -> list[str]:
        from kiungo.forces.models import Base
        from kiungo.missions.models import ArmedActor

        self.actors = list(ArmedActor.objects.filter(mission=self.mission, active=True))
        bases = {
            base.code: base
            for base in Base.objects.filter(mission=self.mission, code__in=BASES).select_related(
                "locality"
            )
        }
        committees, pending, answered = 0, 0, 0
        for code in BASES:
            if code not in bases:
                continue
            committee = self._committee(bases[code])
            plan_pending, plan_answered = self._plans(committee, code)
            committees += 1
            pending += plan_pending
            answered += plan_answered
        visits, overdue = self._visits(bases)
        return [
            f"Protection (MONUSCO): {committees} committees with active plans, "
            f"{pending + answered} requests to the mission ({answered} answered, "
            f"{pending} pending), 1 plan past review; {visits} field visits "
            f"({overdue} overdue follow-up action)."
        ]

    def _committee(self, base):
        from kiungo.protection.models import (
            Committee,
            CommitteeMeeting,
            CommitteeMember,
            CommitteeTraining,
        )

        rng = self.rng("committee", base.code)
        committee = Committee.objects.create(
            mission=self.mission,
            locality=base.locality,
            name=f"Comité local de protection de {base.locality.name}",
            language="fr",
            created_on=self.today - timedelta(days=rng.randint(300, 900)),
        )
        size = rng.randint(8, 14)
        women = rng.randint(2, size - 3)  # from about 15 % to over half
        positions = ["president", "vice_president", "secretary", "treasurer"]
        members = []
        for index in range(size):
            category = "womens_representative" if index == 0 else rng.choice(CATEGORIES)
            members.append(
                CommitteeMember(
                    committee=committee,
                    position=positions[index] if index < len(positions) else "member",
                    category=category,
                    sex="f" if index < women else "m",
                    joined_on=committee.created_on,
                )
            )
        CommitteeMember.objects.bulk_create(members)
        CommitteeMeeting.objects.bulk_create(
            CommitteeMeeting(
                committee=committee,
                held_on=self.today - timedelta(days=30 * month + rng.randint(0, 10)),
                women=rng.randint(1, women),
                men=rng.randint(2, size - women),
                topics="Sécurité des champs et du marché; suivi du plan de protection",
                decisions="Renforcer les alertes par sifflets; informer l'ALC de chaque menace",
                recorded_by=self.cla,
            )
            for month in range(3)
        )
        CommitteeTraining.objects.create(
            committee=committee,
            held_on=self.today - timedelta(days=rng.randint(40, 200)),
            topic="Alerte précoce et plan de protection communautaire",
            facilitator="Section des affaires civiles",
            women=rng.randint(2, 6),
            men=rng.randint(2, 8),
            recorded_by=self.cla,
        )
        return committee

    def _plans(self, committee, code) -> tuple[int, int]:
        from kiungo.protection.models import ProtectionPlan

        rng = self.rng("plan", code)
        versions = 2 if code == REVISED else 1
        if versions == 2:
            old = self._plan(committee, 1, ProtectionPlan.Status.SUPERSEDED, rng, 200)
            old.superseded_at = self.now - timedelta(days=60)
            old.save(update_fields=["superseded_at"])
        plan = self._plan(committee, versions, ProtectionPlan.Status.ACTIVE, rng, 60)
        if code == PAST_REVIEW:
            plan.review_on = self.today - timedelta(days=12)
            plan.save(update_fields=["review_on"])
        return self._requests(plan, code, rng)

    def _plan(self, committee, version, status, rng, days_ago):
        from kiungo.forces.responsibility import responsible_for_area
        from kiungo.protection.models import MitigationMeasure, PlanThreat, ProtectionPlan

        activated = self.now - timedelta(days=days_ago)
        held = responsible_for_area(committee.locality)
        plan = ProtectionPlan.objects.create(
            committee=committee,
            version=version,
            status=status,
            vulnerabilities="Champs éloignés du village; pas de réseau téléphonique la nuit; "
            "femmes et enfants seuls aux champs",
            capacities="Comité d'alerte du quartier; radio communautaire; chefs coutumiers "
            "écoutés par les jeunes",
            review_on=self.today + timedelta(days=rng.randint(60, 150)),
            created_by=self.cla,
            activated_at=activated,
            activated_by=self.cla,
            shared_with=held.unit if held else None,
            shared_at=activated if held else None,
        )
        for threat_type, description, timing in rng.sample(THREATS, rng.randint(2, 4)):
            threat = PlanThreat.objects.create(
                plan=plan,
                threat=threat_type,
                description=description,
                timing=timing,
                places_text="champs et route de desserte",
                likelihood=rng.randint(2, 5),
                impact=rng.randint(2, 5),
            )
            threat.perpetrators.set(rng.sample(self.actors, min(len(self.actors), 2))[:1])
            threat.places.set([committee.locality])
        measures = [
            MitigationMeasure(
                plan=plan,
                by=MitigationMeasure.By.COMMUNITY,
                description=description,
                responsible=responsible,
                status=rng.choice(["planned", "under_way", "done"]),
            )
            for description, responsible in rng.sample(COMMUNITY_MEASURES, 2)
        ]
        description, responsible = rng.choice(AUTHORITY_MEASURES)
        measures.append(
            MitigationMeasure(
                plan=plan,
                by=MitigationMeasure.By.AUTHORITIES,
                description=description,
                responsible=responsible,
                due_on=self.today + timedelta(days=30),
            )
        )
        for description in rng.sample(REQUESTS, rng.randint(1, 3)):
            measures.append(
                MitigationMeasure(
                    plan=plan,
                    by=MitigationMeasure.By.MISSION,
                    description=description,
                    responsible="MONUSCO",
                    unit=held.unit if held else None,
                    requested_at=activated if held else None,
                    answer=MitigationMeasure.Answer.PENDING if held else "",
                )
            )
        MitigationMeasure.objects.bulk_create(measures)
        return plan

    def _requests(self, plan, code, rng) -> tuple[int, int]:
        """Answer some of the active plan's requests, as the unit would; Beni keeps one
        pending (the `duty` login's to answer)."""
        from kiungo.protection.models import PlanRequestAnswer

        requests = list(plan.measures.filter(by="mission", unit__isnull=False).order_by("pk"))
        answerer = self.duty
        pending = answered = 0
        for index, request in enumerate(requests):
            keep_pending = (code == REVISED and index == 0) or rng.random() < 0.4
            if keep_pending or answerer is None:
                pending += 1
                continue
            answer, text = rng.choice(ANSWERS)
            request.answer, request.answer_text = answer, text
            request.answered_by = answerer
            request.answered_at = request.requested_at + timedelta(days=rng.randint(1, 10))
            request.save(update_fields=["answer", "answer_text", "answered_by", "answered_at"])
            PlanRequestAnswer.objects.create(
                measure=request,
                unit=request.unit,
                answer=answer,
                text=text,
                by=answerer,
                at=request.answered_at,
            )
            answered += 1
        return pending, answered

    def _visits(self, bases) -> tuple[int, int]:
        from kiungo.protection.models import FieldVisit, FollowUpAction

        visits = overdue = 0
        for kind, code, ago, length, team, findings, actions in VISITS:
            if code not in bases:
                continue
            starts = self.today - timedelta(days=ago)
            visit = FieldVisit.objects.create(
                mission=self.mission,
                kind=kind,
                starts_on=starts,
                ends_on=starts + timedelta(days=length - 1),
                team=team,
                findings=findings,
                created_by=self.cla,
            )
            visit.places.set([bases[code].locality])
            if self.cla:
                visit.team_members.set([self.cla])
            FollowUpAction.objects.bulk_create(
                FollowUpAction(
                    visit=visit,
                    description=description,
                    owner_text=owner,
                    due_on=self.today + timedelta(days=due_in),
                    status=status,
                )
                for description, owner, due_in, status in actions
            )
            overdue += sum(1 for *_, due_in, status in actions if due_in < 0 and status != "done")
            visits += 1
        return visits, overdue
