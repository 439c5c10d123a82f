"""Sending the outbox: `deliver_due()` hands due messages to their gateways, with retries.

Called in a loop by `manage.py worker`; several workers (processes, machines) may run side
by side. For each due message (QUEUED or ERRORED, `next_attempt_at` reached, not on a
pulling SMSSync channel, no live claim):

1. Claim it: one conditional UPDATE sets a lease (`claimed_until`, LEASE from now) only where
   the state is still QUEUED/ERRORED and no live lease exists; the worker proceeds only if
   exactly one row changed. Two workers racing for a row: the database serialises the two
   UPDATEs, the second finds the lease set and changes nothing ("another worker got there
   first"). No transaction is held open while the gateway is called.
2. Respect the channel's `send_per_minute`: messages sent in the last 60 s, plus those other
   workers hold right now, are counted; at the limit the message waits for the next minute
   (its `next_attempt_at` moves; no attempt is counted).
3. Send, and write the outcome at once (a delivery report may follow within a second):
   - accepted: SENT with the gateway's id, `sent_at`, attempts + 1, lease released;
   - TransportError(permanent=True): FAILED with the error, never retried;
   - TransportError(permanent=False), or any other exception (logged with the message id;
     the loop goes on): ERRORED, attempts + 1, retried after an exponential backoff (30 s,
     1 min, 2 min, 4 min… at most 1 h, ±10 % jitter); the 10th failure makes it FAILED.

Sent twice? Not by two workers (the claim), and not after the outcome was written. The one
window: a worker that dies after the gateway accepted a message but before its UPDATE lands
leaves the row QUEUED/ERRORED with a lease; when the lease expires another worker sends it
again, once. Closing that window needs the gateway to drop repeats by a key of ours: the
external (RapidPro-style) transport already sends the same `webhook-id` (`kiungo-out-<pk>`)
on every attempt for that purpose; Twilio's Messages API and Africa's Talking's SMS API
offer no idempotency key, so for them the window remains (a duplicate SMS beats a lost one).
LEASE must outlast a send (the HTTP timeout is 10 s) or a slow send could be taken over.
"""

import logging
import random
import smtplib
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.core.mail import send_mail
from django.db import OperationalError
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from kiungo.lib.logging import redact
from kiungo.messaging.gateways import TRANSPORTS, TransportError, transport_for
from kiungo.messaging.models import OutboundEmail, OutboundMessage, Purpose

logger = logging.getLogger(__name__)

State = OutboundMessage.State
SENDABLE = [State.QUEUED, State.ERRORED]
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 10
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
JITTER = 0.1
RATE_WINDOW = timedelta(minutes=1)


def backoff(failures: int) -> timedelta:
    """The wait after the `failures`-th failed attempt: 30 s doubling, capped, ±10 %."""
    base = min(BACKOFF_FIRST * 2 ** max(failures - 1, 0), BACKOFF_CAP)
    return base * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 -- jitter, not a secret


def _lease_free(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def _pulling_kinds() -> list[str]:
    return [kind for kind, transport in TRANSPORTS.items() if transport.pulls]


# Messages to units (an incident, an escalation, the answer to a reply code) go before the
# messages to the community (receipts, follow-ups): during a surge, receipts fill a channel's
# rate limit, and an escalation must not wait behind them.
URGENT = [Purpose.ALERT, Purpose.ESCALATION, Purpose.REPLY]
COMMUNITY_SHARE = 0.8


def _due_rows(now: datetime, limit: int) -> list[tuple[int, int, bool]]:
    """(id, channel id, urgent) of the messages to try now: urgent first, then oldest first."""
    urgent = Case(When(purpose__in=URGENT, then=Value(True)), default=Value(False))
    return list(
        OutboundMessage.objects.filter(state__in=SENDABLE, next_attempt_at__lte=now)
        .filter(_lease_free(now))
        .filter(channel__active=True)
        .exclude(channel__kind__in=_pulling_kinds())
        .annotate(urgent=urgent)
        .order_by("-urgent", "next_attempt_at", "pk")
        .values_list("pk", "channel_id", "urgent")[:limit]
    )


def due(now: datetime, limit: int) -> list[int]:
    """Ids of the messages the worker should try now: urgent ones first, then oldest first."""
    return [pk for pk, _channel, _urgent in _due_rows(now, limit)]


def claim(pk: int, now: datetime) -> bool:
    """Take the lease on one message; False when another worker holds it or it moved on.

    The WHERE clause repeats every condition `due()` read, so the UPDATE alone decides: a row
    another worker claimed (or sent, or pushed back) between our SELECT and here is left alone.
    """
    return (
        OutboundMessage.objects.filter(pk=pk, state__in=SENDABLE, next_attempt_at__lte=now)
        .filter(_lease_free(now))
        .update(claimed_until=now + LEASE, updated_at=now)
        == 1
    )


def _finish(pk: int, *, tries: int = 1, **fields) -> None:
    """Write an outcome and release the lease. Conditional on the state still being sendable,
    so it never undoes a state a delivery report wrote in the meantime. `tries` > 1: a busy
    database (SQLite's lock) gets a few short retries before the error propagates."""
    fields.setdefault("claimed_until", None)
    fields.setdefault("updated_at", timezone.now())
    for attempt in range(1, tries + 1):
        try:
            OutboundMessage.objects.filter(pk=pk, state__in=SENDABLE).update(**fields)
            return
        except OperationalError:
            if attempt == tries:
                raise
            time.sleep(0.05 * attempt)


def _at_rate_limit(message: OutboundMessage, now: datetime) -> bool:
    """Whether the channel has no room for this message in the last minute's window.

    Messages to the community may use only COMMUNITY_SHARE of the channel's rate: the rest is
    kept for messages to units, so a surge of receipts cannot delay an escalation.
    """
    channel = message.channel
    allowed = channel.send_per_minute
    if message.purpose not in URGENT:
        allowed = max(1, int(allowed * COMMUNITY_SHARE))
    recent = (
        OutboundMessage.objects.filter(channel=channel)
        .filter(
            Q(sent_at__gt=now - RATE_WINDOW)
            | Q(state__in=SENDABLE, claimed_until__gte=now)  # being sent by other workers
        )
        .exclude(pk=message.pk)
        .count()
    )
    return recent >= allowed


def _failed(message: OutboundMessage, error: str, now: datetime, *, permanent: bool) -> None:
    attempts = message.attempts + 1
    error = redact(error)[:1000]
    if permanent:
        logger.warning("outbound %s failed permanently", message.pk)
        _finish(message.pk, state=State.FAILED, attempts=attempts, error=error)
    elif attempts >= MAX_ATTEMPTS:
        logger.warning("outbound %s: gave up after %s attempts", message.pk, attempts)
        _finish(
            message.pk,
            state=State.FAILED,
            attempts=attempts,
            error=f"gave up after {attempts} attempts: {error}"[:1000],
        )
    else:
        wait = backoff(attempts)
        logger.info("outbound %s: attempt %s failed, retry in %ss", message.pk, attempts, wait)
        _finish(
            message.pk,
            state=State.ERRORED,
            attempts=attempts,
            error=error,
            next_attempt_at=now + wait,
        )


def deliver_one(pk: int, now: datetime, limited: set[int] | None = None) -> bool:
    """Claim, rate-check and send one message; True when the gateway accepted it.

    A message held back by its channel's rate limit adds the channel to `limited`.
    """
    if not claim(pk, now):
        return False  # another worker got there first
    message = None
    try:
        message = OutboundMessage.objects.select_related("channel").get(pk=pk)
        if _at_rate_limit(message, now):
            next_minute = now.replace(second=0, microsecond=0) + RATE_WINDOW
            _finish(pk, next_attempt_at=next_minute)  # waiting is not an attempt
            if limited is not None:
                limited.add(message.channel_id)
            return False
        external_id = transport_for(message.channel).send(message)
    except TransportError as error:
        _failed(message, error.message, now, permanent=error.permanent)
        return False
    except Exception as error:
        # A bad row (broken channel config, a transport bug) must not stop the loop: it
        # counts as a failed attempt and pushes its own deadline forward.
        logger.exception("outbound %s: unexpected error while sending", pk)
        if message is None:
            _finish(pk, attempts=F("attempts") + 1, next_attempt_at=now + backoff(1))
        else:
            _failed(message, f"unexpected error: {type(error).__name__}", now, permanent=False)
        return False
    # The write that matters most: without it the message is sent again after the lease.
    _finish(
        pk,
        tries=5,
        state=State.SENT,
        external_id=str(external_id or "")[:100],
        sent_at=now,
        attempts=message.attempts + 1,
        error="",
    )
    logger.info("outbound %s sent through channel %s", pk, message.channel_id)
    return True


def deliver_due(now: datetime | None = None, limit: int = 50) -> int:
    """Send up to `limit` due messages; returns how many the gateways accepted.

    `now`: a fixed clock for every message (tests); by default the time of each message's
    turn, so a slow batch does not stamp stale times.
    """
    clock: Callable[[], datetime] = (lambda: now) if now is not None else timezone.now
    sent = 0
    limited: set[int] = set()  # channels whose community share is used up for this pass
    for pk, channel_id, urgent in _due_rows(clock(), limit):
        if channel_id in limited and not urgent:
            continue  # it would only be pushed back: leave it for a later pass
        try:
            sent += deliver_one(pk, clock(), limited if not urgent else None)
        except Exception:
            # Only a database error lands here (the claim or the outcome could not be
            # written): a claimed message is taken again when its lease expires, an unclaimed
            # one on the next pass; the other messages still get their try.
            logger.exception("outbound %s: database error, left for a later pass", pk)
    return sent


# E-mail to officers: the same claim, lease, backoff and permanent-failure rules as SMS,
# through Django's e-mail backend (SMTP in production). A refused address is permanent.


def _email_finish(pk: int, *, tries: int = 1, **fields) -> None:
    """As `_finish`, for an e-mail (a busy database gets `tries` short retries)."""
    fields.setdefault("claimed_until", None)
    for attempt in range(1, tries + 1):
        try:
            OutboundEmail.objects.filter(pk=pk, state__in=SENDABLE).update(**fields)
            return
        except OperationalError:
            if attempt == tries:
                raise
            time.sleep(0.05 * attempt)


def deliver_email(pk: int, now: datetime) -> bool:
    """Claim and send one e-mail; True when the mail server accepted it."""
    claimed = (
        OutboundEmail.objects.filter(pk=pk, state__in=SENDABLE, next_attempt_at__lte=now)
        .filter(_lease_free(now))
        .update(claimed_until=now + LEASE)
    )
    if claimed != 1:
        return False
    email = OutboundEmail.objects.get(pk=pk)
    attempts = email.attempts + 1
    try:
        send_mail(email.subject, email.body, None, [email.to], fail_silently=False)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as error:
        logger.warning("e-mail %s refused by the server", pk)
        _email_finish(pk, state=State.FAILED, attempts=attempts, error=redact(str(error))[:1000])
        return False
    except Exception as error:
        state = State.FAILED if attempts >= MAX_ATTEMPTS else State.ERRORED
        logger.warning("e-mail %s: attempt %s failed (%s)", pk, attempts, type(error).__name__)
        _email_finish(
            pk,
            state=state,
            attempts=attempts,
            error=redact(f"{type(error).__name__}: {error}")[:1000],
            next_attempt_at=now + backoff(attempts),
        )
        return False
    # As for SMS, the write that matters most: without it the e-mail goes again after the lease.
    _email_finish(pk, tries=5, state=State.SENT, attempts=attempts, sent_at=now, error="")
    return True


def deliver_due_emails(now: datetime | None = None, limit: int = 50) -> int:
    """Send up to `limit` due e-mails; returns how many the mail server accepted."""
    clock: Callable[[], datetime] = (lambda: now) if now is not None else timezone.now
    ids = list(
        OutboundEmail.objects.filter(state__in=SENDABLE, next_attempt_at__lte=clock())
        .filter(_lease_free(clock()))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for pk in ids:
        try:
            sent += deliver_email(pk, clock())
        except Exception:
            logger.exception("e-mail %s: database error, left for a later pass", pk)
    return sent
