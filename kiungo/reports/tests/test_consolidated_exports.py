"""The consolidated report as PDF and Word, in English and French: open the files, read them."""

import io
from datetime import date

import pytest
from django.urls import reverse
from docx import Document
from pypdf import PdfReader

from kiungo.reports import consolidated
from kiungo.reports.models import Kind
from kiungo.reports.tests.conftest import alert_in, submitted_report

pytestmark = pytest.mark.django_db

DAY = date(2025, 3, 12)


@pytest.fixture
def day_reported(world, cla, frozen):
    report = submitted_report(cla, security="Déplacés à Mbau, tensions élevées.")
    alert = alert_in(world, world.beni)
    consolidated.save_summary(
        world.mission,
        Kind.DAILY,
        DAY,
        "Journée tendue à Béni; sécurité renforcée.",
        user=world.users["ewo"],
    )
    return report, alert


def download(client, world, what, lang):
    client.force_login(world.users["ewo"])
    query = f"?mission={world.mission.pk}&day={DAY}&lang={lang}"
    response = client.get(reverse(f"reports-consolidated-{what}") + query)
    assert response.status_code == 200
    return response


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def docx_text(response) -> str:
    document = Document(io.BytesIO(response.content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_pdf(client, world, day_reported, lang):
    _report, alert = day_reported
    text = pdf_text(download(client, world, "pdf", lang))
    assert "Déplacés à Mbau, tensions élevées." in text
    assert "Journée tendue à Béni; sécurité renforcée." in text
    assert alert.incident.reference in text and "T-001" in text
    if lang == "fr":
        assert "Rapport journalier consolidé" in text and "Résumé" in text
    else:
        assert "Consolidated daily report" in text and "Summary" in text
    assert "Amani" not in text and "Kahindo" not in text  # CLAs by staff id only


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_docx(client, world, day_reported, lang):
    _report, alert = day_reported
    text = docx_text(download(client, world, "docx", lang))
    assert "Déplacés à Mbau, tensions élevées." in text
    assert "Journée tendue à Béni; sécurité renforcée." in text
    assert alert.incident.reference in text
    if lang == "fr":
        assert "Rapport journalier consolidé" in text and "Résumé" in text
        assert "Incidents par niveau" in text
    else:
        assert "Consolidated daily report" in text and "Incidents by level" in text
    assert "Amani" not in text


def test_the_users_language_by_default(client, world, day_reported):
    client.force_login(world.users["ewo"])
    query = f"?mission={world.mission.pk}&day={DAY}"
    response = client.get(reverse("reports-consolidated-docx") + query, HTTP_ACCEPT_LANGUAGE="fr")
    assert "Rapport journalier consolidé" in docx_text(response)
    assert response["Content-Disposition"].endswith('-fr.docx"')


def test_an_export_carries_no_contact(client, world, day_reported):
    """Alerts are counted, never quoted: no sender, no text as received."""
    text = docx_text(download(client, world, "docx", "en"))
    assert "Attaque signalée" not in text
