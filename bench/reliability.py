#!/usr/bin/env python3
# ruff: noqa: S603, S607 -- runs our own commands (gunicorn, PostgreSQL's tools, manage.py)
"""Surge and crash tests of the alert intake, on SQLite and on PostgreSQL.

    make reliability                                  # both databases (then the worker tests)
    RELIABILITY_DBS=sqlite .venv/bin/python bench/reliability.py
    RELIABILITY_SURGE=2000 .venv/bin/python bench/reliability.py   # a quick look

For each database (SQLite in WAL mode with synchronous=FULL in a temporary data folder; then a
throwaway PostgreSQL 15 this script starts itself with initdb/pg_ctl on a free port, fsync
on, so that it can crash and restart it), it migrates, loads the demo (`manage.py demo`),
starts gunicorn as in production (as bench/intake.py does: RELIABILITY_WORKERS sync workers,
default 2, DEBUG off) on 127.0.0.1, and plays SMS gateways against it with bench/simulator.py
(signed requests, retries of the same message id with backoff on no answer or a 5xx):

- surge: RELIABILITY_SURGE messages (default 10,000) at RELIABILITY_SURGE/60 per second from
  2,000 senders about 50 localities (twilio); then every acknowledged message must be stored
  exactly once, the alerts grouped into far fewer incidents, and the board (/incidents/ as
  the demo `ewo`) must answer within a second;
- kill: RELIABILITY_KILL messages (default 3,000, external gateway) at 100/s; after 5 s the
  whole gunicorn process group (master and workers) is SIGKILLed, restarted 2 s later on
  the same port; the simulator keeps retrying;
- pg-restart (PostgreSQL only): RELIABILITY_KILL messages (africastalking) at 100/s; after 5 s
  PostgreSQL is stopped with `pg_ctl stop -m immediate` (a crash), started again 6 s later;
  intake must answer 503 meanwhile (not 500, no hang) and recover without restarting Kiungo.

One `manage.py worker` runs throughout, as `make run` starts it, and files what gunicorn stores;
it is never restarted (it must ride out the PostgreSQL crash by itself). After each scenario the
script waits until the worker has filed every stored message, then counts: lost (acknowledged,
not stored), duplicated (stored more than once, or filed into two alerts), half-written (a
processed message without its alert, an SMS alert without its message), waiting (still not
filed: must be 0).
One line per scenario and database is printed, the table is written between the markers of
docs/reliability.md, and the exit status is non-zero if anything was lost, duplicated or
half-written. Every process started here is stopped at the end, on errors and on Ctrl-C;
everything listens and connects on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import intake  # noqa: E402
from intake import (  # noqa: E402
    PYTHON,
    env_int,
    free_port,
    machine,
    server_env,
    spawn,
    stop,
    terminate_on_sigterm,
)

DOC = ROOT / "docs" / "reliability.md"
START, END = "<!-- reliability:start -->", "<!-- reliability:end -->"
SURGE_SECONDS = int(os.environ.get("RELIABILITY_SURGE_SECONDS") or 60)


def log(message: str) -> None:
    print(f"[reliability {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- Our own PostgreSQL (we crash and restart it) --------------------------------------------


class Postgres:
    """A throwaway PostgreSQL 15 server on 127.0.0.1 (durable defaults: fsync on)."""

    def __init__(self, work: Path):
        candidates = sorted(glob.glob("/usr/lib/postgresql/15/bin")) + sorted(
            glob.glob("/usr/lib/postgresql/*/bin")
        )
        found = [path for path in candidates if Path(path, "pg_ctl").exists()]
        if found:
            self.bin = Path(found[0])
        elif shutil.which("pg_ctl"):
            self.bin = Path(shutil.which("pg_ctl")).parent
        else:
            raise SystemExit("PostgreSQL 15 (initdb, pg_ctl) is needed (postgresql-15)")
        self.work = work
        self.data = work / "data"
        self.port = free_port()
        self.run_as: list[str] = []
        self.started = False
        work.mkdir(parents=True)
        work.chmod(0o755)
        if os.geteuid() == 0:  # initdb refuses to run as root
            if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
                subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
            shutil.chown(work, "postgres")
            self.run_as = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgres://kiungo@127.0.0.1:{self.port}/kiungo"

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.run_as, str(self.bin / "pg_ctl"), "-D", str(self.data), *args],
            check=check,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def create(self) -> None:
        subprocess.run(
            [
                *self.run_as,
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "kiungo",
                "--auth=trust",
                "--no-locale",
                "--encoding=UTF8",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.start()
        where = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "kiungo"]
        subprocess.run([str(self.bin / "createdb"), *where, "kiungo"], check=True)

    def start(self) -> None:
        self.started = True
        options = f"-p {self.port} -k {self.work} -c listen_addresses=127.0.0.1"
        self._pg_ctl("-l", str(self.work / "server.log"), "-w", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "-w", "stop", check=False)

    def version(self) -> str:
        run = subprocess.run([str(self.bin / "postgres"), "--version"], capture_output=True)
        return run.stdout.decode().split()[2]

    def close(self) -> None:
        if self.started:
            self.stop("fast")
            self.started = False


# --- gunicorn on a port of our choosing (it must come back on the same one) ------------------


def start_gunicorn(env: dict, workers: int, server_log: Path, port: int) -> subprocess.Popen:
    """bench/intake.py's server, on a given port (the restart must keep the address)."""
    return intake.start_server(env, workers, server_log, port=port)[0]


def kill_group(server: subprocess.Popen) -> None:
    """SIGKILL to gunicorn's master and workers at once (its own process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()


# --- Checks ----------------------------------------------------------------------------------


def baseline() -> dict:
    from django.db import connection

    from kiungo.alerts.models import Alert, Incident

    result = {
        "incidents": Incident.objects.count(),
        "sms_alerts_without_inbound": Alert.objects.filter(
            source=Alert.Source.SMS, inbound__isnull=True
        ).count(),
    }
    connection.close()
    return result


def filed(ctx: dict, kind: str) -> float:
    """Seconds until the worker has filed every stored message of the gateway's channel."""
    from kiungo.demo import channels

    return round(intake.wait_filed(str(channels.channel_uuid(kind)), ctx["worker"]), 1)


def check(kind: str, prefix: str, acked: list[str], before: dict) -> dict:
    """lost, duplicated, half-written, incidents, for the messages of one run."""
    from django.db import connection
    from django.db.models import Count

    from kiungo.alerts.models import Alert, Incident
    from kiungo.demo import channels
    from kiungo.messaging.models import InboundMessage

    channel_uuid = str(channels.channel_uuid(kind))
    verified = intake.verify(kind, channel_uuid, acked)
    run = InboundMessage.objects.filter(
        channel__uuid=channel_uuid, external_id__startswith=f"{prefix}-"
    )
    alerts = Alert.objects.filter(inbound__in=run)
    result = {
        "acknowledged": verified["acked_distinct"],
        "stored": run.count(),
        "lost": verified["lost"],
        "duplicated": max(
            verified["duplicated"],
            run.values("external_id").annotate(n=Count("id")).filter(n__gt=1).count(),
        ),
        "alerts": alerts.count(),
        "waiting": run.filter(state=InboundMessage.State.RECEIVED).count(),
        "needs_review": run.filter(state=InboundMessage.State.NEEDS_REVIEW).count(),
        "processed_without_alert": run.filter(
            state=InboundMessage.State.PROCESSED, alert__isnull=True
        ).count(),
        "sms_alerts_without_inbound": Alert.objects.filter(
            source=Alert.Source.SMS, inbound__isnull=True
        ).count()
        - before["sms_alerts_without_inbound"],
        "incidents": alerts.values("incident").distinct().count(),
        "new_incidents": Incident.objects.count() - before["incidents"],
    }
    result["half_written"] = result["processed_without_alert"] + max(
        0, result["sms_alerts_without_inbound"]
    )
    connection.close()
    return result


def time_board(port: int, tries: int = 3) -> list[float]:
    """Seconds for GET /incidents/ as the demo `ewo` (a session made here, sent as a cookie)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from kiungo.people.models import User

    client = Client()
    client.force_login(User.objects.get(username="ewo"))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    connection.close()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    times = []
    for _ in range(tries):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/incidents/",
            headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
        )
        began = time.perf_counter()
        with opener.open(request, timeout=30) as answer:
            body = answer.read()
            if answer.status != 200 or b"login" in answer.url.encode():
                raise RuntimeError(f"/incidents/ answered {answer.status} at {answer.url}")
        times.append(time.perf_counter() - began)
        if len(body) < 1000:
            raise RuntimeError("/incidents/ answered an almost empty page")
    return times


def in_background(function, *args, **kwargs):
    """Run function in a thread; returns (thread, box) where box gets 'result' or 'error'."""
    box: dict = {}

    def target():
        try:
            box["result"] = function(*args, **kwargs)
        except BaseException as error:
            box["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def finish(thread, box, timeout: float) -> dict:
    thread.join(timeout)
    if thread.is_alive():
        raise RuntimeError("the simulator did not finish in time")
    if "error" in box:
        raise box["error"]
    return box["result"]


def traffic(summary: dict) -> dict:
    """The simulator's figures worth keeping (no ids, no timeline)."""
    keep = (
        "sent",
        "retried",
        "gave_up",
        "rejected",
        "unfinished",
        "attempts",
        "max_attempts",
        "statuses",
        "errors",
        "duration_s",
        "acked_per_s",
        "latency_p50_ms",
        "latency_p99_ms",
        "attempt_p50_ms",
        "attempt_p99_ms",
    )
    return {key: summary[key] for key in keep}


# --- Scenarios -------------------------------------------------------------------------------


def surge(ctx: dict) -> dict:
    from simulator import make_plan, simulate

    count = env_int("RELIABILITY_SURGE", 10_000)
    kind = "twilio"
    plan = make_plan(kind, 2000, 50)
    before = baseline()
    prefix = f"surge{uuid.uuid4().hex[:6]}"
    log(f"{ctx['vendor']}: surge, {count} messages in ~{SURGE_SECONDS} s ({kind})")
    summary = simulate(
        plan,
        ctx["url"],
        count=count,
        rate=count / SURGE_SECONDS,
        threads=6,
        processes=2,
        prefix=prefix,
    )
    drain = filed(ctx, kind)
    result = {**traffic(summary), **check(kind, prefix, summary["acked_ids"], before)}
    result["filed_after_s"] = drain
    times = time_board(ctx["port"])
    result["board_ms"] = [round(value * 1000) for value in times]
    result["senders"], result["localities"] = len(plan["senders"]), len(plan["places"])
    return result


def kill(ctx: dict) -> dict:
    from simulator import make_plan, simulate

    count = env_int("RELIABILITY_KILL", 3000)
    kind = "external"
    plan = make_plan(kind, 2000, 50)
    before = baseline()
    prefix = f"kill{uuid.uuid4().hex[:6]}"
    log(f"{ctx['vendor']}: kill, {count} messages at 100/s ({kind}); SIGKILL gunicorn at 5 s")
    stop_sim = threading.Event()
    thread, box = in_background(
        simulate,
        plan,
        ctx["url"],
        count=count,
        rate=100,
        threads=8,
        prefix=prefix,
        stop_event=stop_sim,
    )
    try:
        time.sleep(5)
        killed_at = time.monotonic()
        kill_group(ctx["server"])
        ctx["server"] = None
        log(f"{ctx['vendor']}: gunicorn SIGKILLed (master and workers); restarting in 2 s")
        time.sleep(2)
        ctx["server"] = start_gunicorn(ctx["env"], ctx["workers"], ctx["log"], ctx["port"])
        back = time.monotonic() - killed_at
        log(f"{ctx['vendor']}: gunicorn answering again {back:.1f} s after the kill")
        summary = finish(thread, box, 600)
    finally:
        stop_sim.set()
    drain = filed(ctx, kind)
    result = {**traffic(summary), **check(kind, prefix, summary["acked_ids"], before)}
    result["filed_after_s"] = drain
    result["down_s"] = round(back, 1)
    return result


def pg_restart(ctx: dict) -> dict:
    from simulator import make_plan, simulate

    count = env_int("RELIABILITY_KILL", 3000)
    kind = "africastalking"
    pg: Postgres = ctx["pg"]
    plan = make_plan(kind, 2000, 50)
    before = baseline()
    prefix = f"pgrs{uuid.uuid4().hex[:6]}"
    log(f"{ctx['vendor']}: pg-restart, {count} messages at 100/s ({kind}); crash PG at 5 s")
    stop_sim = threading.Event()
    thread, box = in_background(
        simulate,
        plan,
        ctx["url"],
        count=count,
        rate=100,
        threads=8,
        prefix=prefix,
        stop_event=stop_sim,
    )
    try:
        time.sleep(5)
        stopping = time.monotonic()
        pg.stop("immediate")
        down_at = time.monotonic()
        log(
            f"{ctx['vendor']}: PostgreSQL stopped (-m immediate) in {down_at - stopping:.1f} s; "
            "starting it again in 6 s"
        )
        time.sleep(6)
        starting = time.monotonic()
        pg.start()
        up_at = time.monotonic()
        log(f"{ctx['vendor']}: PostgreSQL up again in {up_at - starting:.1f} s (crash recovery)")
        summary = finish(thread, box, 600)
    finally:
        stop_sim.set()
    drain = filed(ctx, kind)  # the worker lived through the crash: it must carry on by itself
    result = {**traffic(summary), **check(kind, prefix, summary["acked_ids"], before)}
    result["filed_after_s"] = drain
    # Attempts begun while the server was certainly down (stopped, not yet being started).
    zero = summary["began"]
    outage = [
        (label, seconds)
        for at, label, seconds in summary["timeline"]
        if down_at <= zero + at and zero + at + seconds <= starting
    ]
    labels = [label for label, _seconds in outage]
    result["outage_s"] = round(up_at - stopping, 1)
    result["down_s"] = round(starting - down_at, 1)
    result["answers_during_outage"] = {label: labels.count(label) for label in sorted(set(labels))}
    result["slowest_answer_during_outage_ms"] = round(
        max((seconds for _label, seconds in outage), default=0) * 1000
    )
    statuses = summary["statuses"]
    result["http_503"] = statuses.get("503", 0)
    result["http_500"] = statuses.get("500", 0)
    result["timeouts"] = summary["errors"].get("TimeoutError", 0)
    result["recovered_after_s"] = recovery(summary["timeline"], up_at - zero)
    return result


def recovery(timeline: list, up_at: float) -> float | None:
    """Seconds from PostgreSQL's restart to the first 2xx after it."""
    for at, label, _seconds in timeline:
        if at >= up_at and label.startswith("2"):
            return round(at - up_at, 2)
    return None


# --- One database ----------------------------------------------------------------------------


def phase(vendor: str, out: str) -> None:
    workers = env_int("RELIABILITY_WORKERS", 2)
    workdir = Path(tempfile.mkdtemp(prefix=f"kiungo-reliability-{vendor}-"))
    workdir.chmod(0o755)
    env = server_env(workdir / "data")
    env.pop("KIUNGO_DATABASE_URL", None)
    pg = None
    ctx: dict = {"vendor": vendor, "workers": workers, "server": None, "worker": None}
    server_log, worker_log = workdir / "gunicorn.log", workdir / "worker.log"
    try:
        if vendor == "postgres":
            pg = Postgres(workdir / "pg")
            pg.create()
            env["KIUNGO_DATABASE_URL"] = pg.url
            log(f"postgres: PostgreSQL {pg.version()} on 127.0.0.1:{pg.port} (fsync on)")
        os.environ.clear()
        os.environ.update(env)
        intake.load_demo(vendor)
        facts = intake.database_facts(vendor)
        port = free_port()
        ctx.update(env=env, log=server_log, port=port, url=f"http://127.0.0.1:{port}", pg=pg)
        ctx["server"] = start_gunicorn(env, workers, server_log, port)
        ctx["worker"] = intake.start_worker(env, worker_log)  # files what gunicorn stores
        scenarios = [("surge", surge), ("kill", kill)]
        if vendor == "postgres":
            scenarios.append(("pg-restart", pg_restart))
        wanted = os.environ.get("RELIABILITY_SCENARIOS", "")
        if wanted:
            scenarios = [item for item in scenarios if item[0] in wanted.split(",")]
        results = []
        for name, scenario in scenarios:
            result = {"scenario": name, "db": vendor, **scenario(ctx)}
            log(line(result))
            results.append(result)
        stop(ctx["server"])
        stop(ctx["worker"])
        ctx["server"] = ctx["worker"] = None
        server_text = server_log.read_text(errors="replace")
        problems = [
            text
            for text in server_text.splitlines()
            if "WORKER TIMEOUT" in text or "Internal Server Error" in text
        ]
        Path(out).write_text(
            json.dumps(
                {
                    "vendor": vendor,
                    "database": facts,
                    "workers": workers,
                    "results": results,
                    "server_problems": problems[:20],
                    "server_problem_count": len(problems),
                }
            )
        )
    except BaseException:
        for log_file in (server_log, worker_log):
            if log_file.exists():
                sys.stderr.write(log_file.read_text(errors="replace")[-4000:])
        raise
    finally:
        stop(ctx.get("server"))
        stop(ctx.get("worker"))
        if pg is not None:
            pg.close()
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


# --- Report ----------------------------------------------------------------------------------


def line(row: dict) -> str:
    text = (
        f"{row['scenario']} {row['db']}: acknowledged={row['acknowledged']} "
        f"stored={row['stored']} lost={row['lost']} duplicated={row['duplicated']} "
        f"half_written={row['half_written']} sent={row['sent']} retried={row['retried']} "
        f"gave_up={row['gave_up']} rejected={row['rejected']} attempts={row['attempts']} "
        f"duration={row['duration_s']}s ({row['acked_per_s']}/s) "
        f"p50={row['latency_p50_ms']}ms p99={row['latency_p99_ms']}ms "
        f"filed_after={row['filed_after_s']}s waiting={row['waiting']}"
    )
    if row["scenario"] == "surge":
        board = ",".join(str(value) for value in row["board_ms"])
        text += (
            f" alerts={row['alerts']} incidents={row['incidents']} "
            f"(new {row['new_incidents']}) board_ms={board}"
        )
    if row["scenario"] == "kill":
        text += f" restarted_after={row['down_s']}s"
    if row["scenario"] == "pg-restart":
        text += (
            f" outage={row['outage_s']}s (down {row['down_s']}s: answers "
            f"{row['answers_during_outage']}, slowest {row['slowest_answer_during_outage_ms']}ms)"
            f" http_503={row['http_503']} http_500={row['http_500']} "
            f"timeouts={row['timeouts']} recovered_after={row['recovered_after_s']}s"
        )
    text += f" statuses={row['statuses']} errors={row['errors']}"
    return text


def render(phases: list[dict], facts: dict, command: str, lines: list[str]) -> str:
    out = [
        f"Measured {facts['date']} on {facts['cpus']} CPUs ({facts['cpu']}), {facts['ram']} "
        f"RAM, Linux {facts['kernel']}, Python {facts['python']}, Django {facts['django']}, "
        f"commit {facts['commit']}.",
        "",
        f"Command: `{command}`",
        "",
        "| scenario | database | sent | acknowledged | stored | lost | duplicated | half-written "
        "| retried | gave up | duration s | acks/s | p50 ms | p99 ms | other |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in phases:
        for row in run["results"]:
            other = []
            if row["scenario"] == "surge":
                other.append(
                    f"{row['alerts']:,} alerts from {row['senders']:,} senders about "
                    f"{row['localities']} localities in {row['incidents']:,} incidents "
                    f"({row['new_incidents']:,} new); board /incidents/ "
                    + ", ".join(f"{value} ms" for value in row["board_ms"])
                )
            if row["scenario"] == "kill":
                other.append(f"gunicorn answering again {row['down_s']} s after the SIGKILL")
            if row["scenario"] == "pg-restart":
                other.append(
                    f"PostgreSQL stopping, down and starting {row['outage_s']} s; answers to "
                    f"attempts made while it was down ({row['down_s']} s) "
                    f"{row['answers_during_outage']}, the slowest in "
                    f"{row['slowest_answer_during_outage_ms']} ms; 503s {row['http_503']:,}, 500s "
                    f"{row['http_500']}, timeouts {row['timeouts']}; first 2xx "
                    f"{row['recovered_after_s']} s after the restart"
                )
            other.append(
                f"all filed by the worker {row['filed_after_s']} s after the last "
                f"acknowledgment ({row['waiting']} left waiting)"
            )
            other.append(f"HTTP {row['statuses']}")
            if row["errors"]:
                other.append(f"no answer {row['errors']}")
            out.append(
                f"| {row['scenario']} | {run['database']['name']} | {row['sent']:,} | "
                f"{row['acknowledged']:,} | {row['stored']:,} | {row['lost']} | "
                f"{row['duplicated']} | {row['half_written']} | {row['retried']:,} | "
                f"{row['gave_up']} | {row['duration_s']} | {row['acked_per_s']} | "
                f"{row['latency_p50_ms']} | {row['latency_p99_ms']} | {'; '.join(other)} |"
            )
    out.append("")
    for run in phases:
        out.append(
            f"- {run['database']['name']} ({run['database']['settings']}), gunicorn "
            f"{run['workers']} sync workers and one `manage.py worker`; server log: "
            f"{run['server_problem_count']} worker timeouts or internal server errors"
            + (f": `{run['server_problems'][0]}`" if run["server_problems"] else "")
        )
    out += ["", "Printed:", "", "```", *lines, "```"]
    return "\n".join(out)


def write_doc(section: str) -> None:
    if DOC.exists():
        text = DOC.read_text()
        if START in text and END in text:
            before, rest = text.split(START, 1)
            after = rest.split(END, 1)[1]
            DOC.write_text(f"{before}{START}\n{section}\n{END}{after}")
            return
    DOC.write_text(f"# Reliability\n\n{START}\n{section}\n{END}\n")


def main_run(databases: list[str]) -> int:
    command = " ".join(
        [f"{k}={os.environ[k]}" for k in sorted(os.environ) if k.startswith("RELIABILITY_")]
        + ["make reliability" if os.environ.get("MAKELEVEL") else "python bench/reliability.py"]
    )
    phases, running = [], None
    with tempfile.TemporaryDirectory(prefix="kiungo-reliability-") as work:
        try:
            for vendor in databases:
                out = Path(work) / f"{vendor}.json"
                env = os.environ.copy()
                env.pop("KIUNGO_DATABASE_URL", None)
                running = spawn([PYTHON, __file__, "phase", vendor, out], env=env)
                code = running.wait()
                running = None
                if code != 0:
                    raise SystemExit(f"the {vendor} run failed (exit status {code})")
                phases.append(json.loads(out.read_text()))
        except (KeyboardInterrupt, SystemExit):
            log("stopped: stopping everything it started")
            raise
        finally:
            stop(running, grace=60)
    lines = [line(row) for run in phases for row in run["results"]]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiungo.settings")
    sys.path.insert(0, str(ROOT))
    section = render(phases, machine(), command, lines)
    write_doc(section)
    for text in lines:
        print(text)
    print(f"Written to {DOC.relative_to(ROOT)}")
    bad = [
        (row["scenario"], row["db"])
        for run in phases
        for row in run["results"]
        if row["lost"] or row["duplicated"] or row["half_written"] or row["waiting"]
    ]
    if bad:
        print(f"FAILED: lost, duplicated or half-written messages in {bad}", file=sys.stderr)
        return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    one = sub.add_parser("phase", help="(internal) run the scenarios on one database")
    one.add_argument("vendor", choices=("sqlite", "postgres"))
    one.add_argument("out")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    terminate_on_sigterm()
    if args.command == "phase":
        phase(args.vendor, args.out)
        return
    wanted = os.environ.get("RELIABILITY_DBS", "sqlite,postgres")
    try:
        code = main_run([name.strip() for name in wanted.split(",") if name.strip()])
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    raise SystemExit(code)


if __name__ == "__main__":
    main()
