"""A period already reported (open, merge or cancel: the user decides), future periods, and
bad fields: clear errors, nothing lost, no second report."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kiungo.reports import writing
from kiungo.reports.models import Kind, Report, Status

from .conftest import NOW

pytestmark = pytest.mark.django_db


def test_a_second_daily_report_for_a_day_is_refused_with_the_existing_one(world, cla, frozen):
    first = writing.start_report(cla=cla, kind=Kind.DAILY, day=date(2025, 3, 11))
    with pytest.raises(writing.PeriodTaken) as taken:
        writing.start_report(cla=cla, kind=Kind.DAILY, day=date(2025, 3, 11))
    assert taken.value.existing == first
    week = writing.start_report(cla=cla, kind=Kind.WEEKLY, day=date(2025, 3, 3))
    with pytest.raises(writing.PeriodTaken):  # another day of the same week
        writing.start_report(cla=cla, kind=Kind.WEEKLY, day=date(2025, 3, 9))
    assert Report.objects.filter(cla=cla).count() == 2 and week.period_start == date(2025, 3, 3)


def test_flash_reports_are_as_many_as_events(world, cla, frozen):
    writing.start_report(cla=cla, kind=Kind.FLASH)
    writing.start_report(cla=cla, kind=Kind.FLASH)
    assert Report.objects.filter(cla=cla, kind=Kind.FLASH).count() == 2


def test_the_database_refuses_a_duplicate_period(world, cla, frozen):
    from django.db import IntegrityError, transaction

    first = writing.start_report(cla=cla, kind=Kind.DAILY)
    copy = Report(
        mission=first.mission,
        cla=cla,
        base=first.base,
        kind=Kind.DAILY,
        period_start=first.period_start,
        period_end=first.period_end,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


def test_future_periods_are_refused(world, cla, frozen):
    with pytest.raises(ValidationError):
        writing.start_report(cla=cla, kind=Kind.DAILY, day=date(2025, 3, 13))
    with pytest.raises(ValidationError):  # next week has not begun
        writing.start_report(cla=cla, kind=Kind.WEEKLY, day=date(2025, 3, 17))
    with pytest.raises(ValidationError):
        writing.start_report(cla=cla, kind=Kind.FLASH, occurred_at=NOW + timedelta(hours=2))
    writing.start_report(cla=cla, kind=Kind.WEEKLY, day=date(2025, 3, 12))  # this week: fine
    report = writing.start_report(cla=cla, kind=Kind.DAILY)
    with pytest.raises(ValidationError):
        writing.save_draft(report, writing.Changes(day=date(2025, 3, 14)))
    assert Report.objects.filter(cla=cla).count() == 2


def test_new_report_page_offers_to_open_the_existing_one(client, world, cla, frozen):
    existing = writing.start_report(cla=cla, kind=Kind.DAILY, day=date(2025, 3, 11))
    client.force_login(world.users["cla"])
    response = client.post(reverse("report-new", args=["daily"]), {"day": "2025-03-11"})
    page = response.content.decode()
    assert response.status_code == 200
    assert reverse("report-edit", args=[existing.pk]) in page
    assert Report.objects.filter(cla=cla).count() == 1


def test_new_report_page_refuses_a_future_day_clearly(client, world, cla, frozen):
    client.force_login(world.users["cla"])
    response = client.post(reverse("report-new", args=["daily"]), {"day": "2025-03-20"})
    assert response.status_code == 200
    assert "has not begun" in response.content.decode()
    assert not Report.objects.filter(cla=cla).exists()


def test_moving_a_draft_onto_a_reported_day_keeps_the_text_and_offers_to_merge(
    client, world, cla, frozen
):
    yesterday = writing.start_report(cla=cla, kind=Kind.DAILY, day=date(2025, 3, 11))
    writing.save_draft(yesterday, writing.Changes(sections={"security": "Tirs entendus."}))
    draft = writing.start_report(cla=cla, kind=Kind.DAILY)
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("report-edit", args=[draft.pk]),
        {"day": "2025-03-11", "section_security": "Deux blessés.", "action": "save"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "Period already reported" in page
    draft.refresh_from_db()
    assert draft.period_start == date(2025, 3, 12)  # the date was not changed...
    assert draft.sections["security"] == "Deux blessés."  # ...and nothing was lost

    response = client.post(reverse("report-merge", args=[draft.pk]), {"into": yesterday.pk})
    assert response.status_code == 302
    assert not Report.objects.filter(pk=draft.pk).exists()
    yesterday.refresh_from_db()
    assert yesterday.sections["security"] == "Tirs entendus.\n\nDeux blessés."


def test_a_submitted_report_is_not_merged_into(world, cla, frozen):
    done = writing.start_report(cla=cla, kind=Kind.DAILY, day=date(2025, 3, 11))
    writing.save_draft(done, writing.Changes(nothing_to_report=True))
    writing.submit(done, user=cla.user)
    draft = writing.start_report(cla=cla, kind=Kind.DAILY)
    with pytest.raises(ValidationError):
        writing.merge_into(draft, done)
    assert Report.objects.filter(pk=draft.pk, status=Status.DRAFT).exists()


def test_bad_victim_counts_are_refused_and_the_rest_saved(client, world, cla, frozen):
    report = writing.start_report(cla=cla, kind=Kind.FLASH)
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("report-edit", args=[report.pk]),
        {
            "occurred_at": "2025-03-12T09:00",
            "section_what": "Pillage du marché.",
            "killed_male": "-3",
            "action": "submit",
        },
    )
    assert response.status_code == 200 and "greater than or equal to 0" in response.content.decode()
    report.refresh_from_db()
    assert report.status == Status.DRAFT
    assert report.killed_male == 0 and report.sections["what"] == "Pillage du marché."
