"""The consolidated report as a PDF (reportlab) and as a Word document (python-docx).

Both are drawn from one outline (`outline`): a list of blocks (title, heading, subheading,
paragraph, table) written in the active language, so the two files always say the same.
The PDF uses reportlab's bundled Bitstream Vera fonts (TrueType, embedded), which carry the
accents of French; the standard PDF fonts would depend on the reader's encoding.
"""

import io
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _

from kiungo.reports.consolidated import Consolidated, title


@dataclass
class Block:
    kind: str  # title, heading, subheading, paragraph, table
    text: str = ""
    rows: list[list[str]] | None = None  # table: the first row is the header


def _counts(label: str, pairs: list[tuple[str, int]]) -> str:
    if not pairs:
        return f"{label}: 0"
    return f"{label}: " + ", ".join(f"{name} {n}" for name, n in pairs)


def outline(c: Consolidated) -> list[Block]:
    blocks = [
        Block("title", title(c.mission, c.kind, c.first_day, c.last_day)),
        Block(
            "paragraph",
            _(
                "Generated %(when)s. Reports: %(reports)s; nothing to report: %(nothing)s; "
                "missing: %(missing)s."
            )
            % {
                "when": timezone.localtime(timezone.now()).strftime("%Y-%m-%d %H:%M %Z"),
                "reports": c.report_count,
                "nothing": c.nothing_count,
                "missing": c.missing_count,
            },
        ),
        Block("heading", _("Summary")),
        Block("paragraph", c.summary or _("No summary written.")),
        Block("heading", _("Alerts and incidents")),
        Block("paragraph", _counts(_("Alerts by level"), c.alerts_by_level)),
        Block("paragraph", _counts(_("Alerts by threat"), c.alerts_by_threat)),
        Block("paragraph", _counts(_("Incidents by level"), c.incidents_by_level)),
        Block("paragraph", _counts(_("Incidents by threat"), c.incidents_by_threat)),
    ]
    if c.incidents:
        header = [
            _("Incident"),
            _("Place"),
            _("Level"),
            _("Threat"),
            _("Responsible unit"),
            _("Response"),
        ]
        rows = [
            [
                line.incident.reference,
                line.place,
                line.level,
                line.threat,
                line.unit,
                line.state + (" — " + _("overdue") if line.overdue else ""),
            ]
            for line in c.incidents
        ]
        blocks.append(Block("table", rows=[header, *rows]))
    blocks.append(Block("heading", _("Reports by region and base")))
    if not c.regions:
        blocks.append(Block("paragraph", _("No report for this period.")))
    for region in c.regions:
        blocks.append(Block("heading", region.name))
        for base in region.bases:
            blocks.append(Block("subheading", base.name))
            if base.missing:
                blocks.append(
                    Block("paragraph", _("Missing: %(clas)s") % {"clas": ", ".join(base.missing)})
                )
            for entry in base.reports:
                report = entry.report
                head = f"{report.get_kind_display()} — {report.cla.staff_id}"
                if report.nothing_to_report:
                    head += " — " + _("nothing to report")
                blocks.append(Block("paragraph", head))
                for heading, text in entry.sections:
                    blocks.append(Block("paragraph", f"{heading}: {text}"))
    return blocks


def _fonts() -> tuple[str, str]:
    """Register reportlab's bundled Vera fonts once; (regular, bold) names."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "KiungoVera" not in pdfmetrics.getRegisteredFontNames():
        import reportlab

        folder = Path(reportlab.__file__).parent / "fonts"
        pdfmetrics.registerFont(TTFont("KiungoVera", str(folder / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont("KiungoVeraBold", str(folder / "VeraBd.ttf")))
    return "KiungoVera", "KiungoVeraBold"


def to_pdf(blocks: list[Block]) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    regular, bold = _fonts()
    styles = {
        "title": ParagraphStyle("title", fontName=bold, fontSize=15, leading=19, spaceAfter=8),
        "heading": ParagraphStyle(
            "heading", fontName=bold, fontSize=12, leading=15, spaceBefore=8, spaceAfter=4
        ),
        "subheading": ParagraphStyle("sub", fontName=bold, fontSize=10, leading=13, spaceBefore=4),
        "paragraph": ParagraphStyle("p", fontName=regular, fontSize=9, leading=12, spaceAfter=2),
        "cell": ParagraphStyle("cell", fontName=regular, fontSize=8, leading=10),
    }
    flow = []
    for block in blocks:
        if block.kind == "table":
            data = [[Paragraph(escape(cell), styles["cell"]) for cell in row] for row in block.rows]
            table = Table(
                data, repeatRows=1, colWidths=[2.4 * cm, 3 * cm, 2.2 * cm, 3 * cm, 3 * cm, 4.4 * cm]
            )
            table.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ]
                )
            )
            flow += [table, Spacer(1, 6)]
        else:
            text = escape(block.text).replace("\n", "<br/>")
            flow.append(Paragraph(text, styles[block.kind]))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.5 * cm,
        title=blocks[0].text if blocks else "",
        author="Kiungo",
    )
    document.build(flow)
    return buffer.getvalue()


def to_docx(blocks: list[Block]) -> bytes:
    from docx import Document

    document = Document()
    for block in blocks:
        if block.kind == "title":
            document.add_heading(block.text, level=0)
            document.core_properties.title = block.text[:255]
        elif block.kind == "heading":
            document.add_heading(block.text, level=1)
        elif block.kind == "subheading":
            document.add_heading(block.text, level=2)
        elif block.kind == "table":
            table = document.add_table(rows=0, cols=len(block.rows[0]))
            table.style = "Table Grid"
            for row in block.rows:
                cells = table.add_row().cells
                for cell, text in zip(cells, row, strict=True):
                    cell.text = text
        else:
            document.add_paragraph(block.text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
