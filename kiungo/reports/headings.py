"""The headings of each report type: defaults in code (translated), or the mission's own.

A mission's `ReportHeading` rows for a kind replace the defaults for that kind entirely (once
an administrator copied them with the admin action and renamed, reordered, disabled or added
some). A row keeping a default key with an empty title shows the default's translated name.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from kiungo.reports.models import Kind, ReportHeading

# kind -> [(key, title, required)]
DEFAULTS = {
    Kind.DAILY: [
        ("security", _("Security situation"), True),
        ("armed_actors", _("Movements and activities of armed actors"), False),
        ("incidents", _("Incidents and alerts of the day"), False),
        ("activities", _("Activities carried out (meetings, visits, outreach)"), False),
        ("humanitarian", _("Humanitarian and displacement situation"), False),
        ("perceptions", _("Community perceptions"), False),
        ("recommendations", _("Recommendations"), False),
    ],
    Kind.WEEKLY: [
        ("trends", _("Analysis of trends"), True),
        ("threats", _("Main threats and outlook"), True),
        ("protection_plans", _("Protection-plan follow-up"), False),
        ("network", _("Network health"), False),
        ("recommendations", _("Recommendations"), False),
    ],
    Kind.FLASH: [
        ("what", _("What happened"), True),
        ("actions", _("Actions taken"), False),
        ("recommendations", _("Recommendations"), False),
    ],
}
DEFAULT_TITLES = {(kind, key): title for kind, rows in DEFAULTS.items() for key, title, _r in rows}


@dataclass(frozen=True)
class Heading:
    key: str
    title: str
    required: bool


def headings_for(mission_id: int, kind: str) -> list[Heading]:
    """The active headings of `kind` for the mission, in order."""
    rows = list(ReportHeading.objects.filter(mission_id=mission_id, kind=kind))
    if not rows:
        return [Heading(key, str(title), required) for key, title, required in DEFAULTS[kind]]
    return [
        Heading(
            row.key, row.title or str(DEFAULT_TITLES.get((kind, row.key), row.key)), row.required
        )
        for row in rows
        if row.active
    ]


def install_default_headings(mission) -> int:
    """Copy the default headings to the mission (kinds it has none for); returns rows added."""
    added = 0
    for kind, rows in DEFAULTS.items():
        if ReportHeading.objects.filter(mission=mission, kind=kind).exists():
            continue
        ReportHeading.objects.bulk_create(
            ReportHeading(mission=mission, kind=kind, key=key, position=position, required=required)
            for position, (key, _title, required) in enumerate(rows, start=1)
        )
        added += len(rows)
    return added
