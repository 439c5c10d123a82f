"""The one pipeline every alert goes through, whatever its channel.

An inbound SMS is stored first, alone (raw, encrypted, size-capped), and the gateway's success
answer means it is on disk; the worker then understands it and files the alert into its incident
(or applies the SMS command it carries), claiming the message in the transaction that does so.
If understanding fails, the message stays stored, marked for a person to look at (a retry would
fail the same way). Alerts logged on a page or through the API are processed at once.
"""

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import (
    DatabaseError,
    IntegrityError,
    InternalError,
    OperationalError,
    connection,
    transaction,
)
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from kiungo.alerts import incidents, notify
from kiungo.alerts.models import Alert, new_alert_reference
from kiungo.alerts.taxonomy import DEFAULT_LEVEL, Threat
from kiungo.alerts.understanding import understand
from kiungo.geography.models import Area
from kiungo.lib import worker
from kiungo.lib.crypto import keyed_hash
from kiungo.lib.phones import to_e164
from kiungo.lib.write_lock import write_promptly
from kiungo.messaging import commands
from kiungo.messaging.models import RAW_LIMIT, Channel, InboundMessage
from kiungo.missions.models import AlertLevel, EscalationStep, Mission
from kiungo.network.models import Contact

logger = logging.getLogger(__name__)

TEXT_LIMIT = 2000  # characters of alert text kept; a long SMS is about 1,000


@dataclass(frozen=True)
class IncomingSMS:
    sender: str  # as the gateway gave it
    text: str
    external_id: str = ""  # the gateway's message id: the key of redeliveries
    sent_at: datetime | None = None
    raw: str = ""  # the request as received, for inspection


def normalise_sender(mission: Mission, sender: str) -> str:
    """E.164 when the number parses (national formats use the mission's country); else as is."""
    try:
        return to_e164(sender, mission.country)
    except ValidationError:
        return sender.strip()


def store_sms(channel: Channel, sms: IncomingSMS) -> tuple[InboundMessage, bool]:
    """Store one inbound SMS as RECEIVED: what a gateway's success answer promises. Returns
    (message, created).

    One INSERT and nothing else, so a surge is acknowledged as fast as the database commits;
    the worker understands the message next (`process_received`). A redelivery (same channel
    and gateway id) returns the first message and creates nothing: its insert hits the unique
    constraint and the first is read. Database errors propagate: the caller answers 503 so
    that the gateway retries.
    """
    sms = _without_nul(sms)
    # No look for a redelivery first: the unique (channel, gateway id) constraint refuses its
    # insert, and the IntegrityError handler answers with the first message. That saves a
    # query on every new message; a redelivery (rare) pays for reading its text once more.
    sender = normalise_sender(channel.mission, sms.sender)
    message = InboundMessage(
        channel=channel,
        external_id=sms.external_id[:100],
        sender=sender,
        sender_hash=keyed_hash(sender) if sender else "",
        text=sms.text[:TEXT_LIMIT],
        raw=sms.raw.encode()[:RAW_LIMIT].decode(errors="ignore"),
        received_at=timezone.now(),
        sent_at=sms.sent_at,
        state=InboundMessage.State.RECEIVED,
    )
    try:
        if connection.in_atomic_block:
            # Inside a caller's transaction, a savepoint keeps it usable after a duplicate.
            with transaction.atomic():
                message.save(force_insert=True)
        else:
            # In autocommit (a web request) the INSERT is its own transaction: one statement,
            # which on SQLite waits for the write lock without dozing off (see write_lock).
            write_promptly(lambda: message.save(force_insert=True))
    except IntegrityError:
        # The same message delivered again (or concurrently): answer with its row.
        if sms.external_id:
            existing = InboundMessage.objects.filter(
                channel=channel, external_id=sms.external_id[:100]
            ).first()
            if existing is not None:
                return existing, False
        raise
    return message, True


def receive_sms(channel: Channel, sms: IncomingSMS) -> tuple[InboundMessage, bool]:
    """Store one inbound SMS and process it at once (the demo and tools; gateways only store)."""
    message, created = store_sms(channel, sms)
    if created:
        process(message)
        message.refresh_from_db()
    return message, created


PROCESS_BATCH = 200  # messages read per query by the worker
FILE_BATCH = 20  # messages filed per transaction: one commit (one disk flush) for them all
# On SQLite a filing transaction holds the database's only write lock, which a gateway's insert
# waits for (see lib/write_lock.py and _give_way): short transactions keep that wait short, and
# a commit costs little there.
FILE_BATCH_SQLITE = 2
# Seconds of filing per worker pass; the deadline tasks and sends run between passes, so this
# bounds how late an escalation can be taken under a surge (0.5 s gave p99 2.3 s on SQLite).
PROCESS_BUDGET = 0.25


@worker.register
def process_received(budget: float | None = None) -> int:
    """Process stored SMS in arrival order for about `budget` seconds (PROCESS_BUDGET by
    default; at least one batch); returns how many.

    Several workers may run this at once: each message is claimed inside the transaction that
    files it (see `process_batch`), so none is processed twice and a crash loses none.
    """
    stop = time.monotonic() + (PROCESS_BUDGET if budget is None else budget)
    size = FILE_BATCH_SQLITE if connection.vendor == "sqlite" else FILE_BATCH
    done = 0
    while True:
        pending = list(
            InboundMessage.objects.filter(state=InboundMessage.State.RECEIVED)
            .select_related("channel__mission")
            .order_by("pk")[:PROCESS_BATCH]
        )
        progress = 0
        for start in range(0, len(pending), size):
            batch = pending[start : start + size]
            try:
                began = time.monotonic()
                progress += process_batch(batch)
                if connection.vendor == "sqlite":
                    _give_way(batch[-1].pk, time.monotonic() - began)
            except REFUSALS:
                raise  # the database refuses writes: the next pass tries again
            except Exception:  # a bug: the batch is rolled back and logged, the rest goes on
                logger.exception("inbound SMS %s to %s not processed", batch[0].pk, batch[-1].pk)
            if time.monotonic() > stop:
                return done + progress
        done += progress
        if len(pending) < PROCESS_BATCH or progress == 0:
            return done


GATEWAYS_ACTIVE = 1.0  # seconds: a message stored more recently means gateways are storing
BEHIND = 1000  # messages stored after the last one filed: the worker is not keeping up


def _give_way(filed_up_to: int, held: float) -> None:
    """On SQLite, when the worker is behind while gateways are still storing (a surge beyond
    what it can file), pause as long as the last filing transaction held the database's only
    write lock: acknowledging what arrives comes first, and the backlog is filed at full speed
    once the surge is over. Keeping up (a surge it can file as it comes) it never pauses.
    Measured in docs/benchmarks.md: 351 -> 596 messages acknowledged a second at saturation."""
    newest = InboundMessage.objects.order_by("-pk").values_list("pk", "received_at").first()
    if newest is None or newest[0] - filed_up_to < BEHIND:
        return
    if (timezone.now() - newest[1]).total_seconds() < GATEWAYS_ACTIVE:
        time.sleep(held)


def process(message: InboundMessage) -> bool:
    """Process one RECEIVED message; False when it was taken already."""
    return process_batch([message]) == 1


def process_batch(messages: list[InboundMessage]) -> int:
    """Understand RECEIVED messages and apply them, in one transaction: each an alert into its
    incident, or an SMS command (a unit's reply code, a CLA's report...). Returns how many it
    took (those another worker had taken already are left alone).

    Understanding reads only, so it runs first, outside the transaction: on SQLite that
    transaction holds the database's only write lock, which gateways' inserts wait for. The
    transaction then claims the messages still RECEIVED (on PostgreSQL, rows another worker is
    filing are skipped, not waited for) and files each in its own savepoint. A crash rolls the
    whole batch back: its messages are taken again on the next pass. What every message of the
    batch needs (its sender's contact, whether the sender had a receipt lately) is read once.
    """
    fresh = [message for message in messages if message.state == InboundMessage.State.RECEIVED]
    if not fresh:
        return 0
    contacts = _senders_contacts(fresh)
    understood = [(message, _understand(message, contacts)) for message in fresh]
    with transaction.atomic():
        claimed = set(
            InboundMessage.objects.select_for_update(skip_locked=True)
            .filter(
                pk__in=[message.pk for message in fresh],
                state=InboundMessage.State.RECEIVED,
            )
            .values_list("pk", flat=True)
        )
        understood = [(message, result) for message, result in understood if message.pk in claimed]
        _mark_claimed(understood)
        receipted = notify.receipted_recently(
            [message.sender for message, (_command, alert, _problem) in understood if alert]
        )
        for message, (command, alert, _problem) in understood:
            if command is not None:
                _apply_or_flag(message.channel, message, message.sender, command)
            elif alert is not None:
                alert.inbound = message
                _save_or_flag(message, alert, message.channel, message.sender, receipted)
    return len(claimed)


def _mark_claimed(understood) -> None:
    """Mark the claimed messages processed (or for review, when not understood): one UPDATE for
    all those understood. A message whose filing then fails is marked again, for review."""
    processed = [message for message, (_command, _alert, problem) in understood if not problem]
    InboundMessage.objects.filter(pk__in=[message.pk for message in processed]).update(
        state=InboundMessage.State.PROCESSED, error=""
    )
    for message in processed:
        message.state, message.error = InboundMessage.State.PROCESSED, ""
    for message, (_command, _alert, problem) in understood:
        if problem:
            message.state, message.error = InboundMessage.State.NEEDS_REVIEW, problem
            message.save(update_fields=["state", "error"])


def _senders_contacts(messages: list[InboundMessage]) -> dict[tuple[int, str], Contact]:
    """{(mission id, sender): the key contact holding that number} for a batch of messages."""
    by_mission: dict[int, tuple[Mission, set[str]]] = {}
    for message in messages:
        mission = message.channel.mission
        by_mission.setdefault(mission.pk, (mission, set()))[1].add(message.sender)
    return {
        (mission.pk, number): contact
        for mission, senders in by_mission.values()
        for number, contact in Contact.objects.holding_numbers(mission, senders).items()
    }


def _understand(message: InboundMessage, contacts: dict[tuple[int, str], Contact]):
    """(SMS command or None, prepared alert or None, problem) for a stored message."""
    mission = message.channel.mission
    sender, text = message.sender, message.text
    command = commands.recognise(mission, sender, text)  # a reply code, a report, ...
    if command is not None:
        return command, None, ""
    try:
        alert = prepare_alert(
            mission=mission,
            text=text,
            source=Alert.Source.SMS,
            received_at=message.received_at,
            occurred_at=message.sent_at,
            contact=contacts.get((mission.pk, sender)),
            sender_hash=message.sender_hash,
        )
    except DatabaseError:
        raise  # try again on the next pass: nothing was written
    except Exception as error:  # nothing in understanding may lose the message
        logger.exception("inbound SMS %s not understood", message.pk)
        return None, None, f"{type(error).__name__}: {error}"[:1000]
    return None, alert, ""


def _without_nul(sms: IncomingSMS) -> IncomingSMS:
    """NUL characters mean nothing in an SMS, and PostgreSQL text cannot hold them: a message
    carrying one would fail on every retry (a poison message), so they are dropped here."""
    return replace(
        sms,
        sender=sms.sender.replace("\x00", ""),
        text=sms.text.replace("\x00", ""),
        external_id=sms.external_id.replace("\x00", ""),
        raw=sms.raw.replace("\x00", ""),
    )


# The database refusing a write (disk full, read-only, locked, restarting) is not a problem of
# the message: the whole request fails with 503 and the gateway sends it again. Anything else
# (a bug, bad data) would fail the same way on every retry, so the message is kept for a person.
REFUSALS = (OperationalError, InternalError)

REFERENCE_ATTEMPTS = 3  # random references collide rarely: the insert is simply redone


def _save_or_flag(
    message: InboundMessage, alert: Alert, channel: Channel, sender: str, receipted: set[str]
) -> None:
    """Save the alert (and queue the sender's receipt, unless `receipted` says the sender had
    one lately) in a savepoint; if that fails, keep the message, flagged for a person."""
    try:
        for attempt in range(REFERENCE_ATTEMPTS):
            try:
                told = set(receipted)  # kept only if the savepoint is
                with transaction.atomic():
                    save_alert(alert)
                    language = alert.contact.language if alert.contact_id else alert.language
                    notify.receipt(channel, sender, alert, language, recently=told)
                receipted |= told
                return
            except IntegrityError:
                if attempt == REFERENCE_ATTEMPTS - 1:
                    raise
                alert.reference = new_alert_reference()
    except REFUSALS:
        raise  # the database refused the write (full, read-only, locked): the gateway retries
    except Exception as error:  # the SMS is stored either way; a person takes it from here
        logger.exception("inbound SMS %s stored but not processed", message.pk)
        message.state = InboundMessage.State.NEEDS_REVIEW
        message.error = f"{type(error).__name__}: {error}"[:1000]
        message.save(update_fields=["state", "error"])


def _apply_or_flag(
    channel: Channel, message: InboundMessage, sender: str, command: commands.Command
) -> None:
    """Apply an SMS command in a savepoint; if that fails, keep the message for a person."""
    try:
        with transaction.atomic():
            command.apply(channel, message, sender)
    except REFUSALS:
        raise
    except Exception as error:
        logger.exception("command in SMS %s stored but not applied", message.pk)
        message.state = InboundMessage.State.NEEDS_REVIEW
        message.error = f"{type(error).__name__}: {error}"[:1000]
        message.save(update_fields=["state", "error"])


def alert_from_text(**fields) -> Alert:
    """Understand `text`, let explicit choices win, then save the alert into its incident."""
    alert = prepare_alert(**fields)
    save_alert(alert)
    return alert


def prepare_alert(
    *,
    mission: Mission,
    text: str,
    source: str,
    received_at: datetime,
    occurred_at: datetime | None = None,
    contact: Contact | None = None,
    sender_hash: str = "",
    inbound: InboundMessage | None = None,
    created_by=None,
    idempotency_key: str = "",
    request_hash: str = "",
    area: Area | None = None,
    threat: str | None = None,
    level: AlertLevel | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> Alert:
    """An unsaved alert: the text understood, explicit choices (area, threat, level) winning.

    Only reads the database, so it can run before the write transaction starts.
    """
    understood = understand(mission, text, contact)
    reasons = list(understood.review_reasons)
    if level is None:
        code = understood.level_code or DEFAULT_LEVEL.get(understood.threat, "medium")
        level = _level(mission, code)
    alert = Alert(
        mission=mission,
        source=source,
        inbound=inbound,
        created_by=created_by,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        contact=contact,
        sender_hash=sender_hash,
        text=text[:TEXT_LIMIT],
        language=understood.language,
        keyword=understood.keyword[:30],
        structured=understood.structured,
        threat=threat or understood.threat,
        level=level,
        latitude=latitude,
        longitude=longitude,
        received_at=received_at,
        occurred_at=occurred_at or received_at,
    )
    if area is not None:
        alert.area, alert.place_method, alert.place_confidence = area, Alert.PlaceMethod.PERSON, 1
        alert.place_text = understood.place_text[:200] or area.name[:200]
        reasons = [reason for reason in reasons if reason != "place"]
    else:
        alert.area = understood.area
        alert.place_text = understood.place_text[:200]
        alert.place_method = understood.place_method
        alert.place_confidence = understood.place_confidence
    if alert.area is None and "place" not in reasons:
        reasons.append("place")
    alert.review_reasons = reasons
    alert.needs_review = bool(reasons)
    return alert


def save_alert(alert: Alert) -> None:
    """Save a prepared alert into its incident (call inside a transaction)."""
    incidents.attach(alert)
    if alert.contact_id is not None:
        Contact.objects.filter(pk=alert.contact_id).update(last_heard_at=alert.received_at)


# A mission's alert levels, their escalation steps prefetched (routing a new incident needs
# them), kept for LEVELS_TTL seconds: every alert needs its level, and levels change rarely. A
# save or delete of a level, step or mission in this process forgets them at once; a change made
# in another process (an administrator) applies within LEVELS_TTL. A version check would cost
# the query the cache saves. Incidents opened meanwhile keep the deadlines they were given, as
# they would have had they arrived just before the change.
LEVELS_TTL = 5.0
_LEVELS: dict[int, tuple[float, dict[str, AlertLevel]]] = {}
_LEVELS_LOCK = threading.Lock()


def forget_levels(**_kwargs) -> None:
    with _LEVELS_LOCK:
        _LEVELS.clear()


def _forget_levels(**_kwargs) -> None:
    # Now, and again at commit: a reload in between could read rows a rollback then removes.
    forget_levels()
    transaction.on_commit(forget_levels)


for _model in (AlertLevel, EscalationStep, Mission):
    post_save.connect(
        _forget_levels, sender=_model, dispatch_uid=f"intake-levels-{_model.__name__}"
    )
    post_delete.connect(
        _forget_levels, sender=_model, dispatch_uid=f"intake-levels-del-{_model.__name__}"
    )


def mission_levels(mission: Mission) -> dict[str, AlertLevel]:
    """The mission's levels by code (cached, see LEVELS_TTL; treat them as read-only)."""
    now = time.monotonic()
    cached = _LEVELS.get(mission.pk)
    if cached is not None and now - cached[0] < LEVELS_TTL:
        return cached[1]
    levels = {
        level.code: level
        for level in AlertLevel.objects.filter(mission_id=mission.pk).prefetch_related("steps")
    }
    with _LEVELS_LOCK:
        _LEVELS[mission.pk] = (now, levels)
    return levels


def _level(mission: Mission, code: str) -> AlertLevel:
    levels = mission_levels(mission)
    if code in levels:
        return levels[code]
    # A mission with its own level names: take the middle of its policy.
    ordered = sorted(levels.values(), key=lambda level: level.rank)
    return ordered[(len(ordered) - 1) // 2]


def request_fingerprint(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def log_alert(*, mission: Mission, user, idempotency_key: str = "", **fields) -> tuple[Alert, bool]:
    """An alert logged by a person (web form, API, field device). Returns (alert, created).

    With an idempotency key, a repeat of the same request returns the first alert; the same key
    with different content raises ValueError (the client has a bug, and must hear about it).
    """
    fingerprint = request_fingerprint(
        {
            "mission": mission.pk,
            **{key: getattr(value, "pk", value) for key, value in fields.items()},
        }
    )
    if idempotency_key:
        existing = Alert.objects.filter(created_by=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.request_hash != fingerprint:
                raise ValueError("This idempotency key was already used for another alert.")
            return existing, False
    now = timezone.now()
    for attempt in range(REFERENCE_ATTEMPTS):
        try:
            with transaction.atomic():
                alert = alert_from_text(
                    mission=mission,
                    created_by=user,
                    idempotency_key=idempotency_key,
                    request_hash=fingerprint,
                    received_at=now,
                    **fields,
                )
            return alert, True
        except IntegrityError:
            if idempotency_key:
                existing = Alert.objects.filter(created_by=user, idempotency_key=idempotency_key)
                if existing.exists():
                    return existing.get(), False
            if attempt == REFERENCE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


__all__ = ["IncomingSMS", "Threat", "alert_from_text", "log_alert", "receive_sms"]
