"""Who is expected to report, and who reported on time, late or not at all."""

from datetime import UTC, date, datetime

import pytest

from kiungo.people.models import Absence, CLAProfile, Deployment, User
from kiungo.reports import writing
from kiungo.reports.compliance import State, compliance, expected_reporters
from kiungo.reports.models import Kind, ReportingSchedule

pytestmark = pytest.mark.django_db


def local(day, hour, minute=0):
    """An aware time in Beni (UTC+2)."""
    return datetime(day.year, day.month, day.day, hour - 2, minute, tzinfo=UTC)


def daily(cla, day, submitted_at=None, frozen=None):
    report = writing.start_report(cla=cla, kind=Kind.DAILY, day=day, now=local(day, 9))
    if submitted_at:
        writing.save_draft(report, writing.Changes(nothing_to_report=True), now=submitted_at)
        writing.submit(report, user=cla.user, now=submitted_at)
    return report


def test_expected_reporters_are_the_deployed_clas_with_an_active_account(world, cla, cla_bunia):
    day = date(2025, 3, 12)
    assert expected_reporters(world.mission, day) == {cla.pk: {day}, cla_bunia.pk: {day}}
    cla_bunia.user.is_active = False
    cla_bunia.user.save()
    assert set(expected_reporters(world.mission, day)) == {cla.pk}
    assert expected_reporters(world.other_mission, day) == {}


def test_expected_days_follow_the_deployments(world, cla):
    newcomer = CLAProfile.objects.create(
        user=User.objects.create_user("newcomer"), staff_id="T-009", base=world.base_butembo
    )
    Deployment.objects.create(cla=newcomer, base=world.base_butembo, starts_on=date(2025, 3, 10))
    left = CLAProfile.objects.create(
        user=User.objects.create_user("left"), staff_id="T-010", base=None
    )
    Deployment.objects.create(
        cla=left, base=world.base_beni, starts_on=date(2024, 1, 1), ends_on=date(2025, 3, 9)
    )
    expected = expected_reporters(world.mission, date(2025, 3, 8), date(2025, 3, 11))
    assert expected[newcomer.pk] == {date(2025, 3, 10), date(2025, 3, 11)}
    assert expected[left.pk] == {date(2025, 3, 8), date(2025, 3, 9)}
    assert len(expected[cla.pk]) == 4


def test_a_cla_on_leave_is_not_expected(world, cla, cla_bunia):
    Absence.objects.create(
        cla=cla, kind=Absence.Kind.LEAVE, starts_on=date(2025, 3, 9), ends_on=date(2025, 3, 10)
    )
    Absence.objects.create(
        cla=cla_bunia, kind=Absence.Kind.SICK, starts_on=date(2025, 3, 1), ends_on=date(2025, 3, 31)
    )
    expected = expected_reporters(world.mission, date(2025, 3, 8), date(2025, 3, 11))
    assert expected == {cla.pk: {date(2025, 3, 8), date(2025, 3, 11)}}  # cla_bunia: not at all


def test_on_time_late_missing_and_pending(world, cla, cla_bunia):
    now = local(date(2025, 3, 12), 12)
    daily(cla, date(2025, 3, 8))  # a draft: still missing
    daily(cla, date(2025, 3, 10), submitted_at=local(date(2025, 3, 10), 17, 59))
    daily(cla, date(2025, 3, 11), submitted_at=local(date(2025, 3, 12), 8))  # the next morning
    figures = compliance(world.mission, Kind.DAILY, date(2025, 3, 8), date(2025, 3, 12), now=now)
    states = {day: cell.state for day, cell in figures.cells[cla.pk].items()}
    assert states == {
        date(2025, 3, 8): State.MISSING,
        date(2025, 3, 9): State.MISSING,
        date(2025, 3, 10): State.ON_TIME,
        date(2025, 3, 11): State.LATE,
        date(2025, 3, 12): State.PENDING,  # due at 18:00 today
    }
    tally = figures.tallies[cla.pk]
    assert (tally.expected, tally.on_time, tally.late, tally.missing, tally.pending) == (
        5,
        1,
        1,
        2,
        1,
    )
    assert figures.tallies[cla_bunia.pk].missing == 4
    after = compliance(
        world.mission,
        Kind.DAILY,
        date(2025, 3, 12),
        date(2025, 3, 12),
        now=local(date(2025, 3, 12), 18, 1),
    )
    assert after.cells[cla.pk][date(2025, 3, 12)].state == State.MISSING


def test_the_mission_schedule_sets_the_deadline(world, cla):
    ReportingSchedule.objects.create(mission=world.mission, daily_due="20:00")
    daily(cla, date(2025, 3, 10), submitted_at=local(date(2025, 3, 10), 19))
    figures = compliance(
        world.mission,
        Kind.DAILY,
        date(2025, 3, 10),
        date(2025, 3, 10),
        now=local(date(2025, 3, 12), 12),
    )
    assert figures.cells[cla.pk][date(2025, 3, 10)].state == State.ON_TIME


def test_weekly_reports_are_due_the_next_monday_at_noon(world, cla, cla_bunia):
    week = date(2025, 3, 3)
    report = writing.start_report(
        cla=cla, kind=Kind.WEEKLY, day=week, now=local(date(2025, 3, 9), 9)
    )
    writing.save_draft(report, writing.Changes(sections={"trends": "t", "threats": "m"}))
    writing.submit(report, user=cla.user, now=local(date(2025, 3, 10), 11, 59))
    figures = compliance(
        world.mission,
        Kind.WEEKLY,
        date(2025, 3, 3),
        date(2025, 3, 12),
        now=local(date(2025, 3, 12), 12),
    )
    assert figures.periods == [date(2025, 3, 3), date(2025, 3, 10)]
    assert figures.cells[cla.pk][week].state == State.ON_TIME
    assert figures.cells[cla_bunia.pk][week].state == State.MISSING
    assert figures.cells[cla.pk][date(2025, 3, 10)].state == State.PENDING


def test_a_month_of_a_few_hundred_clas_takes_a_handful_of_queries(
    world, django_assert_max_num_queries
):
    users = User.objects.bulk_create(User(username=f"c{n}") for n in range(300))
    profiles = CLAProfile.objects.bulk_create(
        CLAProfile(user=user, staff_id=f"X-{n}", base=world.base_beni)
        for n, user in enumerate(users)
    )
    Deployment.objects.bulk_create(
        Deployment(cla=profile, base=world.base_beni, starts_on=date(2025, 1, 1))
        for profile in profiles
    )
    now = local(date(2025, 3, 12), 12)
    with django_assert_max_num_queries(4):
        figures = compliance(
            world.mission, Kind.DAILY, date(2025, 2, 11), date(2025, 3, 12), now=now
        )
    assert len(figures.cells) == 302
    assert figures.tallies[profiles[0].pk].missing == 29


def test_a_report_sent_on_a_day_off_is_not_counted(world, cla):
    Deployment.objects.filter(cla=cla).update(starts_on=date(2025, 3, 11))
    daily(cla, date(2025, 3, 10), submitted_at=local(date(2025, 3, 10), 12))
    figures = compliance(
        world.mission,
        Kind.DAILY,
        date(2025, 3, 10),
        date(2025, 3, 11),
        now=local(date(2025, 3, 12), 12),
    )
    assert figures.cells[cla.pk][date(2025, 3, 10)].state == State.ON_TIME
    assert figures.tallies[cla.pk].expected == 1  # only the 11th
