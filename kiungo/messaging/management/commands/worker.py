"""`manage.py worker [--once] [--interval 1.0]`: the background loop (DESIGN.md: no broker).

Each iteration sends the due outbox (SMS and e-mail, `messaging.delivery`) and runs every task
registered in `kiungo.lib.worker`. Run as many workers as you like, on as many machines: each
row is claimed with a conditional UPDATE, so nothing is done twice. SIGTERM or SIGINT stop
the loop after the current iteration. Logs carry ids only, never phone numbers.
"""

import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connections

from kiungo.lib import worker
from kiungo.messaging.delivery import deliver_due, deliver_due_emails

logger = logging.getLogger("kiungo.worker")

BATCH = 50
# Sending goes on, BATCH by BATCH, while full batches are due, for up to this many seconds a
# pass: under a surge, filing new alerts takes its budget every pass, and a fixed 50 messages
# a pass let the units' escalations queue behind each other (p99 4.9 s on PostgreSQL).
SEND_BUDGET = 0.5


class Command(BaseCommand):
    help = "Send queued SMS and run the registered background tasks, in a loop."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one iteration and exit")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between iterations (1.0)"
        )

    def handle(self, *args, once=False, interval=1.0, **options):
        self.stopping = False
        previous = {
            signum: signal.signal(signum, self._stop) for signum in (signal.SIGTERM, signal.SIGINT)
        }
        logger.info("worker started (%s registered tasks)", len(worker.registered()))
        try:
            while True:
                busy = self.iteration()
                if once or self.stopping:
                    break
                if not busy:
                    self._sleep(interval)
                if self.stopping:
                    break
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        logger.info("worker stopped")

    def _stop(self, signum, frame):
        logger.info("worker: signal %s, stopping after this iteration", signum)
        self.stopping = True

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stopping and (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.2))

    def iteration(self) -> bool:
        """One pass; True when a task did work or a full batch was sent (more may be due)."""
        _close_stale_connections()
        # A task that did something (returns a true value) may have more to do: no pause
        # after this pass. What it queued goes out before the next task runs: the SMS of an
        # escalation must not wait while filing a surge takes its whole time budget.
        busy = False
        for task in worker.due():
            try:
                did = bool(task())
            except Exception:
                logger.exception("worker: task %s failed", getattr(task, "__name__", task))
                continue
            if did:
                _send_outbox()
                busy = True
        # Then what web requests queued (answers to units, broadcasts...).
        busy = _send_outbox() or busy
        _close_stale_connections()
        return busy


def _send_outbox() -> bool:
    """Send due SMS, then due e-mail; True when more may be due."""
    more = _send(deliver_due, "the outbox")
    return _send(deliver_due_emails, "e-mail") or more


def _send(deliver, what: str) -> bool:
    """Send due messages by batches for up to SEND_BUDGET seconds; True when more may be due."""
    stop = time.monotonic() + SEND_BUDGET
    try:
        while deliver(limit=BATCH) >= BATCH:
            if time.monotonic() >= stop:
                return True
    except Exception:
        logger.exception("worker: sending %s failed", what)
    return False


def _close_stale_connections() -> None:
    """Drop connections that went stale (CONN_MAX_AGE, a restarted database) between passes.
    Never inside a transaction: a test (or a caller) that wraps the worker in one keeps it."""
    if not any(conn.in_atomic_block for conn in connections.all(initialized_only=True)):
        close_old_connections()
