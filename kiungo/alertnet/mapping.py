"""The coverage map: localities placed by their coordinates in an inline SVG.

No tiles and no script (field offices are often offline): the server computes each point's
position (an equirectangular projection, longitudes shrunk by the cosine of the middle
latitude so that distances look right near the equator as further north) and the template
draws covered localities as filled circles and uncovered ones as hollow squares with a cross,
each with its name and a text title, so the map reads without colour. The same rows are shown
as a table beside it.
"""

import math
from dataclasses import dataclass

from kiungo.alertnet.coverage import LocalityCoverage

WIDTH = 640
MARGIN = 40
MAX_HEIGHT = 640
LABELS_UP_TO = 60  # beyond this many points, names only in the titles and the table


@dataclass
class Point:
    row: LocalityCoverage
    x: float
    y: float

    # SVG coordinates as text: a template would localise a float ("12,5" in French).
    @property
    def cx(self) -> str:
        return f"{self.x:.1f}"

    @property
    def cy(self) -> str:
        return f"{self.y:.1f}"

    @property
    def left(self) -> str:
        return f"{self.x - 6:.1f}"

    @property
    def top(self) -> str:
        return f"{self.y - 6:.1f}"


@dataclass
class CoverageMap:
    width: int
    height: int
    points: list[Point]
    labelled: bool
    unplaced: list[LocalityCoverage]  # no coordinates: in the table only


def coverage_map(rows: list[LocalityCoverage]) -> CoverageMap:
    placed = [row for row in rows if row.area.has_point]
    unplaced = [row for row in rows if not row.area.has_point]
    if not placed:
        return CoverageMap(WIDTH, 0, [], False, unplaced)
    lats = [row.area.latitude for row in placed]
    lons = [row.area.longitude for row in placed]
    shrink = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = max((max(lons) - min(lons)) * shrink, 1e-6)
    span_y = max(max(lats) - min(lats), 1e-6)
    inner = WIDTH - 2 * MARGIN
    scale = min(inner / span_x, (MAX_HEIGHT - 2 * MARGIN) / span_y)
    if len(placed) == 1:
        scale = 0
    height = int(span_y * scale) + 2 * MARGIN if len(placed) > 1 else 2 * MARGIN
    offset_x = (inner - span_x * scale) / 2
    points = [
        Point(
            row,
            round(MARGIN + offset_x + (row.area.longitude - min(lons)) * shrink * scale, 1),
            round(MARGIN + (max(lats) - row.area.latitude) * scale, 1),
        )
        for row in placed
    ]
    return CoverageMap(WIDTH, height, points, len(points) <= LABELS_UP_TO, unplaced)
