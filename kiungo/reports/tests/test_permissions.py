"""Who may open which report page: the permission matrix of every view."""

import pytest
from django.urls import reverse

from kiungo.lib.testing import ROLE_USERS, check_matrix
from kiungo.people.access import visible_reports
from kiungo.reports import writing
from kiungo.reports.models import Kind, Report, Status

pytestmark = pytest.mark.django_db

READERS = {"administrator", "leadership", "analyst", "ewo", "manager"}


@pytest.fixture
def submitted(cla, frozen):
    report = writing.start_report(cla=cla, kind=Kind.DAILY)
    writing.save_draft(report, writing.Changes(sections={"security": "Calme."}))
    writing.submit(report, user=cla.user)
    return report


@pytest.fixture
def draft(cla, frozen):
    from datetime import date

    return writing.start_report(cla=cla, kind=Kind.DAILY, day=date(2025, 3, 11))


def test_report_list(client, world):
    check_matrix(client, world, reverse("reports"), READERS | {"cla", "cla_bunia", "other_ewo"})


def test_new_report_is_for_clas(client, world, frozen):
    for kind in ("daily", "weekly", "flash"):
        check_matrix(client, world, reverse("report-new", args=[kind]), {"cla", "cla_bunia"})


def test_a_submitted_report_is_read_by_its_cla_and_the_readers_in_scope(client, world, submitted):
    allowed = READERS | {"cla"}
    check_matrix(client, world, reverse("report-detail", args=[submitted.pk]), allowed)
    check_matrix(client, world, reverse("report-version", args=[submitted.pk, 1]), allowed)


def test_a_draft_is_seen_by_its_cla_alone(client, world, draft):
    check_matrix(client, world, reverse("report-detail", args=[draft.pk]), {"cla"})
    check_matrix(client, world, reverse("report-edit", args=[draft.pk]), {"cla"})
    check_matrix(client, world, reverse("report-autosave", args=[draft.pk]), {"cla"}, method="post")


def test_a_manager_outside_the_area_sees_only_the_clas_they_supervise(world, cla_bunia, frozen):
    report = writing.start_report(cla=cla_bunia, kind=Kind.DAILY)
    writing.save_draft(report, writing.Changes(nothing_to_report=True))
    writing.submit(report, user=cla_bunia.user)
    manager = world.users["manager"]  # holds Nord-Kivu; Bunia is in Ituri
    assert visible_reports(manager).filter(pk=report.pk).exists()  # supervises cla_bunia
    cla_bunia.supervisor = None
    cla_bunia.save()
    manager = type(manager).objects.get(pk=manager.pk)  # fresh scope cache
    assert not visible_reports(manager).filter(pk=report.pk).exists()


def test_review_is_for_the_manager_and_the_administrator(client, world, submitted):
    url = reverse("report-review", args=[submitted.pk])
    for name in ROLE_USERS:
        client.force_login(world.users[name])
        response = client.post(url, {"decision": "return", "comment": "Plus de détails."})
        submitted.refresh_from_db()
        if name in {"manager", "administrator"}:
            assert response.status_code == 302, name
            assert submitted.status == Status.RETURNED, name
            Report.objects.filter(pk=submitted.pk).update(status=Status.SUBMITTED)
            submitted.reviews.all().delete()
        else:
            assert response.status_code in (403, 404), name
            assert submitted.status == Status.SUBMITTED, name
    client.logout()
    assert client.post(url, {"decision": "accept"}).status_code == 302  # to the login page


def test_merge_only_between_ones_own_reports(client, world, cla, draft, frozen):
    today = writing.start_report(cla=cla, kind=Kind.DAILY)
    for name in ROLE_USERS:
        if name == "cla":
            continue
        client.force_login(world.users[name])
        response = client.post(reverse("report-merge", args=[today.pk]), {"into": draft.pk})
        assert response.status_code in (403, 404), name
    assert Report.objects.filter(pk=today.pk).exists()


def test_compliance_dashboard(client, world):
    check_matrix(
        client, world, reverse("reports-compliance"), {"administrator", "leadership", "manager"}
    )
