"""Accountability figures on a constructed history whose right answers are known by hand,
then the page and the CSV: permissions, scope, parameters, the CSV's safety."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from kiungo.accountability.figures import figures, percentile
from kiungo.accountability.views import human_duration
from kiungo.alerts.models import Incident
from kiungo.lib.testing import check_matrix, make_unit
from kiungo.people.models import Role, RoleAssignment, User

ACCOUNTABLE = {"administrator", "leadership", "ewo", "other_ewo"}

# The period: March 2025 in the mission's time zone (Africa/Lubumbashi, UTC+2).
START = datetime(2025, 2, 28, 22, 0, tzinfo=UTC)
END = datetime(2025, 3, 31, 22, 0, tzinfo=UTC)
MARCH = {"start": "2025-03-01", "end": "2025-03-31"}
T0 = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def incident(
    world,
    unit,
    *,
    base=None,
    area=None,
    at=T0,
    ack=None,
    respond=None,
    status="closed",
    alerts=1,
    escalations=0,
    mission=None,
    **extra,
):
    """An incident reported at `at`, acknowledged `ack` and answered `respond` minutes later;
    deadlines 15 min to acknowledge and 60 min to respond."""
    mission = mission or world.mission
    fields = {
        "mission": mission,
        "level": mission.levels.get(code="critical"),
        "threat": "attack",
        "area": area,
        "unit": unit,
        "base": base,
        "status": status,
        "first_reported_at": at,
        "last_reported_at": at,
        "routed_at": at if unit else None,
        "acknowledge_due_at": at + 15 * MIN,
        "respond_due_at": at + 60 * MIN,
        "acknowledged_at": at + ack * MIN if ack is not None else None,
        "responded_at": at + respond * MIN if respond is not None else None,
        "response": "patrol_sent" if respond is not None else "",
        "alert_count": alerts,
        "source_count": alerts,
        "escalations": escalations,
    }
    return Incident.objects.create(**{**fields, **extra})


@pytest.fixture
def history(world):
    """Beni (IN): acknowledged after 1, 2, 3, 4 and 100 min, three answered.
    Butembo (IN): one late, one never acknowledged, one dismissed.
    Bunia (BD): one at its base, one reassigned there with no place and no base.
    Then incidents that must not count: merged, unrouted, just before and at the period's end.
    """
    w = world
    beni = {"unit": w.company_beni, "base": w.base_beni, "area": w.beni}
    first = incident(w, **beni, ack=1, respond=10, alerts=1)
    incident(w, **beni, ack=2, respond=20, alerts=2)
    incident(w, **beni, ack=3, respond=30, alerts=3)
    incident(w, **beni, ack=4, alerts=1)
    incident(w, **beni, ack=100, alerts=1, escalations=2, status="open")

    butembo = {"unit": w.company_butembo, "base": w.base_butembo, "area": w.butembo}
    incident(w, **butembo, ack=20, respond=40, escalations=1)
    incident(w, **butembo, escalations=3, status="open")
    incident(w, **butembo, ack=5, alerts=2, escalations=1, status="dismissed")

    incident(w, w.company_bunia, base=w.base_bunia, area=w.bunia, ack=10, respond=30, alerts=4)
    incident(w, w.company_bunia, ack=30, escalations=1)

    incident(w, **beni, ack=1, status="merged", merged_into=first, alerts=0)
    incident(w, None, area=w.beni, ack=1)
    incident(w, **beni, at=START - timedelta(seconds=1), ack=1)
    incident(w, **beni, at=END, ack=1)
    return w


def run(group_by, **kwargs):
    return figures(Incident.objects.all(), group_by, START, END, **kwargs)


def summary(row):
    """Every figure of a row, durations in minutes."""

    def minutes(value):
        return None if value is None else value / MIN

    return {
        "key": row.key,
        "label": row.label,
        "kind": row.kind,
        "received": row.received,
        "alerts": row.alerts,
        "dismissed": row.dismissed,
        "acknowledge_due": row.acknowledge_due,
        "acknowledged": row.acknowledged,
        "in_time": row.acknowledged_in_time,
        "share_in_time": row.share_in_time,
        "ack_median": minutes(row.acknowledge_median),
        "ack_p90": minutes(row.acknowledge_p90),
        "respond_due": row.respond_due,
        "responded": row.responded,
        "without_response": row.without_response,
        "share_without_response": row.share_without_response,
        "respond_median": minutes(row.respond_median),
        "respond_p90": minutes(row.respond_p90),
        "escalations": row.escalations,
        "worst": row.worst,
    }


def expected(key, label, kind="group", **figures):
    return {"key": key, "label": label, "kind": kind, "worst": False, **figures}


BENI = dict(
    received=5,
    alerts=8,
    dismissed=0,
    acknowledge_due=5,
    acknowledged=5,
    in_time=4,
    share_in_time=0.8,
    ack_median=3,
    ack_p90=100,
    respond_due=5,
    responded=3,
    without_response=2,
    share_without_response=0.4,
    respond_median=20,
    respond_p90=30,
    escalations=2,
)
BUTEMBO = dict(
    received=3,
    alerts=4,
    dismissed=1,
    acknowledge_due=2,
    acknowledged=1,
    in_time=0,
    share_in_time=0.0,
    ack_median=20,
    ack_p90=20,
    respond_due=2,
    responded=1,
    without_response=1,
    share_without_response=0.5,
    respond_median=40,
    respond_p90=40,
    escalations=5,
)
BUNIA_BASE = dict(
    received=1,
    alerts=4,
    dismissed=0,
    acknowledge_due=1,
    acknowledged=1,
    in_time=1,
    share_in_time=1.0,
    ack_median=10,
    ack_p90=10,
    respond_due=1,
    responded=1,
    without_response=0,
    share_without_response=0.0,
    respond_median=30,
    respond_p90=30,
    escalations=0,
)
NOWHERE = dict(  # the Bunia company's incident with no place and no base
    received=1,
    alerts=1,
    dismissed=0,
    acknowledge_due=1,
    acknowledged=1,
    in_time=0,
    share_in_time=0.0,
    ack_median=30,
    ack_p90=30,
    respond_due=1,
    responded=0,
    without_response=1,
    share_without_response=1.0,
    respond_median=None,
    respond_p90=None,
    escalations=1,
)
BUNIA_UNIT = dict(
    received=2,
    alerts=5,
    dismissed=0,
    acknowledge_due=2,
    acknowledged=2,
    in_time=1,
    share_in_time=0.5,
    ack_median=10,  # nearest rank of [10, 30]: rank ceil(1.0) = 1
    ack_p90=30,
    respond_due=2,
    responded=1,
    without_response=1,
    share_without_response=0.5,
    respond_median=30,
    respond_p90=30,
    escalations=1,
)
INDIA = dict(  # Beni and Butembo
    received=8,
    alerts=12,
    dismissed=1,
    acknowledge_due=7,
    acknowledged=6,
    in_time=4,
    share_in_time=4 / 7,
    ack_median=3,  # [1, 2, 3, 4, 20, 100]: rank 3
    ack_p90=100,  # rank ceil(5.4) = 6
    respond_due=7,
    responded=4,
    without_response=3,
    share_without_response=3 / 7,
    respond_median=20,  # [10, 20, 30, 40]: rank 2
    respond_p90=40,
    escalations=7,
)
TOTAL = dict(
    received=10,
    alerts=17,
    dismissed=1,
    acknowledge_due=9,
    acknowledged=8,
    in_time=5,
    share_in_time=5 / 9,
    ack_median=4,  # [1, 2, 3, 4, 10, 20, 30, 100]: rank 4
    ack_p90=100,  # rank ceil(7.2) = 8
    respond_due=9,
    responded=5,
    without_response=4,
    share_without_response=4 / 9,
    respond_median=30,  # [10, 20, 30, 30, 40]: rank 3
    respond_p90=40,  # rank ceil(4.5) = 5
    escalations=8,
)


def total():
    return expected("", "Total", "total", **TOTAL)


# The figures.


def test_it_uses_nearest_rank_percentiles():
    assert percentile([], 50) is None
    assert percentile([4, 100, 1, 3, 2], 50) == 3
    assert percentile([4, 100, 1, 3, 2], 90) == 100  # rank ceil(4.5) = 5
    assert percentile(list(range(1, 11)), 90) == 9  # rank 9 exactly, no rounding up
    assert percentile(list(range(1, 11)), 91) == 10
    assert percentile([10, 30], 50) == 10  # even count: the lower middle value
    assert percentile([7], 90) == 7
    assert percentile([5, 6], 0) == 5


def test_it_groups_by_unit(history):
    rows = [summary(row) for row in run("unit")]
    assert rows == [
        expected("banbatt-a", "Banbatt A", **BUNIA_UNIT),
        expected("indbatt-a", "Indbatt A", **BENI),
        {**expected("indbatt-b", "Indbatt B", **BUTEMBO), "worst": True},
        total(),
    ]


def test_it_groups_by_base(history):
    rows = [summary(row) for row in run("base")]
    assert rows == [
        expected("beni", "Beni", **BENI),
        expected("bunia", "Bunia", **BUNIA_BASE),
        {**expected("butembo", "Butembo", **BUTEMBO), "worst": True},
        {**expected("", "No base", "none", **NOWHERE), "worst": True},
        total(),
    ]


def test_it_groups_by_contingent(history):
    rows = [summary(row) for row in run("contingent")]
    assert rows == [
        {**expected("BD", "Bangladesh", **BUNIA_UNIT), "worst": True},  # 1/2 < 4/7
        expected("IN", "India", **INDIA),
        total(),
    ]


def test_it_groups_by_territory(history):
    rows = [summary(row) for row in run("area")]
    assert rows == [
        expected("CD6101", "Territoire de Beni", **BENI),
        expected("CD5401", "Territoire de Bunia", **BUNIA_BASE),
        {**expected("CD6102", "Territoire de Butembo", **BUTEMBO), "worst": True},
        {**expected("", "Unplaced", "none", **NOWHERE), "worst": True},
        total(),
    ]


def test_it_groups_by_province(history):
    rows = [summary(row) for row in run("area", level=1)]
    assert rows == [
        expected("CD54", "Ituri", **BUNIA_BASE),
        expected("CD61", "Nord-Kivu", **INDIA),
        {**expected("", "Unplaced", "none", **NOWHERE), "worst": True},
        total(),
    ]


def test_an_incident_placed_above_the_level_keeps_its_own_area(world):
    incident(world, world.company_beni, area=world.north_kivu, ack=1)
    incident(world, world.company_beni, area=world.beni, ack=1)
    rows = run("area", level=3)
    assert [(row.key, row.label, row.received) for row in rows] == [
        ("CD61", "Nord-Kivu", 1),
        ("CD610101", "Secteur de Beni", 1),
        ("", "Total", 2),
    ]


def test_a_unit_without_contingent_is_multinational(world):
    incident(world, world.sector_north, ack=1)
    rows = run("contingent")
    assert [(row.key, row.label, row.kind, row.received) for row in rows] == [
        ("", "Multinational (no contingent)", "none", 1),
        ("", "Total", "total", 1),
    ]


def test_the_period_includes_its_start_and_excludes_its_end(world):
    unit = world.company_beni
    for at in (START - timedelta(microseconds=1), START, END - timedelta(microseconds=1), END):
        incident(world, unit, at=at, ack=1)
    assert run("unit")[-1].received == 2


def test_merged_and_unrouted_incidents_are_not_counted(world):
    kept = incident(world, world.company_beni, ack=1, alerts=3)
    incident(world, world.company_beni, status="merged", merged_into=kept, alerts=0, ack=1)
    incident(world, None, ack=1, alerts=5)
    assert [(row.label, row.received, row.alerts) for row in run("unit")] == [
        ("Indbatt A", 1, 3),
        ("Total", 1, 3),
    ]


def test_dismissed_incidents_count_apart(world):
    incident(world, world.company_beni, ack=1, respond=5, escalations=1)
    incident(world, world.company_beni, ack=50, status="dismissed", escalations=2, alerts=4)
    row = run("unit")[0]
    assert (row.received, row.dismissed, row.alerts, row.escalations) == (2, 1, 5, 3)
    assert (row.acknowledge_due, row.acknowledged, row.acknowledged_in_time) == (1, 1, 1)
    assert (row.respond_due, row.without_response) == (1, 0)
    assert row.acknowledge_p90 == MIN  # the dismissed incident's 50 min is left out


def test_open_incidents_within_their_deadline_are_not_judged_yet(world):
    now = T0 + 10 * MIN
    incident(world, world.company_beni, status="open")  # 5 min left to acknowledge
    incident(world, world.company_beni, ack=5, status="open")  # 50 min left to respond
    incident(world, world.company_beni, at=T0 - 70 * MIN, status="open")  # both overdue
    row = run("unit", now=now)[0]
    assert (row.received, row.acknowledge_due, row.acknowledged_in_time) == (3, 2, 1)
    assert (row.respond_due, row.without_response) == (1, 1)
    # A closed incident is judged whatever its deadlines.
    incident(world, world.company_beni, status="closed")
    row = run("unit", now=now)[0]
    assert (row.acknowledge_due, row.respond_due, row.without_response) == (3, 2, 2)


def test_a_missing_deadline_is_never_missed_and_clock_skew_is_zero(world):
    incident(world, world.company_beni, ack=90, acknowledge_due_at=None)
    incident(world, world.company_beni, at=T0 + 5 * MIN, acknowledged_at=T0)  # phone ahead
    row = run("unit")[0]
    assert row.acknowledged_in_time == 2
    assert sorted(row.acknowledge_times) == [timedelta(0), 90 * MIN]


def test_no_worst_row_when_all_shares_are_equal(world):
    incident(world, world.company_beni, ack=1)
    incident(world, world.company_bunia, ack=2)
    assert not any(row.worst for row in run("unit"))


def test_an_empty_period_has_only_an_empty_total(world):
    row = summary(run("area")[0])
    assert row["received"] == 0 and row["share_in_time"] is None and row["ack_median"] is None


@pytest.mark.parametrize("group_by, queries", [("unit", 1), ("contingent", 1), ("area", 2)])
def test_it_takes_one_query_whatever_the_number_of_incidents(
    history, django_assert_num_queries, group_by, queries
):
    with django_assert_num_queries(queries):
        run(group_by)


def test_an_unknown_grouping_is_refused(world):
    with pytest.raises(ValueError):
        run("threat")


def test_durations_read_like_a_clock():
    assert human_duration(None) == "—"
    assert human_duration(timedelta(seconds=45)) == "45 s"
    assert human_duration(14 * MIN + timedelta(seconds=59)) == "14 min"
    assert human_duration(125 * MIN) == "2 h 05"
    assert human_duration(timedelta(days=3, hours=4, minutes=30)) == "3 d 04 h"


# The page and the CSV.

PAGE, CSV_URL = "/accountability/", "/accountability.csv"


def test_page_permissions(client, world):
    check_matrix(client, world, PAGE, ACCOUNTABLE)


def test_csv_permissions(client, world):
    check_matrix(client, world, CSV_URL, ACCOUNTABLE)


def get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def csv_rows(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_page_shows_the_figures(client, history):
    response = get(client, history.users["ewo"], PAGE, group="unit", **MARCH)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Indbatt A" in html and "Banbatt A" in html
    assert "80%" in html and "(4/5)" in html  # Beni in time
    assert "3 min" in html and "1 h 40" in html  # Beni median and 90th percentile
    assert "56%" in html  # the total: 5 of 9 in time
    assert html.count("lowest share in time") == 1  # Indbatt B, at 0 %
    worst = html.index("lowest share in time")
    assert html.rfind("Indbatt B", 0, worst) > html.rfind("Indbatt A", 0, worst)
    assert "/accountability.csv?mission=" in html and "start=2025-03-01" in html
    assert 'href="/accountability/"' in html  # the navigation link


def test_the_navigation_link_is_only_for_those_who_may_see_it(client, world):
    client.force_login(world.users["analyst"])
    assert 'href="/accountability/"' not in client.get("/").content.decode()


def test_csv_has_every_figure_in_seconds(client, history):
    response = get(client, history.users["leadership"], CSV_URL, group="unit", **MARCH)
    assert "attachment" in response["Content-Disposition"]
    assert "TESTMISSION-unit-2025-03-01-2025-03-31.csv" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [row["label"] for row in rows] == ["Banbatt A", "Indbatt A", "Indbatt B", "Total"]
    assert rows[1] == {
        "row": "group",
        "group_by": "unit",
        "key": "indbatt-a",
        "label": "Indbatt A",
        "incidents_received": "5",
        "alerts_received": "8",
        "dismissed": "0",
        "acknowledge_due": "5",
        "acknowledged": "5",
        "acknowledged_in_time": "4",
        "share_acknowledged_in_time": "0.8000",
        "acknowledge_median_seconds": "180",
        "acknowledge_p90_seconds": "6000",
        "respond_due": "5",
        "responded": "3",
        "without_response": "2",
        "share_without_response": "0.4000",
        "respond_median_seconds": "1200",
        "respond_p90_seconds": "1800",
        "escalation_steps": "2",
    }
    assert rows[-1]["row"] == "total" and rows[-1]["incidents_received"] == "10"
    assert rows[-1]["share_acknowledged_in_time"] == "0.5556"


def test_csv_shows_not_applicable_as_empty_cells(client, history):
    rows = csv_rows(get(client, history.users["ewo"], CSV_URL, group="area", **MARCH))
    unplaced = next(row for row in rows if row["row"] == "none")
    assert unplaced["label"] == "Unplaced" and unplaced["key"] == ""
    assert unplaced["respond_median_seconds"] == "" and unplaced["respond_p90_seconds"] == ""


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)"])
def test_csv_cells_cannot_become_formulas(client, world, name):
    unit = make_unit(world.mission, "evil", 4, world.battalion_a, "IN")
    unit.name = name
    unit.save()
    incident(world, unit, ack=1)
    rows = csv_rows(get(client, world.users["ewo"], CSV_URL, group="unit", **MARCH))
    assert rows[0]["label"] == "'" + name


def test_a_user_sees_only_the_incidents_in_scope(client, history):
    ituri_lead = User.objects.create_user("ituri_lead", password="x")
    assignment = RoleAssignment.objects.create(
        user=ituri_lead, role=Role.LEADERSHIP, mission=history.mission, scope="areas"
    )
    assignment.areas.set([history.ituri])
    rows = csv_rows(get(client, ituri_lead, CSV_URL, group="unit", **MARCH))
    # Not the unplaced Bunia incident: unplaced incidents are for whole-mission scopes.
    assert [(row["label"], row["incidents_received"]) for row in rows] == [
        ("Banbatt A", "1"),
        ("Total", "1"),
    ]


def test_other_missions_do_not_count(client, history):
    w = history
    incident(w, w.other_base.unit, base=w.other_base, mission=w.other_mission, ack=1)
    rows = csv_rows(get(client, w.users["ewo"], CSV_URL, **MARCH))
    assert rows[-1]["incidents_received"] == "10"
    rows = csv_rows(get(client, w.users["other_ewo"], CSV_URL, **MARCH))
    assert [(row["key"], row["incidents_received"]) for row in rows] == [
        ("rwanbatt-a", "1"),
        ("", "1"),
    ]
    # Asking for a mission out of scope is a bad parameter, not a way in.
    response = get(client, w.users["other_ewo"], CSV_URL, mission=w.mission.pk, **MARCH)
    assert response.status_code == 400


def test_someone_who_sees_several_missions_chooses_one(client, history, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x")
    w = history
    incident(w, w.other_base.unit, base=w.other_base, mission=w.other_mission, ack=1)
    html = get(client, root, PAGE, **MARCH).content.decode()
    assert '<select name="mission"' in html
    rows = csv_rows(get(client, root, CSV_URL, mission=w.other_mission.pk, **MARCH))
    assert rows[-1]["incidents_received"] == "1"


def test_dates_are_whole_days_in_the_mission_time_zone(client, world):
    lubumbashi = timedelta(hours=2)
    for local in ("2025-02-28 23:59", "2025-03-01 00:00", "2025-03-31 23:59", "2025-04-01 00:00"):
        at = datetime.fromisoformat(local).replace(tzinfo=UTC) - lubumbashi
        incident(world, world.company_beni, at=at, ack=1)
    rows = csv_rows(get(client, world.users["ewo"], CSV_URL, **MARCH))
    assert rows[-1]["incidents_received"] == "2"


@time_machine.travel(datetime(2025, 3, 31, 23, 0, tzinfo=UTC), tick=False)
def test_the_default_period_is_the_last_30_days_in_mission_time(client, world):
    # 23:00 UTC is already 1 April in Lubumbashi.
    incident(world, world.company_beni, at=datetime(2025, 3, 2, 21, 59, tzinfo=UTC), ack=1)
    incident(world, world.company_beni, at=datetime(2025, 3, 2, 22, 0, tzinfo=UTC), ack=1)
    response = get(client, world.users["ewo"], CSV_URL)
    assert "2025-03-03-2025-04-01.csv" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[-1]["incidents_received"] == "1"
    html = get(client, world.users["ewo"], PAGE).content.decode()
    assert 'value="2025-03-03"' in html and 'value="2025-04-01"' in html


@pytest.mark.parametrize(
    "params",
    [
        {"group": "threat"},
        {"start": "yesterday"},
        {"end": "2025-02-30"},
        {"start": "2025-03-31", "end": "2025-03-01"},
        {"start": "0001-01-01"},
        {"end": "9999-12-31"},
        {"level": "9"},
        {"mission": "nope"},
        {"mission": "\x00"},
        {"start": "", "end": "0001-01-05"},
    ],
)
def test_bad_parameters_are_refused_with_the_form_errors(client, world, params):
    for url in (PAGE, CSV_URL):
        response = get(client, world.users["ewo"], url, **{**MARCH, **params})
        assert response.status_code == 400, (url, params)
        assert 'class="errorlist' in response.content.decode()
