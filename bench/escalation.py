#!/usr/bin/env python3
# ruff: noqa: S603, S607 -- runs our own commands
"""Escalation benchmark: how late, after a missed deadline, its escalation is written and sent
while SMS intake runs at full speed.

    make bench-escalation                       # both databases, both cases, 15 s each
    BENCH_SECONDS=10 make bench-escalation      # a quicker look
    BENCH_DBS=sqlite BENCH_CASES=console .venv/bin/python bench/escalation.py

For each database and intake case, on a fresh database set up as the intake benchmark does it
(bench/intake.py: SQLite in WAL mode with synchronous=FULL, or a throwaway PostgreSQL 15
restarted with fsync on; migrate; `manage.py demo`), it starts gunicorn as in production and
ONE real `manage.py worker` process (its default 1 s pause between idle passes;
BENCH_WORKER_INTERVAL to change it), then drives the intake case at full speed with the intake
benchmark's load generators (real requests to `/sms/<kind>/<uuid>/receive`, ~2,000 senders,
~50 localities): BENCH_WARMUP s (default 2) unmeasured, then BENCH_SECONDS (default 15).

BENCH_CASES (default "console,smssync"): two intake cases that differ in one thing that
matters here, where the senders' receipts go. console: back through the console channel, a
pushing gateway like Twilio, Africa's Talking or the external one, so the worker sends them
(60 a minute, the channel's default limit) in the same queue as the escalations. smssync:
queued for the relay phone to fetch, so the worker never handles them.

When the measured run's load generators are ready, just before they start, BENCH_ESCALATIONS
(default 200) incidents are planted whose first escalation step falls due at known instants
spread evenly from the start of the run to 3 s before its end: 3 in 4 critical (step 1:
battalion at the deadline to acknowledge: the battalion's duty phone by SMS, its duty officers
by e-mail), 1 in 4 low (step 1: the early-warning cell at the deadline: e-mail). They are
ordinary open incidents at the towns of MONUSCO's open bases, routed to those bases' companies
by `routing.plan`, with a threat the intake texts never report (so no intake alert joins them
and moves their deadlines). The mission's notifications (escalations, and the alerts of the
incidents intake opens) go through a console channel of their own allowing
BENCH_NOTIFY_PER_MINUTE SMS a minute (default 6000: 200 escalations in 15 s must not wait for
a send limit; the measure is of the worker).

The peak resident memory (/proc VmHWM) of the `manage.py worker` process and of gunicorn's
master and largest worker is read just before they stop.

After the run the worker keeps going until every planted step is taken and its messages are
out (at most BENCH_DRAIN s, default 120). Then, per planted step, from its due time (the
"escalated" event's `due_at`): written = the first escalation SMS or e-mail row of the step
(`created_at`, inside the step's transaction); SMS sent = the last part's `sent_at`; e-mail
sent = `sent_at`. p50 / p99 / max of each, and whether each step was taken exactly once.
The table is printed and written between the markers of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import intake as bench  # bench/intake.py: processes, load generators, database set-up

ROOT = bench.ROOT
PYTHON = bench.PYTHON
MANAGE = bench.MANAGE
DOC = bench.DOC
START, END = "<!-- bench-escalation:start -->", "<!-- bench-escalation:end -->"
PLANTED_THREAT = "explosion"  # no intake text reports one: intake never joins these incidents
LEAD, TAIL = 0.5, 3.0  # seconds: first due after the planting's own deadline; last before end
NOTIFIER_NAME = "Bench notifications"
RECEIPTS = {
    "console": "its receipts sent by the worker, 60 a minute",
    "smssync": "its receipts fetched by the relay phone, not by the worker",
    "twilio": "its receipts sent by the worker through Twilio",
    "africastalking": "its receipts sent by the worker through Africa's Talking",
    "external": "its receipts sent by the worker through the external gateway",
}

log = bench.log
env_int = bench.env_int


def env_float(name: str, default: float | None) -> float | None:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


# --- Set-up and planting (inside the phase process, Django loaded) ---------------------------


def dedicated_notifier(per_minute: int) -> None:
    """A console channel of its own carries MONUSCO's notifications (alerts, escalations)."""
    from kiungo.messaging.models import Channel
    from kiungo.missions.models import Mission

    mission = Mission.objects.get(code="MONUSCO")
    Channel.objects.filter(mission=mission, notifies=True).update(notifies=False)
    channel = Channel(
        mission=mission,
        kind=Channel.Kind.CONSOLE,
        name=NOTIFIER_NAME,
        phone_number="+243990000199",
        notifies=True,
        send_per_minute=per_minute,
    )
    channel.save()


def plant(count: int, seconds: int) -> dict:
    """Plant `count` incidents whose first escalation step falls due from just after the
    planting (it has `budget` s) to TAIL s before the end of a `seconds` run starting then."""
    from django.db import connection, transaction
    from django.utils import timezone

    from kiungo.alerts import routing
    from kiungo.alerts.models import Incident
    from kiungo.forces.models import Base
    from kiungo.missions.models import Mission

    began = time.monotonic()
    mission = Mission.objects.get(code="MONUSCO")
    levels = {level.code: level for level in mission.alert_levels().prefetch_related("steps")}
    places = [
        base.locality
        for base in Base.objects.filter(mission=mission, closed_on__isnull=True)
        .select_related("locality")
        .order_by("code")
    ]
    # The planting has `budget` s; the first step falls due LEAD s after that.
    budget = max(2.0, count / 100)
    first_due = timezone.now() + dt.timedelta(seconds=budget + LEAD)
    span = max(1.0, seconds - budget - LEAD - TAIL)
    step = span / max(1, count - 1)
    ids, dues = [], []
    with transaction.atomic():
        for number in range(count):
            level = levels["low" if number % 4 == 3 else "critical"]
            due = first_due + dt.timedelta(seconds=number * step)
            first = due - level.acknowledge_within  # step 1 falls due at the deadline itself
            incident = Incident(
                mission=mission,
                area=places[number % len(places)],
                threat=PLANTED_THREAT,
                level=level,
                first_reported_at=first,
                last_reported_at=first,
                alert_count=1,
                source_count=1,
            )
            routing.plan(incident)
            incident.routed_at = timezone.now()
            incident.save()
            if incident.next_escalation_at != due:
                raise RuntimeError(f"planted incident {incident.pk}: not due at {due}")
            ids.append(incident.pk)
            dues.append(due.isoformat())
    planted_in = time.monotonic() - began
    if planted_in > budget:
        raise RuntimeError(f"planting took {planted_in:.1f} s, more than its {budget:.1f} s")
    connection.close()
    return {"ids": ids, "dues": dues, "planted_in": planted_in, "step_s": step}


def pending(ids: list[int]) -> dict:
    """How much of the planted work is not done yet."""
    from django.db import connection

    from kiungo.alerts.models import Incident
    from kiungo.messaging.models import OutboundEmail, OutboundMessage, Purpose

    sendable = [OutboundMessage.State.QUEUED, OutboundMessage.State.ERRORED]
    result = {
        "steps": Incident.objects.filter(pk__in=ids, escalations=0).count(),
        "sms": OutboundMessage.objects.filter(
            incident_id__in=ids, purpose=Purpose.ESCALATION, state__in=sendable
        ).count(),
        "emails": OutboundEmail.objects.filter(
            incident_id__in=ids, purpose=Purpose.ESCALATION, state__in=sendable
        ).count(),
    }
    connection.close()
    return result


def measure(ids: list[int], run_start: float, run_end: float) -> dict:
    """Per planted step: delays from its due time; exactly-once checks; what else was sent."""
    from django.db import connection
    from django.db.models import Count

    from kiungo.alerts.models import AlertEvent
    from kiungo.messaging.models import OutboundEmail, OutboundMessage, Purpose

    events: dict[int, list] = {}
    for event in AlertEvent.objects.filter(incident_id__in=ids, kind="escalated"):
        events.setdefault(event.incident_id, []).append(event)
    sms: dict[int, list] = {}
    for message in OutboundMessage.objects.filter(
        incident_id__in=ids, purpose=Purpose.ESCALATION
    ).order_by("pk"):
        sms.setdefault(message.incident_id, []).append(message)
    emails: dict[int, list] = {}
    for email in OutboundEmail.objects.filter(incident_id__in=ids, purpose=Purpose.ESCALATION):
        emails.setdefault(email.incident_id, []).append(email)

    written, sms_sent, email_sent, taken_at = [], [], [], []
    problems: Counter = Counter()
    due_in_run = 0
    for pk in ids:
        taken = events.get(pk, [])
        if len(taken) != 1:
            problems["steps not taken exactly once"] += 1
            continue
        event = taken[0]
        due = dt.datetime.fromisoformat(event.details["due_at"])
        due_in_run += run_start <= due.timestamp() <= run_end
        taken_at.append((event.at - due).total_seconds())
        rows = sms.get(pk, []) + emails.get(pk, [])
        if not rows:
            problems["steps that reached nobody"] += 1
            continue
        written.append((min(row.created_at for row in rows) - due).total_seconds())
        parts = sms.get(pk, [])
        if parts:
            texts = Counter((row.to_hash, row.text) for row in parts)
            if max(texts.values()) > 1:
                problems["SMS queued twice"] += 1
            if all(row.sent_at for row in parts):
                sms_sent.append((max(row.sent_at for row in parts) - due).total_seconds())
            else:
                problems["escalation SMS not sent"] += 1
        for email in emails.get(pk, []):
            if email.sent_at:
                email_sent.append((email.sent_at - due).total_seconds())
            else:
                problems["escalation e-mails not sent"] += 1
        if max(Counter(email.to for email in emails.get(pk, [])).values(), default=1) > 1:
            problems["e-mail queued twice"] += 1

    # What else the worker sent meanwhile (from the start of the run to the end of the drain).
    since = dt.datetime.fromtimestamp(run_start, tz=dt.UTC)
    others = (
        OutboundMessage.objects.filter(created_at__gte=since)
        .exclude(incident_id__in=ids)
        .values("purpose", "state")
        .annotate(n=Count("id"))
    )
    background: dict[str, dict[str, int]] = {}
    for row in others:
        background.setdefault(row["purpose"], {})[row["state"]] = row["n"]
    connection.close()

    def stats(values: list[float]) -> dict:
        ordered = sorted(values)
        return {
            "n": len(ordered),
            "p50": bench.percentile(ordered, 0.50),
            "p99": bench.percentile(ordered, 0.99),
            "max": ordered[-1] if ordered else float("nan"),
        }

    return {
        "planted": len(ids),
        "taken": sum(len(events.get(pk, [])) for pk in ids),
        "due_in_run": due_in_run,
        "taken_at": stats(taken_at),
        "written": stats(written),
        "sms_sent": stats(sms_sent),
        "email_sent": stats(email_sent),
        "problems": dict(problems),
        "background": background,
    }


# --- One database ----------------------------------------------------------------------------


def phase(vendor: str, case: str, out: str) -> None:
    seconds = env_int("BENCH_SECONDS", 15)
    warmup = env_int("BENCH_WARMUP", 2)
    clients = env_int("BENCH_CLIENTS", 2)
    threads = env_int("BENCH_THREADS", 4)
    workers = env_int("BENCH_WORKERS", 2)
    count = env_int("BENCH_ESCALATIONS", 200)
    per_minute = env_int("BENCH_NOTIFY_PER_MINUTE", 6000)
    drain = env_int("BENCH_DRAIN", 120)
    interval = env_float("BENCH_WORKER_INTERVAL", None)
    if seconds < 8 or seconds + warmup > 280:
        raise SystemExit("BENCH_SECONDS: from 8 to 270")
    url = os.environ.get("KIUNGO_DATABASE_URL", "")
    if (vendor == "postgres") != url.startswith("postgres"):
        raise SystemExit(f"phase {vendor}: KIUNGO_DATABASE_URL is {url or 'not set'}")
    workdir = Path(tempfile.mkdtemp(prefix=f"kiungo-bench-escalation-{vendor}-{case}-"))
    env = bench.server_env(workdir / "data")
    os.environ.clear()
    os.environ.update(env)
    if vendor == "postgres":
        bench.make_postgres_durable(url)
    server = worker = None
    server_log, worker_log = workdir / "gunicorn.log", workdir / "worker.log"
    try:
        bench.load_demo(vendor)
        facts = bench.database_facts(vendor)
        data = bench.pools()
        dedicated_notifier(per_minute)
        server, port = bench.start_server(env, workers, server_log)
        command = [PYTHON, MANAGE, "worker"]
        if interval is not None:
            command += ["--interval", str(interval)]
        with open(worker_log, "wb") as handle:  # the console e-mail backend prints here
            worker = bench.spawn(command, env=env, stdout=handle, stderr=subprocess.STDOUT)
        from kiungo.demo import channels

        spec = {
            "case": case,
            "port": port,
            "path": channels.receive_path(case),
            "secrets": channels.DEMO_SECRETS[case],
            "to": channels.DEMO_CHANNELS[case][1],
            "threads": threads,
            **data,
        }
        tag = uuid.uuid4().hex[:6]
        if warmup:
            log(f"{vendor}: {case} intake, {warmup} s warm-up (worker running)")
            bench.drive(
                {
                    **spec,
                    "seconds": warmup,
                    "prefix": f"w{tag}-{case}",
                    "pool_size": bench.POOL_PER_SECOND["gateway"] * warmup,
                },
                workdir,
                clients,
                server.pid,
            )
        planted: dict = {}

        def worker_cpu() -> float:
            stat = bench._proc_stat(worker.pid)
            return stat[1] if stat else 0.0

        def go():
            planted.update(plant(count, seconds))
            planted["start"], planted["worker_cpu"] = time.time(), worker_cpu()

        log(f"{vendor}: {case} intake at full speed for {seconds} s, {count} escalations due")
        result = bench.drive(
            {
                **spec,
                "seconds": seconds,
                "prefix": f"m{tag}-{case}",
                "pool_size": bench.POOL_PER_SECOND["gateway"] * seconds,
            },
            workdir,
            clients,
            server.pid,
            before_go=go,
        )
        run_end = time.time()
        worker_used = worker_cpu() - planted["worker_cpu"]
        # CPU of processes that are not part of the benchmark (other work on the machine).
        foreign = (
            result["machine_cpu"]
            - result["server_cpu"]
            - result["db_cpu"]
            - result["cpu"]
            - worker_used
        )
        log(f"{vendor}: run over; the worker finishes the planted escalations (≤ {drain} s)")
        drained_at = None
        while time.time() < run_end + drain:
            left = pending(planted["ids"])
            if not any(left.values()):
                drained_at = time.time()
                break
            if worker.poll() is not None:
                raise RuntimeError("the worker exited")
            time.sleep(0.5)
        left = pending(planted["ids"])
        # Peak resident memory over the whole run (VmHWM), read just before they stop.
        worker_memory = bench.memory_kib(worker.pid)
        web_memory = bench.server_memory(server.pid)
        bench.stop(worker)
        worker = None
        bench.stop(server)
        server = None
        measured = measure(planted["ids"], planted["start"], run_end)
        latencies = sorted(result["latencies"])
        ok = sum(n for code, n in result["statuses"].items() if 200 <= int(code) < 300)
        requests = sum(result["statuses"].values()) + sum(result["failures"].values())
        row = {
            "vendor": vendor,
            "database": facts,
            "case": case,
            "requests": requests,
            "rps": ok / (result["elapsed"] or seconds),
            "errors": requests - ok,
            "p99_ms": bench.percentile(latencies, 0.99) * 1000,
            "worker_cpu_share": worker_used / result["wall"],
            "machine_busy": result["machine_share"],
            "foreign_cores": max(0.0, foreign) / result["wall"],
            "drained_after": (drained_at - run_end) if drained_at else None,
            "left": left,
            "planted_in": planted["planted_in"],
            "step_s": planted["step_s"],
            "worker_peak_mib": worker_memory.get("VmHWM", 0) / 1024,
            "worker_rss_mib": worker_memory.get("VmRSS", 0) / 1024,
            "web_memory": web_memory,
            "settings": {
                "seconds": seconds,
                "warmup": warmup,
                "clients": clients,
                "threads": threads,
                "workers": workers,
                "escalations": count,
                "notify_per_minute": per_minute,
                "interval": interval,
                "drain": drain,
            },
            **measured,
        }
        log(
            f"{vendor}: intake {row['rps']:.0f} req/s; written p50 "
            f"{measured['written']['p50']:.2f} s p99 {measured['written']['p99']:.2f} s; "
            f"SMS sent p50 {measured['sms_sent']['p50']:.2f} s p99 "
            f"{measured['sms_sent']['p99']:.2f} s; problems {measured['problems']}"
        )
        Path(out).write_text(json.dumps(row))
    except BaseException:
        for name in (server_log, worker_log):
            if name.exists():
                sys.stderr.write(f"--- {name.name} ---\n")
                sys.stderr.write(name.read_text(errors="replace")[-3000:])
        raise
    finally:
        bench.stop(worker)
        bench.stop(server)
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


# --- Report ----------------------------------------------------------------------------------


def render(rows: list[dict], facts: dict, command: str) -> str:
    lines = [
        f"Measured {facts['date']} on {facts['cpus']} CPUs ({facts['cpu']}), {facts['ram']} "
        f"RAM, Linux {facts['kernel']}, Python {facts['python']}, Django {facts['django']}, "
        f"commit {facts['commit']}.",
        "",
        f"Command: `{command}`",
        "",
    ]
    for row in rows:
        settings = row["settings"]
        interval = settings["interval"] or 1.0
        lines += [
            f"### {row['database']['name']}, intake case {row['case']} "
            f"({row['database']['settings']})",
            "",
            f"Intake: {row['case']} at full speed ({RECEIPTS[row['case']]}), gunicorn "
            f"{settings['workers']} sync workers, "
            f"{settings['clients']} load generator processes x {settings['threads']} threads, "
            f"{settings['warmup']} s warm-up then {settings['seconds']} s: "
            f"{row['requests']:,} requests, {row['rps']:,.0f} 2xx/s, p99 {row['p99_ms']:.0f} ms, "
            f"{row['errors']} errors. One `manage.py worker` ({interval:g} s pause when idle), "
            f"{row['worker_cpu_share']:.0%} of a core during the run. "
            f"{row['planted']} escalations planted in {row['planted_in']:.1f} s, due one every "
            f"{row['step_s'] * 1000:.0f} ms ({row['due_in_run']} during the load); "
            f"{row['taken']} steps taken.",
            "",
            "| from the deadline to | steps | p50 s | p99 s | max s |",
            "|---|---:|---:|---:|---:|",
        ]
        for key, label in (
            ("taken_at", "the worker's pass that took the step (event `at`)"),
            ("written", "its first notification written (SMS / e-mail row)"),
            ("sms_sent", "its SMS sent (last part's `sent_at`)"),
            ("email_sent", "its e-mail sent (`sent_at`)"),
        ):
            value = row[key]
            lines.append(
                f"| {label} | {value['n']} | {value['p50']:.2f} | {value['p99']:.2f} | "
                f"{value['max']:.2f} |"
            )
        lines.append("")
        web = row.get("web_memory") or {}
        if row.get("worker_peak_mib"):
            lines.append(
                f"- memory (peak RSS, VmHWM): `manage.py worker` {row['worker_peak_mib']:.0f} MiB "
                f"({row['worker_rss_mib']:.0f} MiB at the end); largest gunicorn worker "
                f"{web.get('worker_peak_mib', 0):.0f} MiB, master "
                f"{web.get('master_peak_mib', 0):.0f} MiB."
            )
        lines.append(
            f"- machine CPU busy during the run: {row['machine_busy']:.0%}; processes outside "
            f"the benchmark: {row['foreign_cores']:.2f} cores."
        )
        if row["foreign_cores"] > 0.1:
            lines.append(
                "- WARNING: other work on the machine took CPU during the run: these delays are "
                "longer, and the intake rate lower, than the machine alone gives."
            )
        if row["problems"]:
            lines.append(f"- PROBLEMS: {row['problems']}")
        if row["drained_after"] is None:
            lines.append(
                f"- NOT FINISHED {settings['drain']} s after the load stopped: still {row['left']}"
            )
        else:
            lines.append(
                f"- every planted step taken and its messages out {row['drained_after']:.1f} s "
                "after the load stopped."
            )
        background = "; ".join(
            f"{purpose}: "
            + ", ".join(f"{count:,} {state}" for state, count in sorted(states.items()))
            for purpose, states in sorted(row["background"].items())
        )
        if background:
            lines.append(f"- other SMS written meanwhile (by state at the end): {background}.")
        lines.append("")
    lines.append(
        "Delays count from the step's due time (`next_escalation_at`, the `due_at` of its "
        '"escalated" event). Notifications go through a console channel of their own '
        f"({rows[0]['settings']['notify_per_minute'] if rows else 0} SMS a minute). E-mail: "
        "Django's console backend (written to the worker's output). `at` of the event is the "
        "start of the worker's pass that took the step."
    )
    return "\n".join(lines)


def write_doc(section: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        DOC.write_text(f"{before}{START}\n{section}\n{END}{after}")
        return
    DOC.write_text(
        text.rstrip("\n") + "\n\n## Escalation under intake load (`make bench-escalation`)\n\n"
        "Written by `bench/escalation.py` between the markers below; notes outside them are "
        f"kept.\n\n{START}\n{section}\n{END}\n"
    )


def main_run(databases: list[str], cases: list[str]) -> None:
    command = " ".join(
        [f"{name}={os.environ[name]}" for name in sorted(os.environ) if name.startswith("BENCH_")]
        + ["make bench-escalation" if os.environ.get("MAKELEVEL") else "python bench/escalation.py"]
    )
    rows, running = [], None
    with tempfile.TemporaryDirectory(prefix="kiungo-bench-escalation-") as work:
        try:
            for vendor in databases:
                for case in cases:  # each on a fresh database: no backlog from the one before
                    out = Path(work) / f"{vendor}-{case}.json"
                    cmd = [PYTHON, __file__, "phase", vendor, case, out]
                    env = os.environ.copy()
                    env.pop("KIUNGO_DATABASE_URL", None)
                    if vendor == "postgres":
                        cmd = [ROOT / "scripts" / "with-postgres.sh", *cmd]
                    running = bench.spawn(cmd, env=env)
                    code = running.wait()
                    running = None
                    if code != 0:
                        raise SystemExit(f"the {vendor} {case} run failed (exit status {code})")
                    rows.append(json.loads(out.read_text()))
        except (KeyboardInterrupt, SystemExit):
            log("stopped: stopping everything it started")
            raise
        finally:
            bench.stop(running, grace=60)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiungo.settings")
    section = render(rows, bench.machine(), command)
    print(section)
    write_doc(section)
    print(f"Written to {DOC.relative_to(ROOT)}")
    failed = [
        f"{row['vendor']} {row['case']}"
        for row in rows
        if row["problems"] or row["drained_after"] is None
    ]
    if failed:
        raise SystemExit(f"escalations not taken or sent exactly once: {failed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    one = sub.add_parser("phase", help="(internal) benchmark the database in the environment")
    one.add_argument("vendor", choices=("sqlite", "postgres"))
    one.add_argument("case", choices=bench.KINDS)
    one.add_argument("out")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    bench.terminate_on_sigterm()
    if args.command == "phase":
        phase(args.vendor, args.case, args.out)
    else:
        wanted = os.environ.get("BENCH_DBS", "sqlite,postgres")
        cases = [
            name.strip()
            for name in os.environ.get("BENCH_CASES", "console,smssync").split(",")
            if name.strip()
        ]
        unknown = [name for name in cases if name not in bench.KINDS]
        if unknown:
            raise SystemExit(f"BENCH_CASES: {unknown}; known: {', '.join(bench.KINDS)}")
        try:
            main_run([name.strip() for name in wanted.split(",") if name.strip()], cases)
        except KeyboardInterrupt:
            raise SystemExit(130) from None


if __name__ == "__main__":
    main()
