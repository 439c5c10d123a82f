"""Drafts saved as they are typed: the autosave endpoint and the page that uses it."""

from datetime import timedelta

import pytest
from django.urls import reverse

from kiungo.reports import writing
from kiungo.reports.models import Kind, Report

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(cla, frozen):
    return writing.start_report(cla=cla, kind=Kind.DAILY)


def test_autosave_saves_into_the_draft_and_answers_the_time(client, world, draft, frozen):
    client.force_login(world.users["cla"])
    url = reverse("report-autosave", args=[draft.pk])
    for text in ("Cal", "Calme", "Calme à Beni."):
        frozen.shift(timedelta(seconds=3))
        response = client.post(url, {"day": "2025-03-12", "section_security": text})
        assert response.status_code == 200
    data = response.json()
    draft.refresh_from_db()
    assert draft.sections["security"] == "Calme à Beni."
    assert data["saved_at"] == draft.updated_at.isoformat() and data["stamp"]
    assert "12:00" in data["saved_label"]  # local time in Beni
    assert Report.objects.count() == 1  # no autosave creates a report


def test_autosave_keeps_the_valid_fields_and_reports_the_bad_ones(client, world, cla, frozen):
    report = writing.start_report(cla=cla, kind=Kind.FLASH)
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("report-autosave", args=[report.pk]),
        {"occurred_at": "2025-03-12T09:00", "section_what": "Pillage.", "injured_female": "x"},
    )
    assert response.status_code == 200 and "injured_female" in response.json()["errors"]
    report.refresh_from_db()
    assert report.sections["what"] == "Pillage."


def test_autosave_refuses_another_users_report(client, world, draft):
    for name in ("cla_bunia", "manager", "administrator"):
        client.force_login(world.users[name])
        response = client.post(
            reverse("report-autosave", args=[draft.pk]), {"section_security": "forged"}
        )
        assert response.status_code == 404, name
    draft.refresh_from_db()
    assert draft.sections.get("security", "") == ""


def test_autosave_needs_the_csrf_token(world, draft):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["cla"])
    response = client.post(reverse("report-autosave", args=[draft.pk]), {"section_security": "x"})
    assert response.status_code == 403


def test_autosave_on_a_submitted_report_changes_nothing(client, world, draft):
    writing.save_draft(draft, writing.Changes(nothing_to_report=True))
    writing.submit(draft, user=draft.cla.user)
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("report-autosave", args=[draft.pk]), {"section_security": "after"}
    )
    assert response.status_code == 409
    draft.refresh_from_db()
    assert "security" not in draft.sections


def test_autosave_onto_a_reported_day_saves_the_text_not_the_date(client, world, cla, draft):
    other = writing.start_report(
        cla=cla, kind=Kind.DAILY, day=draft.period_start - timedelta(days=1)
    )
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("report-autosave", args=[draft.pk]),
        {"day": other.period_start.isoformat(), "section_security": "Texte."},
    )
    assert response.status_code == 200 and response.json()["warning"]
    draft.refresh_from_db()
    assert draft.period_start != other.period_start and draft.sections["security"] == "Texte."


def test_the_form_page_carries_what_the_script_needs(client, world, draft):
    client.force_login(world.users["cla"])
    page = client.get(reverse("report-edit", args=[draft.pk])).content.decode()
    assert reverse("report-autosave", args=[draft.pk]) in page
    assert f'data-storage-key="kiungo-report-{draft.pk}"' in page
    assert f'data-stamp="{draft.updated_at.isoformat()}"' in page
    assert "kiungo/report-draft.js" in page and "csrfmiddlewaretoken" in page
    assert 'value="save"' in page and 'value="submit"' in page  # works without the script
