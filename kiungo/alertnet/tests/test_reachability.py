"""Reachability per locality over the last network tests."""

from datetime import timedelta

import pytest

from kiungo.alertnet import health
from kiungo.alertnet.tests.conftest import NOW, contact

pytestmark = pytest.mark.django_db


def test_share_answered_per_locality_and_test(world, mavivi, channel):
    beni = [contact(world, f"NK-BEN-00{i}") for i in (1, 2, 3)]
    far = contact(world, "NK-BEN-004", mavivi)
    first = health.start_test(world.base_beni, now=NOW)
    second = health.start_test(world.base_beni, now=NOW + timedelta(days=30))
    answered = [(first, beni[0]), (first, beni[1]), (first, far), (second, beni[2])]
    for test, who in answered:
        row = test.recipients.get(contact=who)
        health.mark_answered(row.pk, test.started_at + timedelta(hours=1))

    reach = health.reachability(world.base_beni)

    assert [column.test for column in reach.columns] == [first, second]  # oldest first
    assert [(c.total.answered, c.total.sent) for c in reach.columns] == [(3, 4), (1, 4)]
    assert [c.total.percent for c in reach.columns] == [75, 25]
    by_name = {row.area_name: row for row in reach.rows}
    assert [(c.answered, c.sent) for c in by_name["Beni"].cells] == [(2, 3), (1, 3)]
    assert [(c.answered, c.sent) for c in by_name["Mavivi"].cells] == [(1, 1), (0, 1)]
    assert by_name["Mavivi"].cells[1].percent == 0


def test_only_the_last_tests_are_shown(world, channel):
    contact(world, "NK-BEN-001")
    tests = [health.start_test(world.base_beni, now=NOW + timedelta(days=i)) for i in range(8)]
    reach = health.reachability(world.base_beni, last=6)
    assert [column.test for column in reach.columns] == tests[2:]


def test_a_contact_counts_where_they_lived_when_tested(world, mavivi, channel):
    moving = contact(world, "NK-BEN-001")
    health.start_test(world.base_beni, now=NOW)
    moving.home_locality = mavivi
    moving.save()
    health.start_test(world.base_beni, now=NOW + timedelta(days=1))
    rows = {row.area_name: row for row in health.reachability(world.base_beni).rows}
    assert [c.sent for c in rows["Beni"].cells] == [1, 0]
    assert [c.sent for c in rows["Mavivi"].cells] == [0, 1]


def test_the_health_page_shows_the_figures(client, world, channel):
    who = contact(world, "NK-BEN-001")
    contact(world, "NK-BEN-002")
    test = health.start_test(world.base_beni, now=NOW)
    health.mark_answered(test.recipients.get(contact=who).pk, NOW + timedelta(hours=1))
    client.force_login(world.users["manager"])
    page = client.get(f"/network/bases/{world.base_beni.pk}/health/").content.decode()
    assert "1/2 (50%)" in page
    assert "Name of" not in page and who.phone not in page


def test_the_overview_shows_each_bases_last_test(client, world, channel):
    who = contact(world, "NK-BEN-001")
    contact(world, "NK-BEN-002")
    health.start_test(world.base_beni, now=NOW - timedelta(days=40))
    test = health.start_test(world.base_beni, now=NOW)
    health.mark_answered(test.recipients.get(contact=who).pk, NOW + timedelta(hours=1))
    client.force_login(world.users["ewo"])
    page = client.get("/network/").content.decode()
    assert "2026-03-10</a>: 1/2 answered (50%)" in page
