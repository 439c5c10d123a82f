#!/usr/bin/env python3
# ruff: noqa: S311 -- seeded random test data, no secrets
"""A gateway simulator: plays one SMS provider against Kiungo's receive endpoint.

    .venv/bin/python bench/simulator.py --kind twilio --url http://127.0.0.1:8000 \
        --count 600 --rate 20 --threads 8

It sends signed inbound messages (the provider's own request, built and signed by
`manage.py play_gateway`'s `build_request`) at `--rate` messages per second with `--threads`
threads in each of `--processes` processes, from `--senders` distinct senders about
`--localities` real MONUSCO localities, with texts like bench/intake.py's. It behaves like a
real provider: when it gets no answer (connection refused or reset, timeout, an empty answer)
or a 5xx, it sends the SAME message again (same gateway message id, same signed request) after
an exponential backoff (0.5 s doubling, capped at 8 s, +-25 % jitter) until the message's
deadline (`--deadline`, from its first attempt); a 2xx acknowledges it; a 4xx is final
(rejected). It prints a JSON summary: sent, acknowledged, retried, gave_up, rejected,
attempts, HTTP statuses and network errors seen, latencies p50/p99 (first attempt to
acknowledgement, and of single successful attempts); `--ids-out FILE` writes the acknowledged
message ids, one a line.

As a library: `plan = make_plan(kind, ...)` (reads the demo channel's secret and the places
from the database once), then `simulate(plan, url, count=..., rate=..., ...)` returns the same
summary with `acked_ids`. The CLI needs the same KIUNGO_* environment as the server (it reads
the database only before sending). Everything connects to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import heapq
import json
import multiprocessing
import os
import random
import socket
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from intake import KINDS, LOCALITIES, SENDERS, TEXTS, percentile  # noqa: E402

BACKOFF_FIRST = 0.5  # seconds
BACKOFF_CAP = 8.0
JITTER = 0.25  # +-25 %
ATTEMPT_TIMEOUT = 15.0  # seconds a provider waits for an answer
DEADLINE = 180.0  # seconds from a message's first attempt (signed webhooks expire after 300)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiungo.settings")
    import django

    django.setup()


def make_plan(
    kind: str, senders: int = SENDERS, localities: int = LOCALITIES, channel: str = ""
) -> dict:
    """What the provider needs to know: receive path, secrets, its number, senders, places.
    Reads the database (the demo channel of `kind` unless `channel`), then closes it."""
    setup_django()
    from django.db import connection
    from intake import pools

    from kiungo.demo import channels
    from kiungo.messaging.models import Channel

    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    found = Channel.objects.get(uuid=channel or channels.channel_uuid(kind), kind=kind)
    data = pools()
    rng = random.Random("kiungo-simulator-senders")
    people = data["senders"]
    while len(people) < senders:
        number = f"+24397{rng.randint(0, 9_999_999):07d}"
        if number not in people:
            people.append(number)
    connection.close()
    return {
        "kind": kind,
        "path": f"/sms/{kind}/{found.uuid}/receive",
        "secrets": dict(found.config or {}) or channels.DEMO_SECRETS[kind],
        "to": channels.DEMO_CHANNELS[kind][1],
        "senders": people[:senders],
        "places": data["places"][:localities],
    }


class Message:
    __slots__ = ("attempts", "first", "index", "message_id", "raw", "statuses")

    def __init__(self, index: int, message_id: str):
        self.index = index
        self.message_id = message_id
        self.raw: bytes | None = None
        self.attempts = 0
        self.first = 0.0
        self.statuses: list[str] = []


def _build(plan: dict, port: int, message: Message, rng: random.Random) -> bytes:
    from kiungo.messaging.management.commands.play_gateway import build_request

    senders, places = plan["senders"], plan["places"]
    sender = senders[message.index % len(senders)]  # every sender speaks
    text = rng.choice(TEXTS).format(place=rng.choice(places))
    host = f"127.0.0.1:{port}"
    headers, body = build_request(
        plan["kind"],
        f"http://{host}{plan['path']}",
        plan["secrets"],
        sender=sender,
        text=text,
        message_id=message.message_id,
        to=plan["to"],
    )
    head = [f"POST {plan['path']} HTTP/1.1", f"Host: {host}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(head).encode() + body


def _post(port: int, raw: bytes, timeout: float) -> int:
    """One attempt: the HTTP status, or an exception when there is no (readable) answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    if not answer.startswith(b"HTTP/"):
        raise ConnectionAbortedError("empty or unreadable answer")
    return int(answer[9:12])


def _run_share(
    plan: dict,
    port: int,
    ids: list[tuple[int, str]],
    rate: float,
    threads: int,
    offset: float,
    settings: dict,
    stop_event=None,
) -> dict:
    """Send `ids` (index, message id) at `rate`/s with `threads` threads, retrying."""
    setup_django()
    timeout, deadline = settings["timeout"], settings["deadline"]
    rng = random.Random(f"kiungo-simulator:{ids[0][1] if ids else ''}")
    lock = threading.Condition()
    started = time.monotonic() + offset
    queue = [(started + n / rate, n, Message(index, mid)) for n, (index, mid) in enumerate(ids)]
    heapq.heapify(queue)
    sequence = [len(queue)]
    pending = [len(queue)]
    acked: list[str] = []
    ack_latency: list[float] = []
    attempt_latency: list[float] = []
    statuses: Counter = Counter()
    errors: Counter = Counter()
    outcomes: Counter = Counter()
    attempts_per_message: Counter = Counter()
    timeline: list[tuple] = []  # (seconds since start, status or error, seconds) per attempt
    last = [started]

    def finish(message: Message, outcome: str) -> None:
        outcomes[outcome] += 1
        attempts_per_message[message.attempts] += 1
        pending[0] -= 1
        lock.notify_all()

    def worker() -> None:
        local_rng = random.Random(rng.random())
        while True:
            with lock:
                while True:
                    if pending[0] <= 0 or (stop_event is not None and stop_event.is_set()):
                        return
                    if queue and queue[0][0] <= time.monotonic():
                        _due, _n, message = heapq.heappop(queue)
                        break
                    wait = queue[0][0] - time.monotonic() if queue else 0.5
                    lock.wait(max(0.0, min(wait, 0.5)))
            now = time.monotonic()
            if message.raw is None:
                message.raw = _build(plan, port, message, local_rng)
                message.first = now
            message.attempts += 1
            try:
                status = _post(port, message.raw, timeout)
                label = str(status)
            except (OSError, ValueError) as error:
                status, label = None, type(error).__name__
            done = time.monotonic()
            with lock:
                timeline.append((round(now - started, 3), label, round(done - now, 3)))
                last[0] = max(last[0], done)
                if status is None:
                    errors[label] += 1
                else:
                    statuses[label] += 1
                if status is not None and 200 <= status < 300:
                    acked.append(message.message_id)
                    ack_latency.append(done - message.first)
                    attempt_latency.append(done - now)
                    message.raw = None  # free the memory
                    finish(message, "acknowledged")
                elif status is not None and 300 <= status < 500:
                    finish(message, "rejected")
                else:
                    delay = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (message.attempts - 1))
                    delay *= 1 + local_rng.uniform(-JITTER, JITTER)
                    if done + delay - message.first > deadline:
                        finish(message, "gave_up")
                    else:
                        sequence[0] += 1
                        heapq.heappush(queue, (done + delay, sequence[0], message))
                        lock.notify_all()

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return {
        "began": started,
        "ended": last[0],
        "acked_ids": acked,
        "ack_latency": ack_latency,
        "attempt_latency": attempt_latency,
        "statuses": dict(statuses),
        "errors": dict(errors),
        "outcomes": dict(outcomes),
        "attempts_per_message": {str(k): v for k, v in attempts_per_message.items()},
        "timeline": timeline,
    }


def _child(args, results) -> None:
    try:
        results.put(_run_share(*args))
    except BaseException as error:  # the parent must hear about it, not wait forever
        results.put({"error": repr(error)})


def summarise(parts: list[dict], count: int, prefix: str) -> dict:
    latencies = sorted(value for part in parts for value in part["ack_latency"])
    single = sorted(value for part in parts for value in part["attempt_latency"])
    outcomes, statuses, errors, attempts = Counter(), Counter(), Counter(), Counter()
    for part in parts:
        outcomes.update(part["outcomes"])
        statuses.update(part["statuses"])
        errors.update(part["errors"])
        attempts.update(part["attempts_per_message"])
    began = min(part["began"] for part in parts)
    ended = max(part["ended"] for part in parts)
    return {
        "prefix": prefix,
        "sent": count,
        "acknowledged": outcomes["acknowledged"],
        "retried": sum(n for tries, n in attempts.items() if int(tries) > 1),
        "gave_up": outcomes["gave_up"],
        "rejected": outcomes["rejected"],
        "unfinished": count - sum(outcomes.values()),
        "attempts": sum(int(tries) * n for tries, n in attempts.items()),
        "max_attempts": max((int(tries) for tries in attempts), default=0),
        "statuses": dict(sorted(statuses.items())),
        "errors": dict(sorted(errors.items())),
        "duration_s": round(ended - began, 2),
        "acked_per_s": round(outcomes["acknowledged"] / max(1e-9, ended - began), 1),
        "latency_p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "attempt_p50_ms": round(percentile(single, 0.50) * 1000, 1),
        "attempt_p99_ms": round(percentile(single, 0.99) * 1000, 1),
        "acked_ids": [mid for part in parts for mid in part["acked_ids"]],
        "began": began,  # time.monotonic() of the first scheduled send
        "timeline": sorted(
            (round(part["began"] - began + t, 3), label, seconds)
            for part in parts
            for t, label, seconds in part["timeline"]
        ),
    }


def simulate(
    plan: dict,
    url: str,
    *,
    count: int,
    rate: float,
    threads: int = 8,
    processes: int = 1,
    prefix: str = "",
    timeout: float = ATTEMPT_TIMEOUT,
    deadline: float = DEADLINE,
    stop_event=None,
) -> dict:
    """Send `count` messages to `url` (http://127.0.0.1:PORT); the summary, with acked_ids."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.hostname not in ("127.0.0.1", "localhost"):
        raise ValueError("the simulator only talks to 127.0.0.1")
    port = parsed.port or 80
    prefix = prefix or f"sim{os.getpid()}x{int(time.time())}"
    ids = [(n, f"{prefix}-{n}") for n in range(count)]
    settings = {"timeout": timeout, "deadline": deadline}
    if processes <= 1:
        parts = [_run_share(plan, port, ids, rate, threads, 0.0, settings, stop_event)]
    else:
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        children = []
        try:
            for index in range(processes):
                share = ids[index::processes]
                args = (plan, port, share, rate / processes, threads, 0.5, settings)
                child = context.Process(target=_child, args=(args, results), daemon=True)
                child.start()
                children.append(child)
            parts = [results.get() for _ in children]
            for child in children:
                child.join()
        finally:
            for child in children:
                if child.is_alive():
                    child.kill()
                    child.join()
        failed = [part["error"] for part in parts if "error" in part]
        if failed:
            raise RuntimeError(f"a simulator process failed: {failed[0]}")
    return summarise(parts, count, prefix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", choices=KINDS, default="twilio")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="Kiungo (127.0.0.1 only)")
    parser.add_argument("--count", type=int, default=100, help="messages to send")
    parser.add_argument("--rate", type=float, default=20.0, help="new messages per second")
    parser.add_argument("--threads", type=int, default=8, help="threads per process")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--senders", type=int, default=SENDERS)
    parser.add_argument("--localities", type=int, default=LOCALITIES)
    parser.add_argument("--prefix", default="", help="message ids are PREFIX-<n>")
    parser.add_argument("--timeout", type=float, default=ATTEMPT_TIMEOUT, help="per attempt, s")
    parser.add_argument("--deadline", type=float, default=DEADLINE, help="per message, s")
    parser.add_argument("--plan", help="JSON plan (make_plan's) instead of reading the database")
    parser.add_argument("--ids-out", help="write the acknowledged ids here, one a line")
    parser.add_argument("--out", help="write the full JSON summary here (with ids, timeline)")
    args = parser.parse_args()
    if args.plan:
        plan = json.loads(Path(args.plan).read_text())
    else:
        plan = make_plan(args.kind, args.senders, args.localities)
    summary = simulate(
        plan,
        args.url,
        count=args.count,
        rate=args.rate,
        threads=args.threads,
        processes=args.processes,
        prefix=args.prefix,
        timeout=args.timeout,
        deadline=args.deadline,
    )
    if args.out:
        Path(args.out).write_text(json.dumps(summary))
    if args.ids_out:
        Path(args.ids_out).write_text("".join(f"{mid}\n" for mid in summary["acked_ids"]))
    hidden = ("acked_ids", "timeline", "began")
    shown = {key: value for key, value in summary.items() if key not in hidden}
    print(json.dumps(shown, indent=2))


if __name__ == "__main__":
    main()
