"""The manager's compliance dashboard: per region and per CLA, who reported on time, late or
not at all over a chosen period, and today's state. The figures come from compliance.py."""

from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from kiungo.geography.models import Area
from kiungo.people.access import Capability, may, visible_clas, visible_missions
from kiungo.reports import periods
from kiungo.reports.compliance import Cell, State, Tally, compliance
from kiungo.reports.forms import ComplianceFilterForm
from kiungo.reports.models import Kind

STATE_LABELS = {
    State.ON_TIME: _("on time"),
    State.LATE: _("late"),
    State.MISSING: _("missing"),
    State.PENDING: _("not yet due"),
    State.NOT_EXPECTED: _("not expected"),
}


@dataclass
class CLARow:
    cla: object
    tally: Tally
    cells: list[tuple[object, Cell]]
    today: Cell | None

    def strip(self) -> str:
        """The row's squares, oldest first, as HTML (built here: a template loop over a few
        thousand cells costs seconds on a large dashboard)."""
        labels = {state: escape(label) for state, label in STATE_LABELS.items()}
        # States and ISO dates are our own words and digits; labels are escaped above.
        return mark_safe(  # noqa: S308
            "".join(
                f'<span class="cell state-{cell.state}" '
                f'title="{start.isoformat()}: {labels[cell.state]}"></span>'
                for start, cell in self.cells
                if cell is not None
            )
        )


@dataclass
class RegionBlock:
    name: str
    tally: Tally = field(default_factory=Tally)
    rows: list[CLARow] = field(default_factory=list)


def _region_of(pcode: str, provinces: list[Area]) -> Area | None:
    return next((p for p in provinces if pcode.startswith(p.pcode)), None)


@login_required
def compliance_dashboard(request):
    if not may(request.user, Capability.VIEW_COMPLIANCE):
        raise PermissionDenied
    missions = list(visible_missions(request.user, Capability.VIEW_COMPLIANCE))
    chosen = request.GET.get("mission")
    mission = next((m for m in missions if str(m.pk) == chosen), None) or (
        missions[0] if missions else None
    )
    if mission is None:
        raise PermissionDenied
    now = timezone.now()
    today = periods.local_today(mission, now)
    clas = list(
        visible_clas(request.user, Capability.VIEW_COMPLIANCE)
        .filter(base__mission=mission)
        .select_related("user", "base__locality")
        .order_by("base__name", "staff_id")
    )
    provinces = list(Area.objects.filter(mission=mission, level=Area.Level.PROVINCE))
    region_of = {cla.pk: _region_of(cla.base.locality.pcode, provinces) for cla in clas}
    regions = sorted({(r.pk, r.name) for r in region_of.values() if r}, key=lambda r: r[1])
    bases = sorted({(cla.base_id, cla.base.name) for cla in clas}, key=lambda b: b[1])
    form = ComplianceFilterForm(
        request.GET or None,
        regions=[(str(pk), name) for pk, name in regions],
        bases=[(str(pk), name) for pk, name in bases],
    )
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    kind = data.get("kind") or Kind.DAILY
    first, last = form.span(today)
    if data.get("region"):
        clas = [c for c in clas if region_of[c.pk] and str(region_of[c.pk].pk) == data["region"]]
    if data.get("base"):
        clas = [c for c in clas if str(c.base_id) == data["base"]]
    ids = [cla.pk for cla in clas]
    figures = compliance(mission, kind, first, last, cla_ids=ids, now=now)
    today_figures = compliance(mission, Kind.DAILY, today, today, cla_ids=ids, now=now)
    blocks: dict[str, RegionBlock] = {}
    total = Tally()
    for cla in clas:
        if cla.pk not in figures.cells and cla.pk not in today_figures.cells:
            continue  # not deployed in the period
        tally = figures.tallies.get(cla.pk, Tally())
        if data.get("only_missing") and not tally.missing:
            continue
        region = region_of[cla.pk]
        block = blocks.setdefault(
            region.name if region else "-", RegionBlock(region.name if region else "-")
        )
        row = CLARow(
            cla=cla,
            tally=tally,
            cells=[(start, figures.cells.get(cla.pk, {}).get(start)) for start in figures.periods],
            today=today_figures.cells.get(cla.pk, {}).get(today),
        )
        block.rows.append(row)
        block.tally.merge(tally)
        total.merge(tally)
    return render(
        request,
        "reports/compliance.html",
        {
            "form": form,
            "mission": mission,
            "missions": missions,
            "kind": Kind(kind),
            "first": first,
            "last": last,
            "today": today,
            "periods": figures.periods,
            "blocks": sorted(blocks.values(), key=lambda b: b.name),
            "total": total,
            "labels": STATE_LABELS,
            "schedule": periods.schedule_for(mission),
        },
    )
