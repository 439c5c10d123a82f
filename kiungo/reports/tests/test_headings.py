"""Per-mission headings: the defaults in code, or the mission's own (renamed, reordered,
disabled, added) as an administrator set them in the admin."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from kiungo.reports import writing
from kiungo.reports.headings import headings_for, install_default_headings
from kiungo.reports.models import Kind, ReportHeading

pytestmark = pytest.mark.django_db


def test_defaults_are_translated(world):
    with translation.override("fr"):
        titles = [heading.title for heading in headings_for(world.mission.pk, Kind.DAILY)]
    assert titles[0] == "Situation sécuritaire" and len(titles) == 7


def test_a_mission_renames_reorders_disables_and_adds(world, cla, frozen):
    assert install_default_headings(world.mission) == 15
    assert install_default_headings(world.mission) == 0  # once
    daily = ReportHeading.objects.filter(mission=world.mission, kind=Kind.DAILY)
    daily.filter(key="perceptions").update(active=False)
    daily.filter(key="recommendations").update(position=0, title="À retenir", required=True)
    ReportHeading.objects.create(
        mission=world.mission, kind=Kind.DAILY, key="radios", title="Radios", position=99
    )
    keys = [heading.key for heading in headings_for(world.mission.pk, Kind.DAILY)]
    assert keys[0] == "recommendations" and keys[-1] == "radios" and "perceptions" not in keys
    assert headings_for(world.other_mission.pk, Kind.DAILY)[0].key == "security"  # untouched

    report = writing.start_report(cla=cla, kind=Kind.DAILY)
    writing.save_draft(
        report,
        writing.Changes(sections={"security": "Calme.", "radios": "2 radios HS", "bogus": "x"}),
    )
    report.refresh_from_db()
    assert "bogus" not in report.sections  # only the mission's headings are kept
    with pytest.raises(ValidationError) as problem:
        writing.submit(report, user=cla.user)
    assert "À retenir" in str(problem.value)


def test_the_form_follows_the_missions_headings(client, world, cla, frozen):
    ReportHeading.objects.create(
        mission=world.mission, kind=Kind.FLASH, key="what", title="Les faits", required=True
    )
    report = writing.start_report(cla=cla, kind=Kind.FLASH)
    client.force_login(world.users["cla"])
    page = client.get(reverse("report-edit", args=[report.pk])).content.decode()
    assert "Les faits" in page and 'name="section_actions"' not in page


def test_the_admin_pages_open(client, world):
    client.force_login(world.users["administrator"])
    for name in ("reportheading", "reportingschedule", "distributionlist"):
        response = client.get(reverse(f"admin:reports_{name}_changelist"))
        assert response.status_code == 200, name
        assert client.get(reverse(f"admin:reports_{name}_add")).status_code == 200


def test_the_admin_action_copies_the_defaults_to_edit(client, world):
    from kiungo.reports.models import ReportingSchedule

    schedule = ReportingSchedule.objects.create(mission=world.mission)
    client.force_login(world.users["administrator"])
    client.post(
        reverse("admin:reports_reportingschedule_changelist"),
        {"action": "add_default_headings", "_selected_action": [schedule.pk]},
    )
    assert ReportHeading.objects.filter(mission=world.mission).count() == 15
