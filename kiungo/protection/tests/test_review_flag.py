"""A plan past its review date is flagged: list filter, plan and committee pages, the lists of
the CLA and the CLA manager. "Past" is counted in the mission's time zone."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from kiungo.protection import selectors

pytestmark = pytest.mark.django_db

# The plan's review date is 2026-12-31; Lubumbashi is UTC+2.
BEFORE = datetime(2026, 12, 31, 21, 30, tzinfo=UTC)  # 23:30 on the 31st in Beni
AFTER = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)  # 00:30 on 1 January in Beni


def _list(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("committees"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_flag_follows_the_missions_calendar(client, world, active_plan, bunia_committee):
    with time_machine.travel(BEFORE, tick=False):
        assert not selectors.plans_past_review(world.users["cla"]).exists()
        assert "Past review" not in _list(client, world.users["cla"])
    with time_machine.travel(AFTER, tick=False):
        assert list(selectors.plans_past_review(world.users["cla"])) == [active_plan]
        for name in ("cla", "manager"):
            page = _list(client, world.users[name])
            assert "1 plan is past its review date" in page
            assert "Past review" in page
        # The Bunia CLA's list does not hold the Beni plan.
        assert "past its review date" not in _list(client, world.users["cla_bunia"])


def test_the_list_filter_keeps_only_committees_past_review(
    client, world, active_plan, bunia_committee
):
    with time_machine.travel(AFTER, tick=False):
        filtered = _list(client, world.users["ewo"], past_review="1")
        everything = _list(client, world.users["ewo"])
    assert "Comité de protection de Beni" in filtered
    assert "Comité de protection de Bunia" not in filtered
    assert "Comité de protection de Bunia" in everything


def test_the_plan_and_committee_pages_show_the_flag(client, world, active_plan):
    def page(url):
        client.force_login(world.users["cla"])  # a session made at the travelled time
        response = client.get(url)
        assert response.status_code == 200
        return response.content.decode()

    for url in (
        reverse("plan-detail", args=[active_plan.pk]),
        reverse("committee-detail", args=[active_plan.committee_id]),
    ):
        with time_machine.travel(BEFORE, tick=False):
            assert "Past review" not in page(url)
        with time_machine.travel(AFTER, tick=False):
            assert "Past review" in page(url)


def test_a_draft_or_superseded_plan_is_not_flagged(world, active_plan):
    from kiungo.protection import plans

    draft = plans.revise(active_plan, world.users["cla"])
    plans.activate(draft, world.users["cla"])
    draft.review_on = active_plan.review_on.replace(year=2030)
    draft.save()
    with time_machine.travel(AFTER, tick=False):
        assert not selectors.plans_past_review(world.users["cla"]).exists()
