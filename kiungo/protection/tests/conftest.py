from datetime import date

import pytest

from kiungo.missions.models import ArmedActor
from kiungo.protection import plans
from kiungo.protection.models import (
    Committee,
    CommitteeMember,
    MitigationMeasure,
    PlanThreat,
)


@pytest.fixture
def actors(world):
    return [
        ArmedActor.objects.create(
            mission=world.mission, name="Allied Democratic Forces", short_name="ADF"
        ),
        ArmedActor.objects.create(
            mission=world.mission, name="Mai-Mai groups", short_name="Mai-Mai"
        ),
    ]


def make_committee(world, locality, name="Comité local de protection", language="fr"):
    committee = Committee(
        mission=world.mission,
        locality=locality,
        name=name,
        language=language,
        created_on=date(2025, 3, 1),
    )
    committee.full_clean()
    committee.save()
    return committee


@pytest.fixture
def committee(world):
    committee = make_committee(world, world.beni, "Comité de protection de Beni")
    for category, sex in [
        ("traditional_authority", "m"),
        ("womens_representative", "f"),
        ("youth", "f"),
        ("religious_leader", "m"),
    ]:
        CommitteeMember.objects.create(committee=committee, category=category, sex=sex)
    return committee


@pytest.fixture
def bunia_committee(world):
    return make_committee(world, world.bunia, "Comité de protection de Bunia")


def add_threat(plan, actors=(), places=(), **values):
    fields = {
        "threat": "attack",
        "description": "Attaques nocturnes sur la route de Mbau",
        "likelihood": 4,
        "impact": 5,
        "timing": "Jours de marché",
    }
    fields.update(values)
    threat = PlanThreat.objects.create(plan=plan, **fields)
    threat.perpetrators.set(actors)
    threat.places.set(places)
    return threat


def add_request(plan, description="Patrouilles les jours de marché", **values):
    return MitigationMeasure.objects.create(
        plan=plan,
        by=MitigationMeasure.By.MISSION,
        description=description,
        responsible=values.pop("responsible", "MONUSCO"),
        **values,
    )


@pytest.fixture
def active_plan(world, committee, actors):
    """Version 1 of the Beni committee's plan, active and shared with the Beni company."""
    cla = world.users["cla"]
    plan = plans.start_plan(committee, cla, date(2026, 12, 31))
    plan.vulnerabilities = "Femmes allant aux champs sans escorte"
    plan.capacities = "Comité d'alerte du quartier, sifflets"
    plan.save()
    add_threat(plan, actors[:1], [world.beni])
    add_threat(
        plan, actors[1:], [], threat="abduction", description="Enlèvements", likelihood=2, impact=3
    )
    MitigationMeasure.objects.create(
        plan=plan,
        by=MitigationMeasure.By.COMMUNITY,
        description="Se déplacer en groupe vers les champs",
        responsible="Chefs de quartier",
    )
    add_request(plan)
    return plans.activate(plan, cla)
