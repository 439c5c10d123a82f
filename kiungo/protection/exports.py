"""The committee's own copy of its plan, as PDF and DOCX, in the committee's working language.

What the copy holds (the committee's own content): the committee's name and locality, the
plan's version, status and review date, its threats (type, description, alleged perpetrators,
places, times, likelihood, impact, risk level), vulnerabilities and capacities, and its
mitigation measures (who acts, who is responsible, status, due date).

What it leaves out, on purpose (a printed plan travels, and can be seized):
- no names of people: Kiungo keeps none for committee members, and no key contact, CLA,
  officer or user name appears;
- for the requests to the mission, only the answer's kind (accepted, declined, done, or
  awaiting an answer): not the unit that answered, not who answered, not the unit's details
  or reasons, which are internal to the mission and may describe its operations.
"""

from dataclasses import dataclass
from io import BytesIO
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from kiungo.protection.models import MitigationMeasure, ProtectionPlan

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Section:
    title: str
    headers: list[str]
    rows: list[list[str]]


@dataclass
class PlanDocument:
    title: str
    facts: list[tuple[str, str]]
    sections: list[Section]
    texts: list[tuple[str, str]]
    footer: str


def _date(value) -> str:
    return formats.date_format(value, "DATE_FORMAT") if value else "—"


def _local_day(moment, mission):
    return timezone.localdate(moment, ZoneInfo(mission.time_zone)) if moment else None


def _answer(measure: MitigationMeasure) -> str:
    if not measure.is_request:
        return ""
    return (
        MitigationMeasure.Answer(measure.answer).label
        if measure.answer
        else _("Not yet shared with the mission")
    )


def document(plan: ProtectionPlan) -> PlanDocument:
    """The plan's content, translated into the active language (call inside override)."""
    committee = plan.committee
    threats = sorted(
        plan.threats.prefetch_related("perpetrators", "places"),
        key=lambda threat: (threat.risk_rank, threat.pk),
    )
    threat_rows = [
        [
            threat.get_threat_display(),
            threat.description,
            ", ".join(str(actor) for actor in threat.perpetrators.all()) or "—",
            "; ".join([place.name for place in threat.places.all()] + [threat.places_text]).strip(
                "; "
            )
            or "—",
            threat.timing or "—",
            str(threat.likelihood),
            str(threat.impact),
            str(threat.risk.label),
        ]
        for threat in threats
    ]
    measure_rows = [
        [
            measure.get_by_display(),
            measure.description,
            measure.responsible,
            measure.get_status_display(),
            _date(measure.due_on),
            _answer(measure),
        ]
        for measure in plan.measures.all()
    ]
    return PlanDocument(
        title=_("Community protection plan"),
        facts=[
            (_("Committee"), committee.name),
            (_("Locality"), committee.locality.name),
            (_("Version"), str(plan.version)),
            (_("Status"), plan.get_status_display()),
            (_("In force since"), _date(_local_day(plan.activated_at, committee.mission))),
            (_("Review date"), _date(plan.review_on)),
        ],
        sections=[
            Section(
                _("Threats"),
                [
                    _("Type of threat"),
                    _("Description"),
                    _("Alleged perpetrators"),
                    _("Places"),
                    _("Times or seasons"),
                    _("Likelihood"),
                    _("Impact"),
                    _("Risk"),
                ],
                threat_rows,
            ),
            Section(
                _("Mitigation measures"),
                [
                    _("By"),
                    _("Measure"),
                    _("Who is responsible"),
                    _("Status"),
                    _("Due date"),
                    _("Mission's answer"),
                ],
                measure_rows,
            ),
        ],
        texts=[
            (_("Vulnerabilities"), plan.vulnerabilities or "—"),
            (_("Capacities"), plan.capacities or "—"),
        ],
        footer=_("Copy for the committee. Risk level: likelihood × impact (1 to 25)."),
    )


def _in_language(plan: ProtectionPlan, build):
    with translation.override(plan.committee.language):
        return build(document(plan))


def plan_pdf(plan: ProtectionPlan) -> bytes:
    return _in_language(plan, _pdf)


def plan_docx(plan: ProtectionPlan) -> bytes:
    return _in_language(plan, _docx)


def _pdf(doc: PlanDocument) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)

    def para(text, style=small):
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    story = [para(doc.title, styles["Title"])]
    story.append(Table([[para(k), para(v)] for k, v in doc.facts], colWidths=[5 * cm, 18 * cm]))
    for section in doc.sections:
        story += [Spacer(1, 0.4 * cm), para(section.title, styles["Heading2"])]
        rows = [[para(h) for h in section.headers]] + [
            [para(cell) for cell in row] for row in section.rows
        ]
        table = Table(rows, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story.append(table)
    for title, text in doc.texts:
        story += [Spacer(1, 0.4 * cm), para(title, styles["Heading2"]), para(text)]
    story += [Spacer(1, 0.6 * cm), para(doc.footer)]
    buffer = BytesIO()
    SimpleDocTemplate(buffer, pagesize=landscape(A4), title=doc.title, author="", subject="").build(
        story
    )
    return buffer.getvalue()


def _docx(doc: PlanDocument) -> bytes:
    import docx

    out = docx.Document()
    out.add_heading(doc.title, level=0)
    facts = out.add_table(rows=0, cols=2)
    for key, value in doc.facts:
        cells = facts.add_row().cells
        cells[0].text, cells[1].text = key, value
    for section in doc.sections:
        out.add_heading(section.title, level=1)
        table = out.add_table(rows=1, cols=len(section.headers))
        table.style = "Table Grid"
        for cell, header in zip(table.rows[0].cells, section.headers, strict=True):
            cell.text = header
        for row in section.rows:
            for cell, value in zip(table.add_row().cells, row, strict=True):
                cell.text = value
    for title, text in doc.texts:
        out.add_heading(title, level=1)
        out.add_paragraph(text)
    out.add_paragraph(doc.footer)
    out.core_properties.author = ""
    out.core_properties.title = doc.title
    buffer = BytesIO()
    out.save(buffer)
    return buffer.getvalue()
