"""Coverage: a locality is covered by a working contact; the SVG map and the table show it
by shape and by text."""

from datetime import timedelta
from xml.etree import ElementTree

import pytest
import time_machine

from kiungo.alertnet.coverage import coverage_of
from kiungo.alertnet.mapping import coverage_map
from kiungo.alertnet.models import NetworkPolicy
from kiungo.alertnet.tests.conftest import NOW, contact
from kiungo.geography.models import Area
from kiungo.lib.testing import make_area

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def kalunguta(world):
    """A third locality of Beni's AOR, without coordinates."""
    return make_area(
        world.mission, "CD61010101003", 5, "Kalunguta", Area.objects.get(pcode="CD61010101")
    )


def coverage(world):
    with time_machine.travel(NOW, tick=False):
        return coverage_of([world.base_beni])


def test_covered_needs_a_working_contact(world, mavivi, kalunguta):
    recent = NOW - timedelta(days=3)
    contact(world, "NK-BEN-001", last_heard_at=recent)  # Beni: working
    contact(world, "NK-BEN-002", mavivi, last_heard_at=NOW - timedelta(days=31))  # silent
    contact(world, "NK-BEN-003", mavivi, last_heard_at=recent, consents_to_contact=False)
    contact(world, "NK-BEN-004", mavivi, last_heard_at=recent, opted_out_at=recent)
    contact(world, "NK-BEN-005", mavivi, last_heard_at=recent, active=False)
    result = coverage(world)
    rows = {row.area.name: row for row in result.localities}
    assert rows["Beni"].covered and rows["Beni"].working == 1
    assert not rows["Mavivi"].covered and rows["Mavivi"].contacts == 4
    assert not rows["Kalunguta"].covered and rows["Kalunguta"].contacts == 0
    assert [row.area.name for row in result.uncovered] == ["Kalunguta", "Mavivi"]


def test_the_threshold_is_the_missions(world, mavivi):
    contact(world, "NK-BEN-002", mavivi, last_heard_at=NOW - timedelta(days=31))
    assert not coverage(world).covered
    NetworkPolicy.objects.create(mission=world.mission, silence_days=45)
    assert [row.area.name for row in coverage(world).covered] == ["Mavivi"]


def test_the_map_places_localities_by_coordinates(world, mavivi, kalunguta):
    contact(world, "NK-BEN-001", last_heard_at=NOW)
    drawn = coverage_map(coverage(world).localities)
    assert [point.row.area.name for point in drawn.points] == ["Beni", "Mavivi"]
    assert [row.area.name for row in drawn.unplaced] == ["Kalunguta"]
    beni, mavivi_point = drawn.points
    assert mavivi_point.y < beni.y  # further north, higher up
    assert mavivi_point.x < beni.x  # further west, to the left
    for point in drawn.points:
        assert 0 <= point.x <= drawn.width and 0 <= point.y <= drawn.height


def test_the_page_draws_covered_and_uncovered_by_shape_and_text(client, world, mavivi, kalunguta):
    contact(world, "NK-BEN-001", last_heard_at=NOW - timedelta(days=1))
    client.force_login(world.users["cla"])
    with time_machine.travel(NOW, tick=False):
        page = client.get(f"/network/bases/{world.base_beni.pk}/?lang=fr").content.decode()
    start = page.index("<svg")
    svg = ElementTree.fromstring(page[start : page.index("</svg>", start) + len("</svg>")])
    groups = {g.get("class"): g for g in svg.iter(f"{SVG}g")}
    assert groups["covered"].find(f"{SVG}circle") is not None
    assert "Beni" in groups["covered"].find(f"{SVG}title").text
    assert groups["uncovered"].find(f"{SVG}rect") is not None
    assert "Mavivi" in groups["uncovered"].find(f"{SVG}title").text
    assert "non couverte" in groups["uncovered"].find(f"{SVG}title").text
    # Coordinates are written with a dot, whatever the language.
    assert "," not in groups["covered"].find(f"{SVG}circle").get("cx")
    # The table says it in words; the locality without coordinates is there too.
    assert "Kalunguta" in page and "1 localité n'a pas de coordonnées" in page
    assert "Name of" not in page


def test_the_overview_counts_localities_of_the_bases_in_scope(client, world, mavivi):
    contact(world, "NK-BEN-001", last_heard_at=NOW - timedelta(days=1))
    contact(world, "NK-BUN-001", world.bunia, last_heard_at=NOW - timedelta(days=1))
    client.force_login(world.users["ewo"])
    with time_machine.travel(NOW, tick=False):
        page = client.get("/network/").content.decode()
    # Beni, Mavivi, Butembo, Bunia: Beni and Bunia covered.
    assert "2 of 4 localities covered; 2 not covered." in page
    client.force_login(world.users["manager"])  # North Kivu only: Beni, Mavivi, Butembo
    with time_machine.travel(NOW, tick=False):
        page = client.get("/network/").content.decode()
    assert "1 of 3 localities covered; 2 not covered." in page
    assert "Bunia" not in page
