#!/usr/bin/env python3
# ruff: noqa: S603, S607, S311 -- runs our own commands; seeded random test data, no secrets
"""Intake benchmark: how many SMS alerts a production-style Kiungo stores per second.

    make bench-intake                       # both databases, 15 s per case
    BENCH_SECONDS=3 make bench-intake       # a quick look
    BENCH_DBS=sqlite .venv/bin/python bench/intake.py
    BENCH_CASES=console make bench-intake   # the bare view and one gateway kind

For each database (SQLite in WAL mode with synchronous=FULL in a temporary data folder, then a
throwaway PostgreSQL 15 started by scripts/with-postgres.sh, restarted with fsync on), it
migrates, loads the demo (`manage.py demo`), starts gunicorn as in production (BENCH_WORKERS
sync workers, default 2; DEBUG off, no access log) on 127.0.0.1, and drives it from separate
load-generator processes (BENCH_CLIENTS processes of BENCH_THREADS threads, default 2 x 4; raw
pre-built HTTP/1.1 requests, one fresh TCP connection each: gunicorn's sync workers close
every connection). The cases:

- bare: `POST /bench/bare` (kiungo.bench): parse a 5-field form, insert one row: the floor;
- twilio, africastalking, external, smssync, console: the real `/sms/<kind>/<uuid>/receive`
  with requests signed as the provider signs them (manage.py play_gateway's `build_request`),
  unique message ids, and "ALERTE <town> <what>" texts about ~50 real MONUSCO localities from
  ~2,000 senders (the demo key contacts among them). The request stores the message; one
  `manage.py worker` (as `make run` starts it) files it: understand, place, group, route.

Before the cases, the raw durable commit rate: BENCH_RAW_PROCESSES processes (default 2; 0
skips it) run single-row INSERT + COMMIT loops straight through the driver for BENCH_SECONDS
(sqlite3 with the PRAGMAs of settings.py, or psycopg against the same fsync-on PostgreSQL), on a
table shaped like the bare view's row: the database's limit. The table shows full/bare and x/raw
(bare/raw on the bare row) and the peak RSS (/proc VmHWM) of gunicorn's master and workers.

Each case runs BENCH_WARMUP seconds (default 2) unmeasured, then BENCH_SECONDS (default 15).
After the window, the benchmark waits until the worker has filed everything (the drain), then
checks that every message id acknowledged with a 2xx is in the database exactly once and filed
into exactly one alert (lost=0 duplicated=0). Then a single-process pass through Django's test
client counts the queries and times the stages of one request of each kind, and of the worker's
filing of its message (BENCH_PROFILE_REQUESTS, default 200).
The table is printed and written between the markers of docs/benchmarks.md.

Every process started here (PostgreSQL, gunicorn, the worker, load generators) is stopped at
the end, on an error and on Ctrl-C. Everything listens and connects on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import os
import platform
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MANAGE = str(ROOT / "manage.py")
KINDS = ("twilio", "africastalking", "external", "smssync", "console")
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench-intake:start -->", "<!-- bench-intake:end -->"

# Requests pre-built per client process and measured second: a run that uses them all up
# stops early and says so (raise these if it ever happens).
POOL_PER_SECOND = {"bare": 2500, "gateway": 1500}
SENDERS = 2000
LOCALITIES = 50
TEXTS = (
    "ALERTE {place} attaque hommes armés",
    "ALERTE {place} attaque hommes armés cette nuit plusieurs maisons brûlées",
    "ALERTE {place} enlèvement de deux femmes au champ",
    "URGENT {place} coups de feu entendus près du marché",
    "HATARI {place} shambulio watu wenye silaha",
    "ALERTE {place} pillage des boutiques",
    "ALERT {place} armed men attacked the village",
    "ALERTE {place} menaces contre les déplacés",
)


def cases() -> tuple[str, ...]:
    """BENCH_CASES (gateway kinds, comma-separated; default all): the bare view always runs,
    the ratios need it."""
    wanted = [name.strip() for name in os.environ.get("BENCH_CASES", "").split(",") if name.strip()]
    unknown = set(wanted) - set(KINDS)
    if unknown:
        raise SystemExit(f"BENCH_CASES: unknown {', '.join(sorted(unknown))} (known: {KINDS})")
    return ("bare", *(wanted or KINDS))


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- Process groups --------------------------------------------------------------------------


def spawn(cmd, *, env=None, stdout=None, stderr=None, stdin=None) -> subprocess.Popen:
    """A child in its own process group (and session), so that it and its children can be
    stopped together, and a Ctrl-C in the terminal reaches only this script."""
    return subprocess.Popen(
        [str(part) for part in cmd],
        cwd=ROOT,
        env=env,
        stdout=stdout,
        stderr=stderr,
        stdin=stdin,
        start_new_session=True,
    )


def stop(process: subprocess.Popen | None, grace: float = 15.0) -> None:
    """SIGTERM to the child's whole process group, SIGKILL if it has not ended after `grace`."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def terminate_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so that `finally:` blocks stop what this process started."""

    def handler(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- CPU accounting (Linux /proc) ------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")
POSTMASTER: int | None = None  # our PostgreSQL server's pid, once known
WORKER: int | None = None  # the `manage.py worker` filing stored messages, once started


def _proc_stat(pid: int) -> tuple[int, float, float] | None:
    """(parent pid, CPU seconds used, CPU seconds of its reaped children), None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    own = (int(fields[11]) + int(fields[12])) / TICK
    reaped = (int(fields[13]) + int(fields[14])) / TICK
    return int(fields[1]), own, reaped


def cpu_of_tree(master: int | None) -> float:
    """CPU seconds used so far by a server's master process and its children (live ones, and
    those that have exited: the kernel adds those to the master's account)."""
    if not master:
        return 0.0
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _proc_stat(int(entry))
        if stat is None:
            continue
        parent, own, reaped = stat
        if int(entry) == master:
            total += own + reaped
        elif parent == master:
            total += own
    return total


def cpu_by_group(gunicorn_master: int) -> dict[str, float]:
    """CPU seconds used so far by gunicorn (master and workers), by our PostgreSQL and by the
    background worker."""
    return {
        "server": cpu_of_tree(gunicorn_master),
        "database": cpu_of_tree(POSTMASTER),
        "worker": cpu_of_tree(WORKER),
    }


def memory_kib(pid: int) -> dict[str, int]:
    """VmHWM (peak resident set since the process started) and VmRSS of a process, in KiB."""
    found = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                found[name] = int(value.split()[0])
    return found


def children_of(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        return [
            int(child)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
    return []


def server_memory(master: int) -> dict:
    """Peak and current RSS (MiB) of gunicorn's master and of its largest worker, read from
    /proc just before the server stops: VmHWM is the peak over the whole run."""
    workers = [memory_kib(pid) for pid in children_of(master)]
    workers = [found for found in workers if found]
    master_mem = memory_kib(master)
    return {
        "master_peak_mib": master_mem.get("VmHWM", 0) / 1024,
        "worker_peak_mib": max((found.get("VmHWM", 0) for found in workers), default=0) / 1024,
        "worker_rss_mib": max((found.get("VmRSS", 0) for found in workers), default=0) / 1024,
        "workers": len(workers),
    }


# --- Raw durable commit rate (the database's limit, no web framework) -----------------------

RAW_TABLE = "bench_raw_commit"


def raw_connect(vendor: str, target: str):
    """A driver connection set up as Kiungo's (SQLite: the PRAGMAs of settings.py)."""
    if vendor == "sqlite":
        import sqlite3

        db = sqlite3.connect(target, isolation_level=None, timeout=20)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        return db
    import psycopg

    return psycopg.connect(target, autocommit=True)


def raw_prepare(vendor: str, target: str) -> None:
    db = raw_connect(vendor, target)
    try:
        cursor = db.cursor()
        cursor.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        key = "INTEGER PRIMARY KEY AUTOINCREMENT" if vendor == "sqlite" else "BIGSERIAL PRIMARY KEY"
        # The bare view's row (kiungo.bench.BareRow): five short strings and a timestamp.
        cursor.execute(
            f"CREATE TABLE {RAW_TABLE} (id {key}, sender VARCHAR(32) NOT NULL, "
            "recipient VARCHAR(32) NOT NULL, text VARCHAR(200) NOT NULL, "
            "message_id VARCHAR(64) NOT NULL, sent_at VARCHAR(40) NOT NULL, "
            "created_at TIMESTAMP NOT NULL)"
        )
    finally:
        db.close()


def raw_drop(vendor: str, target: str) -> None:
    db = raw_connect(vendor, target)
    try:
        db.cursor().execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
    finally:
        db.close()


def raw_loop(vendor: str, target: str, seconds: float, out: str) -> None:
    """One process: single-row INSERT + COMMIT as fast as the database commits durably."""
    db = raw_connect(vendor, target)
    cursor = db.cursor()
    mark = "?" if vendor == "sqlite" else "%s"
    columns = "sender, recipient, text, message_id, sent_at, created_at"
    insert = f"INSERT INTO {RAW_TABLE} ({columns}) VALUES ({', '.join([mark] * 6)})"  # noqa: S608
    begin = "BEGIN IMMEDIATE" if vendor == "sqlite" else "BEGIN"
    latencies, number = [], 0
    text = "ALERTE Beni attaque hommes armés cette nuit plusieurs maisons brûlées"
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        number += 1
        start = time.perf_counter()
        cursor.execute(begin)
        cursor.execute(
            insert,
            (
                "+243990000001",
                "+243990000101",
                text,
                f"{os.getpid()}-{number}",
                str(time.time()),
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
            ),
        )
        cursor.execute("COMMIT")
        latencies.append(time.perf_counter() - start)
    elapsed = time.monotonic() - began
    db.close()
    Path(out).write_text(json.dumps({"elapsed": elapsed, "latencies": latencies}))


def raw_commit_rate(vendor: str, target: str, workdir: Path, seconds: int, processes: int):
    """Commits/s and p50/p99 of `processes` driver-level loops run together."""
    raw_prepare(vendor, target)
    children, outputs = [], []
    try:
        for index in range(processes):
            out = workdir / f"raw-{index}.json"
            outputs.append(out)
            children.append(
                spawn(
                    [PYTHON, __file__, "rawcommit", vendor, target, str(seconds), str(out)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                )
            )
        for child in children:
            if child.stdout.readline().strip() != b"ready":
                raise RuntimeError("a raw commit loop failed to start")
        for child in children:
            child.stdin.write(b"go\n")
            child.stdin.flush()
        for child in children:
            if child.wait(seconds + 60) != 0:
                raise RuntimeError("a raw commit loop failed")
    finally:
        for child in children:
            stop(child, grace=5)
    latencies, elapsed = [], 0.0
    for out in outputs:
        part = json.loads(out.read_text())
        latencies += part["latencies"]
        elapsed = max(elapsed, part["elapsed"])
        out.unlink()
    raw_drop(vendor, target)
    latencies.sort()
    return {
        "case": "raw",
        "processes": processes,
        "requests": len(latencies),
        "rps": len(latencies) / max(elapsed, 1e-9),
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine."""
    with open("/proc/stat") as handle:
        values = [int(value) for value in handle.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


# --- Load generator (a separate process) -----------------------------------------------------


def build_pool(spec: dict, index: int) -> list[tuple[bytes, str]]:
    """Pre-built raw requests (bytes, message id) for one client process."""
    case = spec["case"]
    size = spec["pool_size"]
    host = f"127.0.0.1:{spec['port']}"
    rng = random.Random(f"{spec['prefix']}:{index}")
    senders, places = spec["senders"], spec["places"]
    pool = []
    if case != "bare":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiungo.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from kiungo.messaging.management.commands.play_gateway import build_request
    now = time.time()
    for number in range(size):
        message_id = f"{spec['prefix']}-{index}-{number}"
        sender = rng.choice(senders)
        text = rng.choice(TEXTS).format(place=rng.choice(places))
        if case == "bare":
            body = urllib.parse.urlencode(
                {"from": sender, "to": spec["to"], "text": text, "id": message_id, "date": now}
            ).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        else:
            headers, body = build_request(
                case,
                f"http://{host}{spec['path']}",
                spec["secrets"],
                sender=sender,
                text=text,
                message_id=message_id,
                to=spec["to"],
                now=now,
            )
        head = [f"POST {spec['path']} HTTP/1.1", f"Host: {host}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        head += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        pool.append(("\r\n".join(head).encode() + body, message_id))
    return pool


def loadgen(spec_path: str, index: int, out_path: str) -> None:
    """One client process: build the pool, say "ready", wait for "go", run, write results."""
    spec = json.loads(Path(spec_path).read_text())
    pool = build_pool(spec, index)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    port, seconds, threads = spec["port"], spec["seconds"], spec["threads"]
    usage_at_go = resource.getrusage(resource.RUSAGE_SELF)
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter = Counter()
    failures: Counter = Counter()
    acked: list[str] = []
    exhausted = threading.Event()
    started = time.perf_counter()
    deadline = started + seconds
    last_done = [started]

    def worker():
        local_latencies, local_acked = [], []
        local_statuses, local_failures = Counter(), Counter()
        while True:
            number = next(counter)
            if number >= len(pool):
                exhausted.set()
                break
            begun = time.perf_counter()
            if begun >= deadline:
                break
            raw, message_id = pool[number]
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
                    sock.sendall(raw)
                    chunks = []
                    while chunk := sock.recv(65536):
                        chunks.append(chunk)
                answer = b"".join(chunks)
                status = int(answer[9:12])
            except (OSError, ValueError) as error:
                local_failures[type(error).__name__] += 1
                continue
            done = time.perf_counter()
            local_latencies.append(done - begun)
            local_statuses[status] += 1
            if 200 <= status < 300:
                local_acked.append(message_id)
        with lock:
            latencies.extend(local_latencies)
            acked.extend(local_acked)
            statuses.update(local_statuses)
            failures.update(local_failures)
            last_done[0] = max(last_done[0], time.perf_counter())

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage.ru_utime + usage.ru_stime) - (usage_at_go.ru_utime + usage_at_go.ru_stime)
    Path(out_path).write_text(
        json.dumps(
            {
                "elapsed": last_done[0] - started,
                "latencies": latencies,
                "statuses": {str(code): count for code, count in statuses.items()},
                "failures": dict(failures),
                "acked": acked,
                "exhausted": exhausted.is_set(),
                "cpu": cpu,
            }
        )
    )


def drive(spec: dict, workdir: Path, clients: int, server_pid: int, before_go=None) -> dict:
    """Run `clients` load-generator processes on `spec` together; merge their results, with
    the CPU time used meanwhile by the server, the database and the whole machine.

    `before_go`: called once every load generator is ready, just before they start (the
    escalation benchmark plants its incidents there)."""
    spec_path = workdir / f"spec-{spec['prefix']}.json"
    spec_path.write_text(json.dumps(spec))
    processes, outputs = [], []
    try:
        for index in range(clients):
            out = workdir / f"out-{spec['prefix']}-{index}.json"
            outputs.append(out)
            processes.append(
                spawn(
                    [PYTHON, __file__, "loadgen", spec_path, str(index), out],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env=os.environ.copy(),
                )
            )
        for process in processes:
            if process.stdout.readline().strip() != b"ready":
                raise RuntimeError("a load generator failed to start")
        if before_go is not None:
            before_go()
        cpu_before, busy_before = cpu_by_group(server_pid), machine_busy()
        began = time.monotonic()
        for process in processes:
            process.stdin.write(b"go\n")
            process.stdin.flush()
        for process in processes:
            if process.wait(spec["seconds"] + 180) != 0:
                raise RuntimeError("a load generator failed")
        wall = time.monotonic() - began
        cpu_after, busy_after = cpu_by_group(server_pid), machine_busy()
    finally:
        for process in processes:
            stop(process, grace=5)
    merged = {
        "elapsed": 0.0,
        "latencies": [],
        "statuses": Counter(),
        "failures": Counter(),
        "acked": [],
        "exhausted": False,
        "cpu": 0.0,
        "wall": wall,
        "server_cpu": cpu_after["server"] - cpu_before["server"],
        "db_cpu": cpu_after["database"] - cpu_before["database"],
        "worker_cpu": cpu_after["worker"] - cpu_before["worker"],
        "machine_cpu": (busy_after[0] - busy_before[0]) / TICK,
        "machine_share": (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1]),
    }
    for out in outputs:
        part = json.loads(out.read_text())
        merged["elapsed"] = max(merged["elapsed"], part["elapsed"])
        merged["latencies"] += part["latencies"]
        merged["statuses"].update(part["statuses"])
        merged["failures"].update(part["failures"])
        merged["acked"] += part["acked"]
        merged["exhausted"] |= part["exhausted"]
        merged["cpu"] += part["cpu"]
        out.unlink()
    spec_path.unlink()
    return merged


def percentile(sorted_values: list[float], share: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(share * len(sorted_values)))]


# --- One database ----------------------------------------------------------------------------


def server_env(data_dir: Path) -> dict:
    env = os.environ.copy()
    env.update(
        KIUNGO_ENV="development",  # the demo is refused in production
        KIUNGO_DEBUG="false",
        KIUNGO_BENCH="1",
        KIUNGO_ALLOWED_HOSTS="127.0.0.1",
        KIUNGO_LOG_LEVEL="WARNING",
        KIUNGO_DATA_DIR=str(data_dir),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.setdefault("DJANGO_SETTINGS_MODULE", "kiungo.settings")  # another, to try a change
    return env


def make_postgres_durable(url: str) -> None:
    """scripts/with-postgres.sh starts PostgreSQL with fsync=off (right for tests, where the
    data is thrown away). A benchmark of an alert system must pay for durable commits: restart
    that same server without the overrides (fsync, full_page_writes and synchronous_commit
    back to their defaults, all on)."""
    global POSTMASTER
    import glob
    import shutil

    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:

        def show(name):
            return connection.execute(f"SHOW {name}").fetchone()[0]

        data_dir, port = show("data_directory"), show("port")
        sockets, fsync = show("unix_socket_directories"), show("fsync")
    if fsync != "on":
        candidates = sorted(glob.glob("/usr/lib/postgresql/15/bin/pg_ctl")) + sorted(
            glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")
        )
        pg_ctl = candidates[0] if candidates else shutil.which("pg_ctl")
        if not pg_ctl:
            raise SystemExit("pg_ctl not found: cannot restart PostgreSQL with fsync on")
        run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [
                *run_as,
                pg_ctl,
                "-D",
                data_dir,
                "-l",
                str(Path(data_dir).parent / "server.log"),
                "-w",
                "-m",
                "fast",
                "-o",
                f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1",
                "restart",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    with open(Path(data_dir) / "postmaster.pid") as handle:
        POSTMASTER = int(handle.readline())


def database_facts(vendor: str) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute("select sqlite_version()")
            version = cursor.fetchone()[0]
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[cursor.fetchone()[0]]
            facts = {
                "name": f"SQLite {version}",
                "settings": f"journal_mode={journal}, synchronous={synchronous}",
            }
        else:
            values = []
            for name in ("server_version", "fsync", "synchronous_commit", "full_page_writes"):
                cursor.execute(f"SHOW {name}")
                values.append(cursor.fetchone()[0])
            facts = {
                "name": f"PostgreSQL {values[0].split()[0]}",
                "settings": f"fsync={values[1]}, synchronous_commit={values[2]}, "
                f"full_page_writes={values[3]}, CONN_MAX_AGE="
                f"{connection.settings_dict['CONN_MAX_AGE']}",
            }
    connection.close()
    return facts


def pools() -> dict:
    """Real MONUSCO locality names and ~2,000 senders for the texts."""
    from django.db import connection

    from kiungo.demo import channels
    from kiungo.forces.models import DutyPhone
    from kiungo.geography.models import Area
    from kiungo.lib.text import fold

    names = list(
        Area.objects.filter(
            mission__code="MONUSCO", level=Area.Level.LOCALITY, source=Area.Source.GEONAMES
        )
        .order_by("pcode")
        .values_list("name", flat=True)
    )
    # Names shared by two localities are ambiguous on purpose in real life; keep unique ones.
    counts = Counter(fold(name) for name in names)
    unique = sorted({name for name in names if counts[fold(name)] == 1})
    towns = [contact.base_code for contact in channels.DEMO_CONTACTS]
    rng = random.Random("kiungo-bench-places")
    preferred = [name for name in unique if fold(name) in {fold(town) for town in towns}]
    others = [name for name in unique if name not in preferred]
    places = preferred + rng.sample(others, max(0, min(len(others), LOCALITIES - len(preferred))))
    taken = set(DutyPhone.objects.values_list("number", flat=True))
    taken |= {number for _name, number in channels.DEMO_CHANNELS.values()}
    senders = [contact.phone for contact in channels.DEMO_CONTACTS]
    while len(senders) < SENDERS:
        number = f"+24399{rng.randint(0, 9_999_999):07d}"
        if number not in taken and number not in senders:
            senders.append(number)
    connection.close()
    return {"places": places, "senders": senders}


def db_counts(case: str, channel_uuid: str | None) -> dict:
    from django.db import connection

    from kiungo.alerts.models import Alert
    from kiungo.bench.models import BareRow
    from kiungo.messaging.models import InboundMessage

    if case == "bare":
        result = {
            "stored": BareRow.objects.count(),
            "filed": 0,
            "waiting": 0,
            "review": 0,
            "unplaced": 0,
        }
    else:
        alerts = Alert.objects.filter(inbound__channel__uuid=channel_uuid)
        messages = InboundMessage.objects.filter(channel__uuid=channel_uuid)
        result = {
            "stored": messages.count(),
            "filed": alerts.count(),
            "waiting": messages.filter(state=InboundMessage.State.RECEIVED).count(),
            "review": InboundMessage.objects.filter(
                channel__uuid=channel_uuid, state=InboundMessage.State.NEEDS_REVIEW
            ).count(),
            "unplaced": alerts.filter(area__isnull=True).count(),
            # Why the pipeline failed, when it did (the message itself is kept for review).
            "review_errors": sorted(
                {
                    error[:120]
                    for error in InboundMessage.objects.filter(
                        channel__uuid=channel_uuid, state=InboundMessage.State.NEEDS_REVIEW
                    ).values_list("error", flat=True)
                }
            ),
        }
    connection.close()
    return result


def verify(case: str, channel_uuid: str | None, acked: list[str]) -> dict:
    """Each acknowledged id stored exactly once? (lost: not stored; duplicated: stored twice)"""
    from django.db import connection
    from django.db.models import Count

    from kiungo.bench.models import BareRow
    from kiungo.messaging.models import InboundMessage

    found: Counter = Counter()
    for start in range(0, len(acked), 500):
        chunk = acked[start : start + 500]
        if case == "bare":
            rows = (
                BareRow.objects.filter(message_id__in=chunk)
                .values("message_id")
                .annotate(n=Count("id"))
                .values_list("message_id", "n")
            )
        else:
            rows = (
                InboundMessage.objects.filter(channel__uuid=channel_uuid, external_id__in=chunk)
                .values("external_id")
                .annotate(n=Count("id"))
                .values_list("external_id", "n")
            )
        found.update(dict(rows))
    filed_twice = 0  # a message filed into two alerts is a duplicate too
    if case != "bare":
        from kiungo.alerts.models import Alert

        filed_twice = (
            Alert.objects.filter(inbound__channel__uuid=channel_uuid)
            .values("inbound")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
    connection.close()
    return {
        "acked": len(acked),
        "acked_distinct": len(set(acked)),
        "lost": sum(1 for message_id in set(acked) if found[message_id] == 0),
        "duplicated": sum(1 for count in found.values() if count > 1) + filed_twice,
    }


def load_demo(vendor: str, *, setup_django: bool = True) -> None:
    """Migrate the database of the current environment and load the demo into it (in child
    processes, as an operator would), then set Django up in this process to read it."""
    began = time.monotonic()
    subprocess.run([PYTHON, MANAGE, "migrate", "--noinput", "-v0"], cwd=ROOT, check=True)
    subprocess.run([PYTHON, MANAGE, "demo"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    log(f"{vendor}: migrated and demo loaded in {time.monotonic() - began:.0f} s")
    if setup_django:
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()


def start_server(
    env: dict, workers: int, server_log: Path, port: int | None = None
) -> tuple[subprocess.Popen, int]:
    """The production-style server (gunicorn, sync workers) on `port` (default: a free one),
    once it answers. The log is appended to, so a restarted server keeps the first one's."""
    port = port or free_port()
    with open(server_log, "ab") as handle:
        server = spawn(
            [
                Path(PYTHON).parent / "gunicorn",
                "kiungo.wsgi",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{port}",
                "--graceful-timeout",
                "5",
                "--timeout",
                "120",
            ],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(port, server)
    except BaseException:
        stop(server)  # the caller never gets it: stop it here
        raise
    return server, port


def start_worker(env: dict, worker_log: Path) -> subprocess.Popen:
    """`manage.py worker`, as `make run` starts it (the Procfile): it files stored messages."""
    global WORKER
    with open(worker_log, "ab") as handle:
        worker = spawn([PYTHON, MANAGE, "worker"], env=env, stdout=handle, stderr=subprocess.STDOUT)
    WORKER = worker.pid
    return worker


def wait_filed(channel_uuid: str | None, worker: subprocess.Popen, timeout: float = 900) -> float:
    """Seconds until the worker has filed every message of the channel stored so far."""
    from django.db import connection

    from kiungo.messaging.models import InboundMessage

    began = time.monotonic()
    if channel_uuid is None:
        return 0.0
    waiting = InboundMessage.objects.filter(
        channel__uuid=channel_uuid, state=InboundMessage.State.RECEIVED
    )
    try:
        while waiting.exists():
            if worker.poll() is not None:
                raise RuntimeError("the worker exited (see its log above)")
            if time.monotonic() - began > timeout:
                raise RuntimeError(f"messages still waiting after {timeout:.0f} s")
            time.sleep(0.05)
    finally:
        connection.close()
    return time.monotonic() - began


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 60.0) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited at start (see its log above)")
        try:
            with opener.open(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /health in time")


def run_case(case, port, server, worker, workdir, settings, data) -> dict:
    from kiungo.demo import channels

    seconds, warmup, clients, threads = settings
    if case == "bare":
        path, secrets, to, channel_uuid = "/bench/bare", {}, "+243990000101", None
    else:
        channel_uuid = str(channels.channel_uuid(case))
        path = channels.receive_path(case)
        secrets = channels.DEMO_SECRETS[case]
        to = channels.DEMO_CHANNELS[case][1]
    kind = "bare" if case == "bare" else "gateway"
    spec = {
        "case": case,
        "port": port,
        "path": path,
        "secrets": secrets,
        "to": to,
        "threads": threads,
        **data,
    }
    tag = uuid.uuid4().hex[:6]
    acked = []
    if warmup:
        warm = {
            **spec,
            "seconds": warmup,
            "prefix": f"w{tag}-{case}",
            "pool_size": POOL_PER_SECOND[kind] * warmup,
        }
        acked += drive(warm, workdir, clients, server.pid)["acked"]
    wait_filed(channel_uuid, worker)  # the measured window starts with nothing waiting
    before = db_counts(case, channel_uuid)
    main = {
        **spec,
        "seconds": seconds,
        "prefix": f"m{tag}-{case}",
        "pool_size": POOL_PER_SECOND[kind] * seconds,
    }
    result = drive(main, workdir, clients, server.pid)
    at_end = db_counts(case, channel_uuid)
    worker_cpu = cpu_of_tree(WORKER)
    drain = wait_filed(channel_uuid, worker)  # the backlog the window left, filed
    worker_cpu = result["worker_cpu"] + cpu_of_tree(WORKER) - worker_cpu
    after = db_counts(case, channel_uuid)
    acked += result["acked"]
    checked = verify(case, channel_uuid, acked)
    latencies = sorted(result["latencies"])
    ok = sum(count for code, count in result["statuses"].items() if 200 <= int(code) < 300)
    errors = sum(result["statuses"].values()) - ok + sum(result["failures"].values())
    requests = sum(result["statuses"].values()) + sum(result["failures"].values())
    elapsed = result["elapsed"] or seconds
    stored = after["stored"] - before["stored"]
    filed = after["filed"] - before["filed"]
    # CPU of processes that are not part of the benchmark (other work on the machine).
    foreign = (
        result["machine_cpu"]
        - result["server_cpu"]
        - result["db_cpu"]
        - result["worker_cpu"]
        - result["cpu"]
    )
    return {
        "case": case,
        "requests": requests,
        "ok": ok,
        "errors": errors,
        "error_kinds": {
            **{
                f"HTTP {code}": count
                for code, count in result["statuses"].items()
                if not 200 <= int(code) < 300
            },
            **result["failures"],
        },
        "seconds": elapsed,
        "rps": ok / elapsed,
        "stored": stored,
        "stored_per_s": stored / elapsed,
        "filed": filed,
        # Filed by the worker while the load ran, and end to end (until nothing waits).
        "filed_in_window_per_s": (at_end["filed"] - before["filed"]) / elapsed,
        "filed_per_s": filed / (elapsed + drain) if filed else 0.0,
        "waiting_at_end": at_end["waiting"],
        "drain_s": drain,
        "worker_cpu_ms": worker_cpu * 1000 / filed if filed else 0.0,
        "review": after["review"] - before["review"],
        "review_errors": after.get("review_errors", []),
        "unplaced": after["unplaced"] - before["unplaced"],
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "server_cpu_ms": result["server_cpu"] * 1000 / max(1, requests),
        "db_cpu_ms": result["db_cpu"] * 1000 / max(1, requests),
        "client_cpu_ms": result["cpu"] * 1000 / max(1, requests),
        "machine_busy": result["machine_share"],
        "foreign_cores": max(0.0, foreign) / result["wall"],
        "exhausted": result["exhausted"],
        **checked,
    }


# --- Stage profile (single process, Django's test client) ------------------------------------


class Stages:
    """Wraps functions to add up their time and queries per call (inclusive of nested ones)."""

    def __init__(self):
        self.time: Counter = Counter()
        self.queries: Counter = Counter()
        self.calls: Counter = Counter()
        self.patches: list = []

    def wrap(self, owner, attribute: str, label: str) -> None:
        from django.db import connection

        original = getattr(owner, attribute, None)
        if original is None:
            return
        stages = self

        def timed(*args, **kwargs):
            queries = len(connection.queries_log)
            begun = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                stages.time[label] += time.perf_counter() - begun
                stages.queries[label] += len(connection.queries_log) - queries
                stages.calls[label] += 1

        self.patches.append((owner, attribute, original))
        setattr(owner, attribute, timed)

    def undo(self) -> None:
        for owner, attribute, original in reversed(self.patches):
            setattr(owner, attribute, original)


def profile_stages(requests: int, data: dict, port: int) -> dict:
    """Per kind: queries and milliseconds per request, by stage, through the real views, and
    per message for the worker's filing of it."""
    from django.db import connection, reset_queries
    from django.test import Client

    from kiungo.alerts import incidents, intake
    from kiungo.demo import channels
    from kiungo.messaging import views
    from kiungo.messaging.gateways import TRANSPORTS
    from kiungo.messaging.management.commands.play_gateway import build_request

    rng = random.Random("kiungo-bench-profile")
    connection.force_debug_cursor = True  # record queries with DEBUG off
    profile = {}
    try:
        for kind in KINDS:
            stages = Stages()
            stages.wrap(views, "_transport", "channel lookup")
            stages.wrap(TRANSPORTS[kind], "verify", "verify signature")
            stages.wrap(TRANSPORTS[kind], "parse_inbound", "parse request")
            stages.wrap(views, "store_sms", "store (the INSERT)")
            stages.wrap(intake, "process_batch", "worker: file one message (a batch of one)")
            stages.wrap(intake, "understand", "worker: understand + place")
            stages.wrap(incidents, "attach", "worker: group into incident (save alert)")
            client = Client()
            host = f"127.0.0.1:{port}"
            path = channels.receive_path(kind)
            total = 0.0
            total_queries = 0
            try:
                for number in range(requests):
                    message_id = f"p{uuid.uuid4().hex[:8]}-{number}"
                    headers, body = build_request(
                        kind,
                        f"http://{host}{path}",
                        channels.DEMO_SECRETS[kind],
                        sender=rng.choice(data["senders"]),
                        text=rng.choice(TEXTS).format(place=rng.choice(data["places"])),
                        message_id=message_id,
                        to=channels.DEMO_CHANNELS[kind][1],
                    )
                    extra = {
                        name: value
                        for name, value in headers.items()
                        if name.lower() != "content-type"
                    }
                    reset_queries()
                    begun = time.perf_counter()
                    answer = client.post(
                        path,
                        body,
                        content_type=headers["Content-Type"],
                        headers={"Host": host, **extra},
                    )
                    total += time.perf_counter() - begun
                    total_queries += len(connection.queries_log)
                    if answer.status_code != 200:
                        raise RuntimeError(f"{kind}: HTTP {answer.status_code} {answer.content}")
                    intake.process_received()  # what the worker does next (timed by stage)
            finally:
                stages.undo()
            profile[kind] = {
                "request": {"ms": total * 1000 / requests, "queries": total_queries / requests},
                **{
                    label: {
                        "ms": stages.time[label] * 1000 / requests,
                        "queries": stages.queries[label] / requests,
                    }
                    for label in stages.calls
                },
            }
    finally:
        connection.force_debug_cursor = False
        connection.close()
    return profile


def phase(vendor: str, out: str) -> None:
    """Benchmark one database; write the results as JSON to `out`."""
    seconds = env_int("BENCH_SECONDS", 15)
    warmup = env_int("BENCH_WARMUP", 2)
    clients = env_int("BENCH_CLIENTS", 2)
    threads = env_int("BENCH_THREADS", 4)
    workers = env_int("BENCH_WORKERS", 2)
    profile_requests = env_int("BENCH_PROFILE_REQUESTS", 200)
    raw_processes = env_int("BENCH_RAW_PROCESSES", 2)
    if seconds + warmup > 280:
        raise SystemExit("BENCH_SECONDS: at most 270 (signed webhooks expire after 5 minutes)")
    url = os.environ.get("KIUNGO_DATABASE_URL", "")
    if (vendor == "postgres") != url.startswith("postgres"):
        raise SystemExit(f"phase {vendor}: KIUNGO_DATABASE_URL is {url or 'not set'}")
    workdir = Path(tempfile.mkdtemp(prefix=f"kiungo-bench-{vendor}-"))
    env = server_env(workdir / "data")
    os.environ.clear()
    os.environ.update(env)
    if vendor == "postgres":
        make_postgres_durable(url)
    server = worker = None
    server_log, worker_log = workdir / "gunicorn.log", workdir / "worker.log"
    try:
        load_demo(vendor)
        facts = database_facts(vendor)
        data = pools()
        raw = None
        if raw_processes:
            log(f"{vendor}: raw durable commits, {raw_processes} processes x {seconds} s")
            target = url if vendor == "postgres" else str(workdir / "raw.sqlite3")
            raw = raw_commit_rate(vendor, target, workdir, seconds, raw_processes)
            log(f"{vendor}: raw: {raw['rps']:.0f} commits/s, p50 {raw['p50_ms']:.1f} ms")
        server, port = start_server(env, workers, server_log)
        worker = start_worker(env, worker_log)
        results = []
        for case in cases():
            log(f"{vendor}: {case}, {warmup} s warm-up + {seconds} s")
            result = run_case(
                case, port, server, worker, workdir, (seconds, warmup, clients, threads), data
            )
            log(
                f"{vendor}: {case}: {result['rps']:.0f} req/s, {result['stored_per_s']:.0f} "
                f"stored/s, p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
                f"errors {result['errors']}; filed {result['filed_per_s']:.0f}/s end to end "
                f"({result['waiting_at_end']} waiting at the end, drained in "
                f"{result['drain_s']:.1f} s); lost={result['lost']} "
                f"duplicated={result['duplicated']}"
            )
            results.append(result)
        memory = server_memory(server.pid)
        memory["background_peak_mib"] = memory_kib(worker.pid).get("VmHWM", 0) / 1024
        stop(server)
        stop(worker)
        server = worker = None
        log(f"{vendor}: stage profile, {profile_requests} requests per kind (test client)")
        stages = profile_stages(profile_requests, data, port) if profile_requests else {}
        Path(out).write_text(
            json.dumps(
                {
                    "vendor": vendor,
                    "database": facts,
                    "results": results,
                    "raw": raw,
                    "memory": memory,
                    "stages": stages,
                    "settings": {
                        "seconds": seconds,
                        "warmup": warmup,
                        "clients": clients,
                        "threads": threads,
                        "workers": workers,
                        "places": len(data["places"]),
                        "senders": len(data["senders"]),
                    },
                }
            )
        )
    except BaseException:
        for log_file in (server_log, worker_log):
            if log_file.exists():
                sys.stderr.write(log_file.read_text(errors="replace")[-4000:])
        raise
    finally:
        stop(server)
        stop(worker)
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


# --- Report ----------------------------------------------------------------------------------


def machine() -> dict:
    model = "unknown"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as handle:
        kib = int(handle.readline().split()[1])

    def git(*args):
        run = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return run.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain"):
        commit += " (with uncommitted changes)"
    import django

    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "ram": f"{kib / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "commit": commit,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def render(phases: list[dict], facts: dict, command: str) -> str:
    lines = [
        f"Measured {facts['date']} on {facts['cpus']} CPUs ({facts['cpu']}), {facts['ram']} "
        f"RAM, Linux {facts['kernel']}, Python {facts['python']}, Django {facts['django']}, "
        f"commit {facts['commit']}.",
        "",
        f"Command: `{command}`",
        "",
    ]
    for run in phases:
        settings = run["settings"]
        lines += [
            f"### {run['database']['name']} ({run['database']['settings']})",
            "",
            f"gunicorn, {settings['workers']} sync workers, DEBUG off, no access log, and one "
            "`manage.py worker` filing what they store (as `make run` runs them); "
            f"{settings['clients']} load "
            f"generator processes x {settings['threads']} threads, a new TCP connection per "
            f"request; {settings['warmup']} s warm-up, then {settings['seconds']} s per case; "
            f"texts about {settings['places']} real MONUSCO localities from "
            f"{settings['senders']} senders.",
            "",
            "| case | requests | 2xx/s | stored/s | p50 ms | p99 ms | errors | full/bare "
            "| x/raw | server CPU ms/req | DB CPU ms/req | filed/s in window | filed/s end "
            "to end | waiting at end | drained in | worker CPU ms/alert | lost | duplicated |",
            "|---|" + "---:|" * 17,
        ]
        raw = run.get("raw")
        if raw:
            lines.append(
                f"| raw durable commit (driver, {raw['processes']} processes) | "
                f"{raw['requests']:,} | - | {raw['rps']:,.0f} | {raw['p50_ms']:.1f} | "
                f"{raw['p99_ms']:.1f} | 0 | - | 1.00 | - | - | - | - | - | - | - | - | - |"
            )
        bare = next((row for row in run["results"] if row["case"] == "bare"), None)
        for row in run["results"]:
            ratio = (
                f"{row['stored_per_s'] / bare['stored_per_s']:.2f}"
                if bare and bare["stored_per_s"] and row["case"] != "bare"
                else "1.00"
            )
            of_raw = f"{row['stored_per_s'] / raw['rps']:.2f}" if raw and raw["rps"] else "-"
            name = "bare insert (`/bench/bare`)" if row["case"] == "bare" else row["case"]
            filing = (
                "- | - | - | - | -"
                if row["case"] == "bare"
                else f"{row['filed_in_window_per_s']:,.0f} | {row['filed_per_s']:,.0f} | "
                f"{row['waiting_at_end']:,} | {row['drain_s']:.1f} s | {row['worker_cpu_ms']:.2f}"
            )
            lines.append(
                f"| {name} | {row['requests']:,} | {row['rps']:,.0f} | "
                f"{row['stored_per_s']:,.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | "
                f"{row['errors']} | {ratio} | {of_raw} | {row['server_cpu_ms']:.2f} | "
                f"{row['db_cpu_ms']:.2f} | {filing} | {row['lost']} | {row['duplicated']} |"
            )
        full = [row for row in run["results"] if row["case"] != "bare"]
        if bare and bare["stored_per_s"] and full:
            ratios = [row["stored_per_s"] / bare["stored_per_s"] for row in full]
            summary = f"Ratios: full/bare {min(ratios):.2f}-{max(ratios):.2f} (target 0.50)"
            if raw and raw["rps"]:
                summary += f"; bare/raw {bare['stored_per_s'] / raw['rps']:.2f}"
            lines += ["", summary + "."]
        memory = run.get("memory")
        if memory and memory.get("workers"):
            lines += [
                "",
                f"Memory (web): largest of {memory['workers']} gunicorn workers peak "
                f"{memory['worker_peak_mib']:.0f} MiB RSS (VmHWM; {memory['worker_rss_mib']:.0f} "
                f"MiB at the end), master {memory['master_peak_mib']:.0f} MiB; the background "
                f"worker peak {memory.get('background_peak_mib', 0):.0f} MiB RSS.",
            ]
        notes = []
        for row in run["results"]:
            if row["error_kinds"]:
                notes.append(f"{row['case']} errors: {row['error_kinds']}")
            if row["review"] or row["unplaced"]:
                notes.append(
                    f"{row['case']}: {row['review']} messages left for review, "
                    f"{row['unplaced']} alerts not placed"
                    + (f"; errors: {row['review_errors']}" if row["review_errors"] else "")
                )
            if row["exhausted"]:
                notes.append(f"{row['case']}: the pre-built request pool ran out (run shorter)")
        busy = ", ".join(
            f"{row['case']} {row['machine_busy']:.0%} (load generator "
            f"{row['client_cpu_ms']:.2f} ms CPU/req, other processes "
            f"{row['foreign_cores']:.2f} cores)"
            for row in run["results"]
        )
        lines += ["", f"Machine CPU busy during each case: {busy}."]
        foreign = max(row["foreign_cores"] for row in run["results"])
        if foreign > 0.1:
            lines.append(
                f"- WARNING: processes outside the benchmark used up to {foreign:.2f} cores "
                "during a case: these figures are lower than the machine can do."
            )
        lines += [f"- {note}" for note in notes]
        if run["stages"]:
            lines += [
                "",
                "Where one request's time goes (single process, Django test client, no "
                "concurrency; inclusive: nested stages are part of their parents):",
                "",
                "| stage | " + " | ".join(run["stages"]) + " |",
                "|---|" + "---:|" * len(run["stages"]),
            ]
            labels = list(next(iter(run["stages"].values())))
            for label in labels:
                cells = []
                for stages in run["stages"].values():
                    value = stages.get(label)
                    cells.append(
                        f"{value['ms']:.2f} ms, {value['queries']:.1f} q" if value else "-"
                    )
                lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    lines.append(
        "2xx/s counts acknowledged requests; stored/s counts messages stored in the database "
        "(rows for the bare case): what a gateway's success answer promises. The worker then "
        "files each message (understands it, places it, groups it into an incident, routes it, "
        "queues the unit's notification and the sender's receipt): filed/s in window counts "
        "alerts it made while the load ran, filed/s end to end those made from the window's "
        "messages divided by the time until none was left waiting (the window plus the drain). "
        "full/bare compares stored/s with the bare inserts/s on the "
        "same database; x/raw compares them with the raw durable commit rate: single-row "
        "INSERT + COMMIT loops straight through the driver (sqlite3 with the PRAGMAs of "
        "settings.py; psycopg against the same fsync-on PostgreSQL), the database's limit, "
        "BENCH_RAW_PROCESSES processes (default 2) for BENCH_SECONDS. "
        "lost: a 2xx-acknowledged message id missing from the database; "
        "duplicated: one stored twice, or filed into two alerts. CPU per request is measured "
        "from /proc for the gunicorn processes, the worker and the PostgreSQL processes; the "
        "load generator runs on the same CPUs."
    )
    return "\n".join(lines)


def write_doc(section: str) -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    if DOC.exists():
        text = DOC.read_text()
        if START in text and END in text:
            before, rest = text.split(START, 1)
            after = rest.split(END, 1)[1]
            DOC.write_text(f"{before}{START}\n{section}\n{END}{after}")
            return
    DOC.write_text(
        "# Benchmarks\n\n## Intake (`make bench-intake`)\n\n"
        "Written by `bench/intake.py` between the markers below; notes outside them are kept.\n\n"
        f"{START}\n{section}\n{END}\n"
    )


def main_run(databases: list[str]) -> None:
    command = " ".join(
        [f"{name}={os.environ[name]}" for name in sorted(os.environ) if name.startswith("BENCH_")]
        + ["make bench-intake" if os.environ.get("MAKELEVEL") else "python bench/intake.py"]
    )
    phases, running = [], None
    with tempfile.TemporaryDirectory(prefix="kiungo-bench-") as work:
        try:
            for vendor in databases:
                out = Path(work) / f"{vendor}.json"
                cmd = [PYTHON, __file__, "phase", vendor, out]
                env = os.environ.copy()
                env.pop("KIUNGO_DATABASE_URL", None)
                if vendor == "postgres":
                    cmd = [ROOT / "scripts" / "with-postgres.sh", *cmd]
                running = spawn(cmd, env=env)
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
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiungo.settings")
    section = render(phases, machine(), command)
    print(section)
    write_doc(section)
    failed = [
        (run["vendor"], row["case"])
        for run in phases
        for row in run["results"]
        if row["lost"] or row["duplicated"]
    ]
    for run in phases:
        for row in run["results"]:
            print(
                f"{run['vendor']} {row['case']}: lost={row['lost']} "
                f"duplicated={row['duplicated']} (of {row['acked_distinct']} acknowledged)"
            )
    print(f"Written to {DOC.relative_to(ROOT)}")
    if failed:
        raise SystemExit(f"acknowledged messages lost or duplicated: {failed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    one = sub.add_parser("phase", help="(internal) benchmark the database in the environment")
    one.add_argument("vendor", choices=("sqlite", "postgres"))
    one.add_argument("out")
    gen = sub.add_parser("loadgen", help="(internal) one load-generator process")
    gen.add_argument("spec")
    gen.add_argument("index", type=int)
    gen.add_argument("out")
    raw = sub.add_parser("rawcommit", help="(internal) one raw INSERT + COMMIT loop")
    raw.add_argument("vendor", choices=("sqlite", "postgres"))
    raw.add_argument("target")
    raw.add_argument("seconds", type=float)
    raw.add_argument("out")
    args = parser.parse_args()
    # Ctrl-C raises KeyboardInterrupt even when started in the background (where SIGINT may be
    # ignored), and SIGTERM runs the same clean-up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    terminate_on_sigterm()
    if args.command == "phase":
        phase(args.vendor, args.out)
    elif args.command == "loadgen":
        loadgen(args.spec, args.index, args.out)
    elif args.command == "rawcommit":
        raw_loop(args.vendor, args.target, args.seconds, args.out)
    else:
        wanted = os.environ.get("BENCH_DBS", "sqlite,postgres")
        try:
            main_run([name.strip() for name in wanted.split(",") if name.strip()])
        except KeyboardInterrupt:
            raise SystemExit(130) from None


if __name__ == "__main__":
    main()
