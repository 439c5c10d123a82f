"""Accountability: how fast units acknowledged and answered the incidents given to them.

Plain functions over a queryset of incidents (the caller limits it to what the user may see),
so the page, the CSV and any later report share one set of definitions:

- Counted: incidents routed to a unit (`unit` set: an unrouted incident has nobody to answer
  for it), first reported within [start, end), and not merged (a merged incident's alerts and
  deadlines live on in the incident it was merged into, which is counted once).
- Received: every counted incident, dismissed ones included. Alerts received: the sum of their
  `alert_count`. Escalation steps: the sum of their `escalations` (steps actually taken, even
  on an incident dismissed later).
- Dismissed: counted apart and left out of every response figure below: nobody had to answer
  an incident found not credible.
- Due to acknowledge: a non-dismissed incident that was acknowledged, is no longer open, or
  whose deadline to acknowledge has passed at `now`. An open incident still within its deadline
  is not judged yet, so a period that runs to today does not count it against the unit.
- Acknowledged in time: acknowledged_at <= acknowledge_due_at (with no deadline at all, any
  acknowledgement is in time). Share in time: acknowledged in time / due to acknowledge.
- Time to acknowledge: acknowledged_at - first_reported_at, over the acknowledged non-dismissed
  incidents; time to respond: responded_at (response decided) - first_reported_at, likewise.
  A negative time (a reporter's phone clock running ahead) counts as zero.
- Without response: due to respond (the same rule, with responded_at and respond_due_at) and
  no response decided. Share without response: without response / due to respond.
- Median and 90th percentile: nearest rank (see `percentile`).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kiungo.alerts.models import Incident
from kiungo.geography.models import Area
from kiungo.lib.validators import country_name

GROUPINGS = ("unit", "base", "contingent", "area")
DEFAULT_AREA_LEVEL = Area.Level.TERRITORY

GROUP = "group"  # a unit, base, contingent or area
NONE = "none"  # the incidents without one: no base, no contingent, not placed
TOTAL = "total"

_FIELDS = (
    "status",
    "alert_count",
    "escalations",
    "first_reported_at",
    "acknowledge_due_at",
    "acknowledged_at",
    "respond_due_at",
    "responded_at",
)
_GROUP_FIELDS = {
    "unit": ("unit_id", "unit__code", "unit__name"),
    "base": ("base_id", "base__code", "base__name"),
    "contingent": ("unit__contingent",),
    "area": ("mission_id", "area__pcode", "area__name", "area__level"),
}


def percentile(values: Sequence, p: int):
    """The p-th percentile by nearest rank: the value at rank ceil(p × n / 100) (at least 1)
    of the values sorted in ascending order; None if there are none.

    Always an observed value, so "90 % of incidents were acknowledged within X" holds as said.
    The median is p = 50: for an even count, the lower of the two middle values.
    E.g. [1, 2, 3, 4, 100]: median 3 (rank 3), 90th percentile 100 (rank ceil(4.5) = 5).
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-p * len(ordered) // 100))  # integer ceiling, no float rounding
    return ordered[rank - 1]


def _elapsed(start: datetime, end: datetime) -> timedelta:
    return max(end - start, timedelta(0))


def _judged(done: datetime | None, due: datetime | None, still_open: bool, now: datetime) -> bool:
    """Whether a deadline can be judged yet: met, the incident ended, or the deadline passed."""
    return done is not None or not still_open or (due is not None and due < now)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Row:
    """The figures of one group (or of all of them: kind TOTAL)."""

    key: str  # unit or base code, ISO country code, P-code; "" for NONE and TOTAL
    label: str
    kind: str = GROUP
    received: int = 0
    alerts: int = 0
    dismissed: int = 0
    escalations: int = 0
    acknowledge_due: int = 0
    acknowledged: int = 0
    acknowledged_in_time: int = 0
    respond_due: int = 0
    responded: int = 0
    without_response: int = 0
    worst: bool = False  # among the lowest shares acknowledged in time
    acknowledge_times: list[timedelta] = field(default_factory=list, repr=False)
    respond_times: list[timedelta] = field(default_factory=list, repr=False)

    def add(self, incident: dict, now: datetime) -> None:
        """Count one incident (a dict of `_FIELDS`) by the rules of the module docstring."""
        self.received += 1
        self.alerts += incident["alert_count"]
        self.escalations += incident["escalations"]
        if incident["status"] == Incident.Status.DISMISSED:
            self.dismissed += 1
            return
        still_open = incident["status"] == Incident.Status.OPEN
        reported = incident["first_reported_at"]

        acknowledged, due = incident["acknowledged_at"], incident["acknowledge_due_at"]
        if _judged(acknowledged, due, still_open, now):
            self.acknowledge_due += 1
        if acknowledged is not None:
            self.acknowledged += 1
            self.acknowledge_times.append(_elapsed(reported, acknowledged))
            if due is None or acknowledged <= due:
                self.acknowledged_in_time += 1

        responded, due = incident["responded_at"], incident["respond_due_at"]
        if _judged(responded, due, still_open, now):
            self.respond_due += 1
            if responded is None:
                self.without_response += 1
        if responded is not None:
            self.responded += 1
            self.respond_times.append(_elapsed(reported, responded))

    @property
    def share_in_time(self) -> float | None:
        return _share(self.acknowledged_in_time, self.acknowledge_due)

    @property
    def share_without_response(self) -> float | None:
        return _share(self.without_response, self.respond_due)

    @property
    def acknowledge_median(self) -> timedelta | None:
        return percentile(self.acknowledge_times, 50)

    @property
    def acknowledge_p90(self) -> timedelta | None:
        return percentile(self.acknowledge_times, 90)

    @property
    def respond_median(self) -> timedelta | None:
        return percentile(self.respond_times, 50)

    @property
    def respond_p90(self) -> timedelta | None:
        return percentile(self.respond_times, 90)


def counted(incidents: QuerySet, start: datetime, end: datetime) -> QuerySet:
    """The incidents the figures count: routed, not merged, first reported in [start, end)."""
    return (
        incidents.filter(
            unit__isnull=False, first_reported_at__gte=start, first_reported_at__lt=end
        )
        .exclude(status=Incident.Status.MERGED)
        .order_by()  # the default ordering would only cost a sort
    )


Group = tuple[object, str, str, str]  # (identity, key, label, kind)


def _rolled_up(pcode: str, own_level: int, name: str, level: int, names: dict) -> Group:
    """The area at `level` holding the area `pcode` (its P-code is a prefix of `pcode`).

    An incident placed only at a coarser level than `level` keeps its own area: it cannot be
    put in any one of the finer areas.
    """
    if own_level > level:
        for end in range(len(pcode) - 1, 2, -1):
            if pcode[:end] in names:
                return pcode[:end], pcode[:end], names[pcode[:end]], GROUP
    return pcode, pcode, name, GROUP


_country_name = lru_cache(maxsize=None)(country_name)  # a lookup per incident otherwise


def _by_contingent(incident: dict) -> Group:
    code = incident["unit__contingent"]
    if not code:
        return "", "", _("Multinational (no contingent)"), NONE
    return code, code, _country_name(code), GROUP


def _grouper(group_by: str, incidents: list[dict], level: int) -> Callable[[dict], Group]:
    if group_by in ("unit", "base"):
        missing = _("No unit") if group_by == "unit" else _("No base")

        def by_object(incident: dict) -> Group:
            identity = incident[f"{group_by}_id"]
            if identity is None:
                return None, "", missing, NONE
            return identity, incident[f"{group_by}__code"], incident[f"{group_by}__name"], GROUP

        return by_object
    if group_by == "contingent":
        return _by_contingent

    missions = {incident["mission_id"] for incident in incidents}
    names = (
        dict(Area.objects.filter(mission_id__in=missions, level=level).values_list("pcode", "name"))
        if missions
        else {}
    )
    cache: dict[str, Group] = {}

    def by_area(incident: dict) -> Group:
        pcode = incident["area__pcode"]
        if pcode is None:
            return (None, "", _("Unplaced"), NONE)
        if pcode not in cache:
            cache[pcode] = _rolled_up(
                pcode, incident["area__level"], incident["area__name"], level, names
            )
        return cache[pcode]

    return by_area


def _mark_worst(rows: list[Row]) -> None:
    """Flag the rows with the lowest share acknowledged in time, unless all shares are equal."""
    shares = [row.share_in_time for row in rows if row.share_in_time is not None]
    if len(set(shares)) < 2:
        return
    lowest = min(shares)
    for row in rows:
        row.worst = row.share_in_time == lowest


def figures(
    incidents: QuerySet,
    group_by: str,
    start: datetime,
    end: datetime,
    *,
    level: int = DEFAULT_AREA_LEVEL,
    now: datetime | None = None,
) -> list[Row]:
    """One row per group (by label; the incidents without a group last), then the total.

    `group_by`: "unit" (the responsible unit), "base", "contingent" (the unit's troop-
    contributing country) or "area" (the incident's place rolled up to the administrative
    `level`). One query for the incidents (two for areas), grouped here in Python: the
    percentiles need every duration, which SQLite cannot compute.
    """
    if group_by not in GROUPINGS:
        raise ValueError(f"group_by must be one of {GROUPINGS}, not {group_by!r}")
    now = now or timezone.now()
    fields = (*_FIELDS, *_GROUP_FIELDS[group_by])
    rows = list(counted(incidents, start, end).values(*fields))
    group_of = _grouper(group_by, rows, level)
    groups: dict[object, Row] = {}
    total = Row("", _("Total"), TOTAL)
    for incident in rows:
        identity, key, label, kind = group_of(incident)
        row = groups.get(identity)
        if row is None:
            row = groups[identity] = Row(key, label, kind)
        row.add(incident, now)
        total.add(incident, now)
    ordered = sorted(
        groups.values(), key=lambda row: (row.kind == NONE, row.label.casefold(), row.key)
    )
    _mark_worst(ordered)
    return [*ordered, total]
