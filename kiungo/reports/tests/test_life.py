"""Each report type's life: draft, submit, return, revise, resubmit, accept; versions kept."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kiungo.missions.models import ArmedActor
from kiungo.reports import writing
from kiungo.reports.models import Kind, Report, ReportReview, ReportVersion, Status

from .conftest import NOW

pytestmark = pytest.mark.django_db


def test_daily_report_life_keeps_each_version_and_review(world, cla, frozen):
    manager = world.users["manager"]
    report = writing.start_report(cla=cla, kind=Kind.DAILY)
    assert (report.status, report.period_start, report.base) == (
        Status.DRAFT,
        date(2025, 3, 12),
        world.base_beni,
    )
    with pytest.raises(ValidationError):  # the security situation is required
        writing.submit(report, user=cla.user)
    writing.save_draft(report, writing.Changes(sections={"security": "Calme à Beni."}))
    first = writing.submit(report, user=cla.user)
    assert first.number == 1 and first.content["sections"]["security"] == "Calme à Beni."

    with pytest.raises(ValidationError):  # a return must say why
        writing.review(report, user=manager, accept=False)
    writing.review(report, user=manager, accept=False, comment="Préciser les mouvements ADF.")
    report.refresh_from_db()
    assert report.status == Status.RETURNED and report.review_comment

    frozen.shift(timedelta(hours=1))
    writing.save_draft(
        report, writing.Changes(sections={"armed_actors": "ADF vus à Mavivi, 10 h."})
    )
    second = writing.submit(report, user=cla.user)
    writing.review(report, user=manager, accept=True)
    report.refresh_from_db()
    assert report.status == Status.ACCEPTED
    assert report.version == 2 and second.number == 2
    assert report.submitted_at == NOW  # on time or late: the first submission counts
    assert report.last_submitted_at == NOW + timedelta(hours=1)
    assert "armed_actors" not in first.content["sections"]  # v1 unchanged
    assert second.content["sections"]["armed_actors"].startswith("ADF")
    assert list(report.reviews.values_list("decision", flat=True)) == ["returned", "accepted"]
    with pytest.raises(ValidationError):  # accepted: no longer editable
        writing.save_draft(report, writing.Changes(sections={"security": "x"}))


def test_a_version_cannot_be_changed(world, cla, frozen):
    report = writing.start_report(cla=cla, kind=Kind.DAILY)
    writing.save_draft(report, writing.Changes(nothing_to_report=True))
    version = writing.submit(report, user=cla.user)
    version.content = {"forged": True}
    with pytest.raises(ValidationError):
        version.save()
    assert ReportVersion.objects.get(pk=version.pk).content["nothing_to_report"] is True


def test_only_a_submitted_report_is_reviewed_once(world, cla, frozen):
    report = writing.start_report(cla=cla, kind=Kind.DAILY)
    with pytest.raises(ValidationError):
        writing.review(report, user=world.users["manager"], accept=True)
    writing.save_draft(report, writing.Changes(nothing_to_report=True))
    writing.submit(report, user=cla.user)
    writing.review(report, user=world.users["manager"], accept=True)
    with pytest.raises(ValidationError):
        writing.review(report, user=world.users["administrator"], accept=True)
    assert ReportReview.objects.filter(report=report).count() == 1


def test_weekly_report_covers_the_iso_week_and_its_life(world, cla, frozen):
    report = writing.start_report(cla=cla, kind=Kind.WEEKLY, day=date(2025, 3, 6))
    assert (report.period_start, report.period_end) == (date(2025, 3, 3), date(2025, 3, 9))
    writing.save_draft(report, writing.Changes(sections={"trends": "Hausse des enlèvements."}))
    with pytest.raises(ValidationError) as problem:  # "main threats" is required too
        writing.submit(report, user=cla.user)
    assert "Main threats and outlook" in str(problem.value)
    writing.save_draft(report, writing.Changes(sections={"threats": "ADF sur l'axe Mbau."}))
    writing.submit(report, user=cla.user)
    writing.review(report, user=world.users["manager"], accept=False, comment="Chiffres ?")
    writing.save_draft(report, writing.Changes(sections={"network": "2 téléphones en panne."}))
    writing.submit(report, user=cla.user)
    writing.review(report, user=world.users["manager"], accept=True)
    report.refresh_from_db()
    assert (report.status, report.version) == (Status.ACCEPTED, 2)


def test_flash_report_life_with_its_facts(world, cla, frozen):
    actor = ArmedActor.objects.create(mission=world.mission, name="Allied Democratic Forces")
    report = writing.start_report(cla=cla, kind=Kind.FLASH)
    assert report.occurred_at == NOW
    writing.save_draft(
        report,
        writing.Changes(
            sections={"what": "Attaque d'un village."},
            flash={"occurred_at": NOW - timedelta(hours=2), "killed_male": 2, "abducted_female": 3},
            perpetrator_ids=[actor.pk],
        ),
    )
    with pytest.raises(ValidationError) as problem:
        writing.submit(report, user=cla.user)
    assert "where" in str(problem.value).lower()
    writing.save_draft(
        report, writing.Changes(flash={"area": world.beni, "latitude": 0.5, "longitude": 29.4})
    )
    version = writing.submit(report, user=cla.user)
    assert version.content["victims"]["killed_male"] == 2
    assert version.content["perpetrators"] == ["Allied Democratic Forces"]
    writing.review(
        report, user=world.users["manager"], accept=False, comment="Combien de blessés ?"
    )
    writing.save_draft(report, writing.Changes(flash={"injured_unknown": 4}))
    writing.submit(report, user=cla.user)
    writing.review(report, user=world.users["manager"], accept=True)
    report.refresh_from_db()
    assert report.status == Status.ACCEPTED and report.victims_total() == 9


def test_victim_counts_cannot_be_negative_in_the_database(world, cla, frozen):
    report = writing.start_report(cla=cla, kind=Kind.FLASH)
    report.killed_female = -1
    with pytest.raises(Exception):  # noqa: B017 -- IntegrityError, or a range error on SQLite
        report.save()


# Through the pages.


def test_daily_report_life_through_the_pages(client, world, cla, frozen):
    client.force_login(world.users["cla"])
    response = client.post(reverse("report-new", args=["daily"]), {"day": "2025-03-12"})
    report = Report.objects.get(cla=cla)
    assert response.status_code == 302 and response["Location"] == reverse(
        "report-edit", args=[report.pk]
    )
    edit = reverse("report-edit", args=[report.pk])
    response = client.post(
        edit, {"day": "2025-03-12", "section_perceptions": "Peur.", "action": "submit"}
    )
    assert response.status_code == 200
    assert "is required" in response.content.decode()
    report.refresh_from_db()
    assert report.status == Status.DRAFT and report.sections["perceptions"] == "Peur."  # kept
    response = client.post(
        edit, {"day": "2025-03-12", "section_security": "Calme.", "action": "submit"}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED and report.version == 1

    client.force_login(world.users["manager"])
    review = reverse("report-review", args=[report.pk])
    client.post(review, {"decision": "return", "comment": ""})
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED  # a return without a comment is refused
    client.post(review, {"decision": "return", "comment": "Détaillez."})
    report.refresh_from_db()
    assert report.status == Status.RETURNED

    client.force_login(world.users["cla"])
    page = client.get(edit).content.decode()
    assert "Détaillez." in page
    client.post(
        edit, {"day": "2025-03-12", "section_security": "Calme, 2 patrouilles.", "action": "submit"}
    )
    client.force_login(world.users["manager"])
    client.post(review, {"decision": "accept", "comment": ""})
    report.refresh_from_db()
    assert (report.status, report.version) == (Status.ACCEPTED, 2)
    page = client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert "v1" in page and "v2" in page and "Détaillez." in page
    version = client.get(reverse("report-version", args=[report.pk, 1])).content.decode()
    assert "Calme." in version and "2 patrouilles" not in version


def test_nothing_to_report_is_one_click(client, world, cla, frozen):
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("report-new", args=["daily"]), {"day": "2025-03-12", "nothing_to_report": "on"}
    )
    report = Report.objects.get(cla=cla)
    assert response.status_code == 302
    assert report.status == Status.SUBMITTED and report.nothing_to_report
    assert report.versions.count() == 1


def test_a_cla_cannot_review_their_own_report(client, world, cla, frozen):
    report = writing.start_report(cla=cla, kind=Kind.DAILY)
    writing.save_draft(report, writing.Changes(nothing_to_report=True))
    writing.submit(report, user=cla.user)
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("report-review", args=[report.pk]), {"decision": "accept", "comment": ""}
    )
    assert response.status_code == 404
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED


@pytest.mark.parametrize("kind", [Kind.DAILY, Kind.WEEKLY, Kind.FLASH])
def test_each_kind_has_its_form_and_page(client, world, cla, frozen, kind):
    ArmedActor.objects.create(mission=world.mission, name="Allied Democratic Forces")
    client.force_login(world.users["cla"])
    response = client.post(reverse("report-new", args=[kind]), {"day": "2025-03-12"})
    report = Report.objects.get(cla=cla, kind=kind)
    form = client.get(response["Location"]).content.decode()
    if kind == Kind.FLASH:
        assert "Allied Democratic Forces" in form and 'name="killed_female"' in form
        assert world.beni.name in form
    else:
        assert 'name="day"' in form
    page = client.get(reverse("report-detail", args=[report.pk]))
    assert page.status_code == 200 and report.get_kind_display() in page.content.decode()


def test_a_flash_report_through_the_form(client, world, cla, frozen):
    actor = ArmedActor.objects.create(mission=world.mission, name="CODECO")
    report = writing.start_report(cla=cla, kind=Kind.FLASH)
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("report-edit", args=[report.pk]),
        {
            "occurred_at": "2025-03-12T08:30",
            "area": world.beni.pk,
            "latitude": "0.49",
            "longitude": "29.47",
            "perpetrators": [actor.pk],
            "killed_female": "1",
            "displaced_unknown": "40",
            "section_what": "Incursion nocturne.",
            "action": "submit",
        },
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED and report.area == world.beni
    assert report.occurred_at == NOW - timedelta(hours=3, minutes=30)  # 08:30 in Beni
    assert (report.killed_female, report.displaced_unknown, report.latitude) == (1, 40, 0.49)
    assert list(report.perpetrators.all()) == [actor]


def test_an_area_outside_the_bases_reach_is_refused(client, world, cla, frozen):
    report = writing.start_report(cla=cla, kind=Kind.FLASH)
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("report-edit", args=[report.pk]),
        {"occurred_at": "2025-03-12T08:30", "area": world.bunia.pk, "action": "save"},
    )
    assert response.status_code == 200 and "area" in response.context["form"].errors
    report.refresh_from_db()
    assert report.area is None


def test_nothing_to_report_on_todays_draft_submits_it(client, world, cla, frozen):
    draft = writing.start_report(cla=cla, kind=Kind.DAILY)
    client.force_login(world.users["cla"])
    client.post(
        reverse("report-new", args=["daily"]), {"day": "2025-03-12", "nothing_to_report": "on"}
    )
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED and draft.nothing_to_report
    assert Report.objects.filter(cla=cla).count() == 1


def test_a_flash_report_started_for_an_earlier_time(client, world, cla, frozen):
    client.force_login(world.users["cla"])
    client.post(reverse("report-new", args=["flash"]), {"occurred_at": "2025-03-11T22:15"})
    report = Report.objects.get(cla=cla, kind=Kind.FLASH)
    assert report.period_start == date(2025, 3, 11)
    assert report.occurred_at == NOW - timedelta(hours=13, minutes=45)
