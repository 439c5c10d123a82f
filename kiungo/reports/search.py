"""Search across field reports and alerts: full text (SQLite FTS5, PostgreSQL full-text
search; the indexes and their triggers are in migration 0003_full_text_search) and filters by
area, base, period, type, threat and armed actor.

Results are always drawn from `visible_reports` and `visible_alerts`: a search never shows
what the user may not open. Drafts are found only by their own CLA (visible_reports).
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from kiungo.people.access import Capability, may, visible_alerts, visible_reports

LIMIT = 50
ALERT = "alert"  # the "type" of an alert, beside the report kinds
WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class Criteria:
    text: str = ""
    area: object = None  # an Area: it and everything below it (P-code prefix)
    base: object = None
    first_day: date | None = None
    last_day: date | None = None
    type: str = ""  # a report kind, ALERT, or "" for all
    threat: str = ""
    actor: object = None  # an ArmedActor (alleged perpetrator of a flash report)


@dataclass
class Results:
    reports: list
    alerts: list
    more_reports: bool
    more_alerts: bool


def _words(text: str) -> list[str]:
    return WORD.findall(text)[:20]


# Constant SQL: the user's words are only ever a parameter.
POSTGRES_SQL = {
    "reports_report": "SELECT id FROM reports_report WHERE to_tsvector('simple'::regconfig, "
    "kiungo_report_text(sections)) @@ to_tsquery('simple'::regconfig, %s)",
    "alerts_alert": "SELECT id FROM alerts_alert WHERE to_tsvector('simple'::regconfig, "
    "kiungo_fold(text)) @@ to_tsquery('simple'::regconfig, %s)",
}
SQLITE_SQL = {
    "reports_report": "SELECT rowid FROM reports_report_fts WHERE reports_report_fts MATCH %s",
    "alerts_alert": "SELECT rowid FROM alerts_alert_fts WHERE alerts_alert_fts MATCH %s",
}


def _fold(word: str) -> str:
    """Lower case without accents, as the PostgreSQL index folds (kiungo_fold)."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _matching(table: str, words: list[str]) -> RawSQL:
    """The ids of `table` rows ("reports_report" or "alerts_alert") whose text has every one
    of `words`, each as a prefix."""
    if connection.vendor == "postgresql":
        # Words are letters, digits and "_" only (WORD): no tsquery operator can get in.
        query = " & ".join(f"{_fold(word)}:*" for word in words)
        return RawSQL(POSTGRES_SQL[table], [query])  # noqa: S611 (constant SQL)
    # FTS5 query syntax: each word quoted (no operator can be injected), as a prefix.
    query = " ".join('"' + word.replace('"', '""') + '"*' for word in words)
    return RawSQL(SQLITE_SQL[table], [query])  # noqa: S611 (constant SQL)


def search(user, criteria: Criteria) -> Results:
    c = criteria
    reports = alerts = None
    words = _words(c.text)
    if c.text.strip() and not words:  # only punctuation: nothing can match
        return Results([], [], False, False)
    wants_reports = c.type != ALERT and (
        may(user, Capability.VIEW_REPORTS) or may(user, Capability.WRITE_REPORTS)
    )
    if wants_reports:
        reports = visible_reports(user).select_related("base", "cla", "mission")
        if words:
            reports = reports.filter(pk__in=_matching("reports_report", words))
        if c.type:
            reports = reports.filter(kind=c.type)
        if c.area is not None:
            reports = reports.filter(
                Q(base__locality__pcode__startswith=c.area.pcode)
                | Q(area__pcode__startswith=c.area.pcode)
            )
        if c.base is not None:
            reports = reports.filter(base=c.base)
        if c.first_day:
            reports = reports.filter(period_end__gte=c.first_day)
        if c.last_day:
            reports = reports.filter(period_start__lte=c.last_day)
        if c.threat:
            reports = reports.filter(
                Q(incidents__threat=c.threat) | Q(alerts__threat=c.threat)
            ).distinct()
        if c.actor is not None:
            reports = reports.filter(perpetrators=c.actor).distinct()
        reports = list(reports.order_by("-period_start", "-pk")[: LIMIT + 1])
    # Alerts name no armed actor: a search by actor finds reports only.
    if c.type in ("", ALERT) and c.actor is None and may(user, Capability.VIEW_ALERTS):
        alerts = visible_alerts(user).select_related("area", "mission", "incident")
        if words:
            alerts = alerts.filter(pk__in=_matching("alerts_alert", words))
        if c.area is not None:
            alerts = alerts.filter(area__pcode__startswith=c.area.pcode)
        if c.base is not None:
            alerts = alerts.filter(incident__base=c.base)
        if c.threat:
            alerts = alerts.filter(threat=c.threat)
        # Days of receipt in the server's time zone (UTC): alerts of several missions mix.
        if c.first_day:
            alerts = alerts.filter(received_at__date__gte=c.first_day)
        if c.last_day:
            alerts = alerts.filter(received_at__date__lte=c.last_day)
        alerts = list(alerts.order_by("-received_at", "-pk")[: LIMIT + 1])
    reports, alerts = reports or [], alerts or []
    return Results(
        reports=reports[:LIMIT],
        alerts=alerts[:LIMIT],
        more_reports=len(reports) > LIMIT,
        more_alerts=len(alerts) > LIMIT,
    )
