#!/usr/bin/env python3
# ruff: noqa: S603, S607, S311 -- runs our own commands; random test timings, no secrets
"""Worker crash test: `manage.py worker` killed with SIGKILL while it delivers, and restarted.

    python bench/reliability_worker.py                  # SQLite, then a throwaway PostgreSQL
    RELIABILITY_DBS=sqlite python bench/reliability_worker.py
    RELIABILITY_KILLS=5 RELIABILITY_SMS=500 python bench/reliability_worker.py

For each database, on a fresh one set up as the benchmarks do (bench/intake.py: SQLite in WAL
mode in a temporary data folder, or a PostgreSQL 15 started by scripts/with-postgres.sh;
migrate; `manage.py demo`):

1. A fake SMS provider runs in this script (HTTP on 127.0.0.1, a free port): it records every
   request's `webhook-id` (the external transport's idempotency key, `kiungo-out-<pk>`), reads
   at that moment whether Kiungo already recorded that message as sent, and answers 200 after
   50-150 ms, so a worker is killed mid-send now and then.
2. An `external` channel pointing at it becomes the mission's notification channel, with
   RELIABILITY_SMS (default 300) SMS queued on it; RELIABILITY_ESCALATIONS (default 100)
   alerts are logged through the service layer (`alert_from_text`) with `occurred_at` in the
   past, each opening an incident at a base's town whose first escalation step falls due from
   now to 4 s from now (the demo units have duty phones and duty officers).
3. `manage.py worker` is started, killed with SIGKILL RELIABILITY_KILLS times (default 3), each
   time 0.5-1.5 s after it started working, preferably while a send is in flight, and started
   again; the last one runs until everything is done. A killed worker's claim is retaken only
   when its lease (delivery.LEASE, 60 s, not configurable) expires: each database takes ~1.5 min.
4. Checks: every due step taken exactly once ("escalated" events per incident = its
   `escalations`, no step twice, no escalation SMS queued twice); every SMS of the channel SENT
   and received by the provider at least once; `sent_twice_by_kiungo`: requests for a message
   Kiungo had already recorded as sent (must be 0); `resent_unrecorded`: repeats of a message
   whose outcome a killed worker never wrote (the documented at-least-once window), each
   carrying the same webhook-id as the first, so a provider that honours it drops it; nothing
   left QUEUED, ERRORED or claimed; every e-mail sent.

Then, with SQLite in the run (RELIABILITY_DISKFULL=0 to skip), **disk-full**: gunicorn on a
copy of the demo database in a tmpfs capped at its size + 16 MB (needs `mount`: root or
CAP_SYS_ADMIN; reported as skipped otherwise), the free space filled with a file, 40 inbound
SMS posted: each must be answered 503 + Retry-After and not stored, or 2xx and stored; the file
is deleted and the refused ones are posted again with the same ids: each stored once.

Prints one line per scenario and database and exits non-zero on any loss or double. Every
process started here (PostgreSQL, gunicorn, the workers) and the tmpfs are stopped or
unmounted at the end, on an error and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import intake as bench  # bench/intake.py: processes, database set-up

ROOT = bench.ROOT
PYTHON = bench.PYTHON
MANAGE = bench.MANAGE
log = bench.log
env_int = bench.env_int

CHANNEL_NAME = "Reliability provider"
SECRET = "whsec_" + "a2l1bmdvLXJlbGlhYmlsaXR5LXRlc3Qtc2VjcmV0LTAx"  # base64, test only
THREATS = ["attack", "clash", "abduction", "sexual_violence", "explosion", "looting"]
DRAIN = 150  # seconds at most for the last worker to finish (the lease is 60 s)


# --- The fake provider -----------------------------------------------------------------------


class Provider:
    """Records each send: (webhook-id, whether Kiungo had the row as SENT already)."""

    def __init__(self, delay=(0.05, 0.15)):
        self.delay = delay
        self.lock = threading.Lock()
        self.requests: list[tuple[str, bool]] = []
        self.inflight = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                webhook_id = self.headers.get("webhook-id", "")
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with provider.lock:
                    provider.inflight += 1
                try:
                    recorded = provider.recorded_as_sent(webhook_id)
                    with provider.lock:
                        provider.requests.append((webhook_id, recorded))
                    time.sleep(random.uniform(*provider.delay))
                    body = json.dumps({"id": f"prov-{webhook_id}"}).encode()
                    with contextlib.suppress(OSError):  # the worker may have been killed
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                finally:
                    with provider.lock:
                        provider.inflight -= 1

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @staticmethod
    def recorded_as_sent(webhook_id: str) -> bool:
        """Whether Kiungo's row for this send is already SENT (read when the request arrives)."""
        from django.db import connection

        from kiungo.messaging.models import OutboundMessage

        try:
            pk = int(webhook_id.removeprefix("kiungo-out-"))
            state = OutboundMessage.objects.filter(pk=pk).values_list("state", flat=True).first()
        finally:
            connection.close()
        return state in (OutboundMessage.State.SENT, OutboundMessage.State.DELIVERED)

    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def busy(self) -> bool:
        with self.lock:
            return self.inflight > 0

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


# --- Set-up (inside the phase process, Django loaded) ----------------------------------------


def provider_channel(port: int, sms: int) -> int:
    """An external channel to the fake provider, the mission's notifier, with `sms` queued."""
    from kiungo.lib.crypto import keyed_hash
    from kiungo.messaging.models import Channel, OutboundMessage, Purpose
    from kiungo.missions.models import Mission

    mission = Mission.objects.get(code="MONUSCO")
    Channel.objects.filter(mission=mission, notifies=True).update(notifies=False)
    channel = Channel(
        mission=mission,
        kind=Channel.Kind.EXTERNAL,
        name=CHANNEL_NAME,
        phone_number="+243990000198",
        notifies=True,
        send_per_minute=100_000,
    )
    channel.set_config(secret=SECRET, send_url=f"http://127.0.0.1:{port}/send")
    channel.save()
    purposes = [Purpose.RECEIPT, Purpose.FOLLOW_UP, Purpose.ALERT]
    rows = []
    for number in range(sms):
        to = f"+24399800{number:04d}"
        rows.append(
            OutboundMessage(
                channel=channel,
                to=to,
                to_hash=keyed_hash(to),
                text=f"Kiungo test message {number}",
                purpose=purposes[number % len(purposes)],
            )
        )
    OutboundMessage.objects.bulk_create(rows)
    return channel.pk


def plant(count: int, spread: float) -> list[int]:
    """`count` alerts logged with `occurred_at` in the past, each opening its own incident
    whose first escalation step (critical: the battalion, at the deadline to acknowledge)
    falls due between now and `spread` s from now."""
    from django.db import transaction
    from django.utils import timezone

    from kiungo.alerts.intake import alert_from_text
    from kiungo.alerts.models import Alert, Incident
    from kiungo.forces.models import Base
    from kiungo.missions.models import Mission

    mission = Mission.objects.get(code="MONUSCO")
    critical = mission.levels.get(code="critical")
    towns = []
    for base in (
        Base.objects.filter(mission=mission, closed_on__isnull=True)
        .select_related("locality")
        .order_by("code")
    ):
        if base.locality not in towns:
            towns.append(base.locality)
    taken = set(
        Incident.objects.filter(mission=mission, status=Incident.Status.OPEN).values_list(
            "area_id", "threat"
        )
    )
    pairs = [
        (town, threat)
        for threat in THREATS
        for town in towns
        if (town.pk, threat) not in taken  # a new alert there would join the demo's incident
    ]
    if len(pairs) < count:
        raise RuntimeError(f"only {len(pairs)} free town/threat pairs for {count} incidents")
    now = timezone.now()
    ids = []
    with transaction.atomic():
        for number, (town, threat) in enumerate(pairs[:count]):
            due = now + dt.timedelta(seconds=spread * number / max(1, count - 1))
            alert = alert_from_text(
                mission=mission,
                text=f"ALERTE {town.name} {threat}",
                source=Alert.Source.CALL,
                received_at=now,
                occurred_at=due - critical.acknowledge_within,
                area=town,
                threat=threat,
                level=critical,
            )
            incident = alert.incident
            if incident.alert_count != 1 or incident.next_escalation_at != due:
                raise RuntimeError(
                    f"planted alert {alert.pk}: incident {incident.pk} has "
                    f"{incident.alert_count} alerts, escalation due {incident.next_escalation_at}"
                )
            ids.append(incident.pk)
    return ids


def pending(channel_id: int, ids: list[int]) -> dict:
    from django.db import connection
    from django.db.models import Q
    from django.utils import timezone

    from kiungo.alerts.models import Incident
    from kiungo.messaging.delivery import SENDABLE
    from kiungo.messaging.models import OutboundEmail, OutboundMessage

    now = timezone.now()
    result = {
        "steps": Incident.objects.filter(pk__in=ids, next_escalation_at__lte=now).count(),
        "sms": OutboundMessage.objects.filter(channel_id=channel_id, state__in=SENDABLE).count(),
        "emails": OutboundEmail.objects.filter(state__in=SENDABLE).count(),
        "claimed": OutboundMessage.objects.filter(
            Q(claimed_until__isnull=False), channel_id=channel_id
        ).count(),
    }
    connection.close()
    return result


def check(channel_id: int, ids: list[int], requests: list[tuple[str, bool]]) -> dict:
    """Exactly-once checks on escalations, at-least-once and never-after-recorded on SMS."""
    from django.db import connection

    from kiungo.alerts.models import AlertEvent, Incident
    from kiungo.messaging.delivery import SENDABLE
    from kiungo.messaging.models import OutboundEmail, OutboundMessage, Purpose

    State = OutboundMessage.State
    steps: Counter = Counter()
    events_per_incident: Counter = Counter()
    for incident_id, details in AlertEvent.objects.filter(
        incident_id__in=ids, kind="escalated"
    ).values_list("incident_id", "details"):
        steps[(incident_id, details["step"])] += 1
        events_per_incident[incident_id] += 1
    escalations = dict(Incident.objects.filter(pk__in=ids).values_list("pk", "escalations"))
    # Each planted incident has exactly one step due in the run (its next one comes 15 min
    # later): taken once means one "escalated" event and `escalations` = 1.
    not_taken = sum(1 for pk in ids if escalations[pk] == 0 and events_per_incident[pk] == 0)
    doubled = sum(
        1
        for pk in ids
        if escalations[pk] > 1
        or events_per_incident[pk] > 1
        or events_per_incident[pk] != escalations[pk]
    )
    esc_sms = Counter(
        OutboundMessage.objects.filter(incident_id__in=ids, purpose=Purpose.ESCALATION)
        .values_list("incident_id", "to_hash", "text")
        .order_by()
    )
    rows = dict(OutboundMessage.objects.filter(channel_id=channel_id).values_list("pk", "state"))
    per_id = Counter(webhook_id for webhook_id, _recorded in requests)
    received = {int(key.removeprefix("kiungo-out-")) for key in per_id}
    emails = Counter(OutboundEmail.objects.values_list("state", flat=True).order_by())
    connection.close()
    sent = sum(1 for state in rows.values() if state in (State.SENT, State.DELIVERED))
    return {
        "planted": len(ids),
        "due": len(ids),
        "taken": sum(steps.values()),
        "not_taken": not_taken,
        "doubled": doubled,
        "esc_sms_queued_twice": sum(1 for n in esc_sms.values() if n > 1),
        "queued": len(rows),
        "sent": sent,
        "failed": sum(1 for state in rows.values() if state == State.FAILED),
        "left": sum(1 for state in rows.values() if state in SENDABLE),
        "never_reached_provider": len(set(rows) - received),
        "provider_requests": len(requests),
        "sent_twice_by_kiungo": sum(1 for _id, recorded in requests if recorded),
        "resent_unrecorded": sum(n - 1 for n in per_id.values() if n > 1),
        "resent_same_key": sum(1 for n in per_id.values() if n > 1),
        "emails_sent": emails.get(State.SENT, 0),
        "emails_left": sum(emails.get(state, 0) for state in SENDABLE)
        + emails.get(State.FAILED, 0),
    }


# --- One database ----------------------------------------------------------------------------


def kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def phase(vendor: str, out: str) -> None:
    kills = env_int("RELIABILITY_KILLS", 3)
    sms = env_int("RELIABILITY_SMS", 300)
    count = env_int("RELIABILITY_ESCALATIONS", 100)
    url = os.environ.get("KIUNGO_DATABASE_URL", "")
    if (vendor == "postgres") != url.startswith("postgres"):
        raise SystemExit(f"phase {vendor}: KIUNGO_DATABASE_URL is {url or 'not set'}")
    workdir = Path(tempfile.mkdtemp(prefix=f"kiungo-reliability-worker-{vendor}-"))
    env = bench.server_env(workdir / "data")
    env["KIUNGO_LOG_LEVEL"] = "INFO"
    os.environ.clear()
    os.environ.update(env)
    worker = None
    worker_log = workdir / "worker.log"
    try:
        bench.load_demo(vendor)
        from django.db import connection

        with Provider() as provider, open(worker_log, "ab") as handle:
            channel_id = provider_channel(provider.port, sms)
            ids = plant(count, spread=4.0)
            connection.close()
            log(f"{vendor}: {sms} SMS queued, {count} escalations due within 4 s; worker starts")

            def start():
                return bench.spawn(
                    [PYTHON, MANAGE, "worker", "--interval", "0.2"],
                    env=env,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                )

            mid_send = 0
            last_kill = time.time()
            for number in range(kills):
                before = provider.count()
                worker = start()
                limit = time.monotonic() + 30
                while provider.count() == before and time.monotonic() < limit:
                    if worker.poll() is not None:
                        raise RuntimeError("the worker exited at start")
                    time.sleep(0.02)
                time.sleep(random.uniform(0.5, 1.5))
                limit = time.monotonic() + 2
                while not provider.busy() and time.monotonic() < limit:
                    time.sleep(0.005)
                mid_send += provider.busy()
                kill_group(worker)
                worker, last_kill = None, time.time()
                log(f"{vendor}: kill {number + 1}: SIGKILL after {provider.count()} sends")
            worker = start()
            finished = None
            limit = time.time() + DRAIN
            while time.time() < limit:
                left = pending(channel_id, ids)
                if not any(left.values()):
                    finished = time.time()
                    break
                if worker.poll() is not None:
                    raise RuntimeError("the restarted worker exited")
                time.sleep(0.5)
            bench.stop(worker)
            worker = None
            time.sleep(0.3)  # the provider's last answers
            result = check(channel_id, ids, list(provider.requests))
        result.update(
            vendor=vendor,
            kills=kills,
            killed_mid_send=mid_send,
            finished_after_last_kill=(finished - last_kill) if finished else None,
            left_at_end=pending(channel_id, ids),
        )
        Path(out).write_text(json.dumps(result))
    except BaseException:
        if worker_log.exists():
            sys.stderr.write(f"--- {worker_log.name} ---\n")
            sys.stderr.write(worker_log.read_text(errors="replace")[-3000:])
        raise
    finally:
        bench.stop(worker)
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


# --- Disk full under a real server (SQLite) --------------------------------------------------

FULL_MESSAGES = 40
FULL_TEXT = "ALERTE Beni attaque hommes armés " + "€" * 600  # several KB a request


def post_sms(port: int, path: str, message_id: str) -> tuple[int, str]:
    body = urllib.parse.urlencode(
        {"from": "+243997000555", "text": FULL_TEXT, "id": message_id}
    ).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as answer:
            return answer.status, answer.headers.get("Retry-After", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Retry-After", "")


def fill(path: Path) -> int:
    """Write `path` until the file system is full; returns the bytes written."""
    written = 0
    with open(path, "wb", buffering=0) as handle:
        for size in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
            chunk = b"\0" * size
            while True:
                try:
                    written += handle.write(chunk) or 0
                except OSError:
                    break
    return written


def diskfull_phase(out: str) -> None:
    """gunicorn on a SQLite database in a size-capped tmpfs that is then filled up: every
    request answers 2xx (stored) or 503 + Retry-After (not stored); once space is freed, the
    refused ones, retried with the same ids, are stored once."""
    workdir = Path(tempfile.mkdtemp(prefix="kiungo-reliability-diskfull-"))
    setup_dir, mount = workdir / "setup", workdir / "mnt"
    env = bench.server_env(setup_dir)
    env.pop("KIUNGO_DATABASE_URL", None)
    os.environ.clear()
    os.environ.update(env)
    server, mounted = None, False
    try:
        bench.load_demo("sqlite", setup_django=False)
        size = sum(path.stat().st_size for path in setup_dir.rglob("*") if path.is_file())
        mount.mkdir()
        capped = size + 16 * 1024 * 1024
        mounted = (
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={capped},mode=0755", "tmpfs", mount],
                capture_output=True,
            ).returncode
            == 0
        )
        if not mounted:
            Path(out).write_text(json.dumps({"skipped": "mount not permitted here"}))
            return
        subprocess.run(["cp", "-a", f"{setup_dir}/.", str(mount)], check=True)
        env = bench.server_env(mount)
        env.pop("KIUNGO_DATABASE_URL", None)
        sys.path.insert(0, str(ROOT))
        from kiungo.demo import channels

        path = channels.receive_path("console")
        server, port = bench.start_server(env, 2, workdir / "gunicorn.log")
        post_sms(port, path, "warm-0")  # WAL and caches as in service
        filler = fill(mount / "filler")
        answers: dict[str, tuple[int, str]] = {}
        for number in range(FULL_MESSAGES):
            answers[f"full-{number}"] = post_sms(port, path, f"full-{number}")
        (mount / "filler").unlink()  # the operator frees space; nothing restarts
        refused_ids = [key for key, (code, _r) in answers.items() if not 200 <= code < 300]
        with contextlib.closing(sqlite3.connect(mount / "kiungo.sqlite3")) as db:
            stored_refused = sum(
                db.execute(
                    "SELECT count(*) FROM messaging_inboundmessage WHERE external_id = ?", (key,)
                ).fetchone()[0]
                for key in refused_ids
            )
        retried = {}
        for message_id, (code, _retry) in answers.items():
            if not 200 <= code < 300:
                retried[message_id] = post_sms(port, path, message_id)
        bench.stop(server)
        server = None
        with contextlib.closing(sqlite3.connect(mount / "kiungo.sqlite3")) as db:
            rows = Counter(
                external_id
                for (external_id,) in db.execute(
                    "SELECT external_id FROM messaging_inboundmessage WHERE external_id LIKE ?",
                    ("full-%",),
                )
            )
        acked_full = [key for key, (code, _r) in answers.items() if 200 <= code < 300]
        refused = [key for key, (code, retry) in answers.items() if code == 503 and retry]
        other = [key for key, (code, retry) in answers.items() if key not in acked_full + refused]
        result = {
            "sent": len(answers),
            "filler_mb": filler / 1e6,
            "acked_while_full": len(acked_full),
            "refused_503": len(refused),
            "other_answers": sorted({answers[key][0] for key in other}),
            "other": len(other),
            "acked_while_full_but_not_stored": sum(1 for key in acked_full if not rows[key]),
            "stored_while_refused_before_retry": stored_refused,
            "retry_ok": sum(1 for code, _r in retried.values() if 200 <= code < 300),
            "lost": sum(1 for key in answers if not rows[key]),
            "duplicated": sum(1 for n in rows.values() if n > 1),
        }
        Path(out).write_text(json.dumps(result))
    except BaseException:
        log_file = workdir / "gunicorn.log"
        if log_file.exists():
            sys.stderr.write(log_file.read_text(errors="replace")[-3000:])
        raise
    finally:
        bench.stop(server)
        if mounted:
            subprocess.run(["umount", str(mount)], check=False)
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


def problems(row: dict) -> list[str]:
    found = []
    for key in ("not_taken", "doubled", "esc_sms_queued_twice", "failed", "left"):
        if row[key]:
            found.append(f"{key}={row[key]}")
    for key in ("never_reached_provider", "sent_twice_by_kiungo", "emails_left"):
        if row[key]:
            found.append(f"{key}={row[key]}")
    if row["sent"] != row["queued"]:
        found.append(f"sent {row['sent']} of {row['queued']}")
    if row["finished_after_last_kill"] is None:
        found.append(f"not finished: {row['left_at_end']}")
    return found


def diskfull_problems(row: dict) -> list[str]:
    if "skipped" in row:
        return []
    found = [
        f"{key}={row[key]}"
        for key in (
            "acked_while_full_but_not_stored",
            "stored_while_refused_before_retry",
            "other",
            "lost",
            "duplicated",
        )
        if row[key]
    ]
    if row["retry_ok"] != row["refused_503"]:
        found.append(f"retries accepted {row['retry_ok']} of {row['refused_503']}")
    return found


def diskfull_line(row: dict) -> str:
    if "skipped" in row:
        return f"disk-full sqlite: skipped ({row['skipped']}; kiungo/alerts/tests/"
        "test_storage_failures.py covers it in the suite)"
    return (
        f"disk-full sqlite: sent={row['sent']} acked_while_full={row['acked_while_full']} "
        f"(all stored: {row['acked_while_full_but_not_stored'] == 0}) "
        f"refused_503={row['refused_503']} other={row['other']} "
        f"stored_while_refused={row['stored_while_refused_before_retry']} "
        f"retried_after_space_freed={row['retry_ok']} lost={row['lost']} "
        f"duplicated={row['duplicated']}"
    )


def line(row: dict) -> str:
    finished = row["finished_after_last_kill"]
    return (
        f"worker-kill {row['vendor']}: kills={row['kills']} (mid-send {row['killed_mid_send']}) "
        f"escalations due={row['due']} taken={row['taken']} doubled={row['doubled']} "
        f"sms queued={row['queued']} sent={row['sent']} "
        f"sent_twice_by_kiungo={row['sent_twice_by_kiungo']} "
        f"resent_unrecorded={row['resent_unrecorded']} (same webhook-id: "
        f"{row['resent_same_key']}) lost={row['never_reached_provider'] + row['failed']} "
        f"left={row['left']} emails_sent={row['emails_sent']} "
        f"done={f'{finished:.0f} s after the last kill' if finished else 'NO'}"
    )


def main_run(databases: list[str]) -> None:
    rows, running, diskfull = [], None, None
    with tempfile.TemporaryDirectory(prefix="kiungo-reliability-worker-") as work:
        try:
            for vendor in databases:
                out = Path(work) / f"{vendor}.json"
                cmd = [PYTHON, __file__, "phase", vendor, out]
                env = os.environ.copy()
                env.pop("KIUNGO_DATABASE_URL", None)
                if vendor == "postgres":
                    cmd = [ROOT / "scripts" / "with-postgres.sh", *cmd]
                running = bench.spawn(cmd, env=env)
                code = running.wait()
                running = None
                if code != 0:
                    raise SystemExit(f"the {vendor} run failed (exit status {code})")
                rows.append(json.loads(out.read_text()))
                print(line(rows[-1]), flush=True)
            if "sqlite" in databases and os.environ.get("RELIABILITY_DISKFULL", "1") != "0":
                out = Path(work) / "diskfull.json"
                running = bench.spawn([PYTHON, __file__, "diskfull", out], env=os.environ.copy())
                code = running.wait()
                running = None
                if code != 0:
                    raise SystemExit(f"the disk-full run failed (exit status {code})")
                diskfull = json.loads(out.read_text())
                print(diskfull_line(diskfull), flush=True)
        except (KeyboardInterrupt, SystemExit):
            log("stopped: stopping everything it started")
            raise
        finally:
            bench.stop(running, grace=60)
    failed = {row["vendor"]: problems(row) for row in rows if problems(row)}
    if diskfull is not None and diskfull_problems(diskfull):
        failed["disk-full sqlite"] = diskfull_problems(diskfull)
    if failed:
        raise SystemExit(f"worker crash test: lost, doubled or unfinished work: {failed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    one = sub.add_parser("phase", help="(internal) run the test on the database in the env")
    one.add_argument("vendor", choices=("sqlite", "postgres"))
    one.add_argument("out")
    full = sub.add_parser("diskfull", help="(internal) the disk-full run (SQLite, tmpfs)")
    full.add_argument("out")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    bench.terminate_on_sigterm()
    if args.command == "phase":
        phase(args.vendor, args.out)
    elif args.command == "diskfull":
        diskfull_phase(args.out)
    else:
        wanted = os.environ.get("RELIABILITY_DBS", "sqlite,postgres")
        try:
            main_run([name.strip() for name in wanted.split(",") if name.strip()])
        except KeyboardInterrupt:
            raise SystemExit(130) from None


if __name__ == "__main__":
    main()
