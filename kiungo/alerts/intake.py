"""The one pipeline every alert goes through, whatever its channel.

An inbound SMS is stored (raw, encrypted, size-capped) in the same transaction as the alert made
from it, so a success answer to a gateway means both are on disk. Understanding the text runs
inside a savepoint: if it fails, the message stays stored, marked for a person to look at, and
the gateway still gets its success answer (a retry would fail the same way).
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kiungo.alerts import incidents
from kiungo.alerts.models import Alert
from kiungo.alerts.taxonomy import DEFAULT_LEVEL, Threat
from kiungo.alerts.understanding import understand
from kiungo.geography.models import Area
from kiungo.lib.crypto import keyed_hash
from kiungo.lib.phones import to_e164
from kiungo.messaging.models import RAW_LIMIT, Channel, InboundMessage
from kiungo.missions.models import AlertLevel, Mission
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


def receive_sms(channel: Channel, sms: IncomingSMS) -> tuple[InboundMessage, bool]:
    """Store and process one inbound SMS. Returns (message, created).

    A redelivery (same channel and gateway id) returns the first message and creates nothing.
    Database errors propagate: the caller answers 503 so that the gateway retries.
    """
    if sms.external_id:
        existing = InboundMessage.objects.filter(
            channel=channel, external_id=sms.external_id
        ).first()
        if existing is not None:
            return existing, False
    mission = channel.mission
    sender = normalise_sender(mission, sms.sender)
    now = timezone.now()
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                channel=channel,
                external_id=sms.external_id[:100],
                sender=sender,
                sender_hash=keyed_hash(sender) if sender else "",
                text=sms.text[:TEXT_LIMIT],
                raw=sms.raw.encode()[:RAW_LIMIT].decode(errors="ignore"),
                received_at=now,
                sent_at=sms.sent_at,
                state=InboundMessage.State.PROCESSED,
            )
            _process(message, mission, sender)
    except IntegrityError:
        # A concurrent delivery of the same message won the race: answer with its row.
        if sms.external_id:
            existing = InboundMessage.objects.filter(
                channel=channel, external_id=sms.external_id
            ).first()
            if existing is not None:
                return existing, False
        raise
    return message, True


REFERENCE_ATTEMPTS = 3  # random references collide rarely: the step is simply redone


def _process(message: InboundMessage, mission: Mission, sender: str) -> None:
    try:
        for attempt in range(REFERENCE_ATTEMPTS):
            try:
                with transaction.atomic():
                    contact = (
                        Contact.objects.with_number(mission, sender).first() if sender else None
                    )
                    alert_from_text(
                        mission=mission,
                        text=message.text,
                        source=Alert.Source.SMS,
                        received_at=message.received_at,
                        occurred_at=message.sent_at,
                        contact=contact,
                        sender_hash=message.sender_hash,
                        inbound=message,
                    )
                return
            except IntegrityError:
                if attempt == REFERENCE_ATTEMPTS - 1:
                    raise
    except Exception as error:  # nothing in understanding may lose the message
        logger.exception("inbound SMS %s stored but not processed", message.pk)
        message.state = InboundMessage.State.NEEDS_REVIEW
        message.error = f"{type(error).__name__}: {error}"[:1000]
        message.save(update_fields=["state", "error"])


def alert_from_text(
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
    """Understand `text`, let explicit choices (area, threat, level) win, save, group."""
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
    incidents.attach(alert)
    if contact is not None:
        Contact.objects.filter(pk=contact.pk).update(last_heard_at=received_at)
    return alert


def _level(mission: Mission, code: str) -> AlertLevel:
    levels = {level.code: level for level in mission.levels.all()}
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
