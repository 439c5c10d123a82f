"""The committee's copy of its plan, as PDF and DOCX, in the committee's working language,
without anything the committee should not see."""

import io

import docx
import pytest
from django.urls import reverse
from pypdf import PdfReader

from kiungo.protection.exports import plan_docx, plan_pdf
from kiungo.protection.models import MitigationMeasure
from kiungo.protection.sharing import answer_request

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


READERS = {"pdf": (plan_pdf, pdf_text), "docx": (plan_docx, docx_text)}


@pytest.fixture
def answered_plan(world, active_plan):
    request = active_plan.measures.get(by=MitigationMeasure.By.MISSION)
    answer_request(request, "declined", "Compagnie redéployée à Oicha", world.users["duty"])
    return active_plan


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_the_french_copy_reads_in_french_with_accents(kind, answered_plan):
    make, read = READERS[kind]
    text = " ".join(read(make(answered_plan)).split())
    for expected in (
        "Plan de protection communautaire",
        "Comité de protection de Beni",
        "Attaques nocturnes sur la route de Mbau",
        "Enlèvements",
        "Attaque contre des civils",
        "ADF",
        "Jours de marché",
        "Critique",  # likelihood 4 × impact 5
        "Femmes allant aux champs sans escorte",
        "Patrouilles les jours de marché",
        "Refusée",
    ):
        assert expected in text, expected


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_the_english_copy_for_an_english_speaking_committee(kind, answered_plan):
    committee = answered_plan.committee
    committee.language = "en"
    committee.save()
    make, read = READERS[kind]
    text = " ".join(read(make(answered_plan)).split())
    for expected in (
        "Community protection plan",
        "Attack on civilians",
        "Critical",
        "Declined",
        "Enlèvements",
    ):
        assert expected in text, expected
    assert "Plan de protection communautaire" not in text


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_the_copy_holds_nothing_internal(kind, world, answered_plan):
    make, read = READERS[kind]
    text = read(make(answered_plan))
    for internal in (
        "Compagnie redéployée",  # the unit's reasons
        world.company_beni.code,
        world.company_beni.name,
        "duty",
        "Amani",  # the CLA's name
        "Kahindo",
    ):
        assert internal not in text, internal


def test_the_download_is_for_those_who_see_the_committee(client, world, answered_plan):
    client.force_login(world.users["cla"])
    response = client.get(reverse("plan-pdf", args=[answered_plan.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    response = client.get(reverse("plan-docx", args=[answered_plan.pk]))
    assert (
        response.status_code == 200 and "CD61010101001-v1.docx" in response["Content-Disposition"]
    )
    client.force_login(world.users["cla_bunia"])
    assert client.get(reverse("plan-pdf", args=[answered_plan.pk])).status_code == 404
