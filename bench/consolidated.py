#!/usr/bin/env python3
# ruff: noqa: S603 -- runs our own manage.py commands
"""Consolidated report benchmark: how long the MONUSCO consolidated daily report takes on the
demo scenario.

    make bench-consolidated
    BENCH_RUNS=9 .venv/bin/python bench/consolidated.py

It migrates a temporary SQLite data folder and loads the demo (`manage.py demo`, as
bench/intake.py does, KIUNGO_ENV=development). Then, for the most recent whole day (before
today) with submitted daily reports in MONUSCO, as a mission-wide early-warning officer, it
times (median of BENCH_RUNS runs, default 5) assembling the consolidated daily report
(kiungo.reports.consolidated.assemble, with its query count), and generating its PDF and its
DOCX from the assembled report. The table is printed and written between the markers of
docs/benchmarks.md.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MANAGE = str(ROOT / "manage.py")
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench-consolidated:start -->", "<!-- bench-consolidated:end -->"
RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_demo(data_dir: Path) -> None:
    os.environ.update(
        KIUNGO_ENV="development",  # the demo is refused in production
        KIUNGO_DEBUG="false",
        KIUNGO_LOG_LEVEL="WARNING",
        KIUNGO_DATA_DIR=str(data_dir),
        PYTHONDONTWRITEBYTECODE="1",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiungo.settings")
    began = time.monotonic()
    subprocess.run([PYTHON, MANAGE, "migrate", "--noinput", "-v0"], cwd=ROOT, check=True)
    subprocess.run([PYTHON, MANAGE, "demo"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    log(f"migrated and demo loaded in {time.monotonic() - began:.0f} s")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def timed(function, runs: int = RUNS) -> tuple[float, object]:
    """Median seconds of `runs` calls, and the last result."""
    durations, result = [], None
    for _run in range(runs):
        began = time.perf_counter()
        result = function()
        durations.append(time.perf_counter() - began)
    return statistics.median(durations), result


def reader():
    """A mission-wide early-warning officer of MONUSCO (the demo's, else one made here)."""
    from kiungo.missions.models import Mission
    from kiungo.people.models import Role, RoleAssignment, User

    mission = Mission.objects.get(code="MONUSCO")
    assignment = (
        RoleAssignment.objects.filter(
            mission=mission, role=Role.EARLY_WARNING_OFFICER, scope=RoleAssignment.Scope.MISSION
        )
        .select_related("user")
        .first()
    )
    if assignment:
        return mission, assignment.user
    user = User.objects.create_user(username="bench-ewo", password=None)
    RoleAssignment.objects.create(
        user=user, mission=mission, role=Role.EARLY_WARNING_OFFICER, scope="mission"
    )
    return mission, user


def measure() -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kiungo.people.models import User
    from kiungo.reports import consolidated, exports, periods
    from kiungo.reports.models import Kind, Report

    mission, user = reader()
    # The most recent whole day (today's reports are still coming in), else today.
    sent = Report.objects.filter(mission=mission, kind=Kind.DAILY, status__in=consolidated.INCLUDED)
    day = (
        sent.filter(period_start__lt=periods.local_today(mission))
        .order_by("-period_start")
        .values_list("period_start", flat=True)
        .first()
    ) or (sent.order_by("-period_start").values_list("period_start", flat=True).first())
    if day is None:
        raise SystemExit("the demo has no submitted MONUSCO daily report")

    def assemble():
        fresh = User.objects.get(pk=user.pk)  # no scope cached: as in a new request
        return consolidated.assemble(fresh, mission, Kind.DAILY, day)

    with CaptureQueriesContext(connection) as queries:
        report = assemble()
    assemble_s, report = timed(assemble)
    pdf_s, pdf = timed(lambda: exports.to_pdf(exports.outline(report)))
    docx_s, docx = timed(lambda: exports.to_docx(exports.outline(report)))
    return {
        "day": day,
        "reports": report.report_count,
        "bases": sum(len(region.bases) for region in report.regions),
        "regions": len(report.regions),
        "incidents": len(report.incidents),
        "alerts": report.alert_count,
        "missing": report.missing_count,
        "queries": len(queries.captured_queries),
        "assemble": assemble_s,
        "pdf": pdf_s,
        "pdf_bytes": len(pdf),
        "docx": docx_s,
        "docx_bytes": len(docx),
    }


def section(figures: dict, command: str) -> str:
    import django
    from django.db import connection

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    f = figures
    return "\n".join(
        [
            f"Measured {now} on {os.cpu_count()} CPUs, Linux {platform.release()}, "
            f"Python {platform.python_version()}, Django {django.get_version()}, "
            f"SQLite {connection.Database.sqlite_version}, commit {commit}.",
            "",
            f"Command: `{command}`",
            "",
            f"MONUSCO, consolidated daily report of {f['day'].isoformat()} (the most recent "
            f"whole demo day with reports): {f['reports']} reports from {f['bases']} bases in "
            f"{f['regions']} regions, {f['missing']} missing, {f['incidents']} incidents, "
            f"{f['alerts']} alerts; read as a mission-wide early-warning officer.",
            "",
            f"| step (median of {RUNS}) | time | notes |",
            "|---|---:|---|",
            f"| assemble (consolidated.assemble) | {f['assemble'] * 1000:.0f} ms | "
            f"{f['queries']} queries |",
            f"| PDF (outline + reportlab) | {f['pdf'] * 1000:.0f} ms | "
            f"{f['pdf_bytes'] / 1024:.0f} KiB |",
            f"| DOCX (outline + python-docx) | {f['docx'] * 1000:.0f} ms | "
            f"{f['docx_bytes'] / 1024:.0f} KiB |",
        ]
    )


def write_doc(text: str) -> None:
    doc = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if START in doc and END in doc:
        before, rest = doc.split(START, 1)
        after = rest.split(END, 1)[1]
        DOC.write_text(f"{before}{START}\n{text}\n{END}{after}")
        return
    DOC.write_text(
        doc.rstrip("\n") + "\n\n## Consolidated report (`make bench-consolidated`)\n\n"
        "Written by `bench/consolidated.py` between the markers below; notes outside them are "
        f"kept.\n\n{START}\n{text}\n{END}\n"
    )


def main() -> None:
    command = (
        "make bench-consolidated"
        if os.environ.get("MAKELEVEL")
        else ("python bench/consolidated.py")
    )
    with tempfile.TemporaryDirectory(prefix="kiungo-bench-") as work:
        load_demo(Path(work))
        figures = measure()
        text = section(figures, command)
    print(text)
    write_doc(text)


if __name__ == "__main__":
    main()
