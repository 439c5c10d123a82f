"""Queueing outbound SMS (the outbox) and fitting their text into SMS parts.

`queue_sms()` must be called INSIDE the transaction of the change that causes the message
(an alert's receipt, an escalation): the message rows commit with that change or not at all,
so no SMS is sent for a change that was rolled back and no change is committed without its
SMS. Nothing is sent here; the worker (`manage.py worker`, messaging/delivery.py) picks the
rows up after the commit, and an SMSSync phone fetches its own on its next poll.

Text: an SMS holds 160 GSM-7 characters (3GPP TS 23.038), or 70 UCS-2 ones as soon as one
character falls outside GSM-7, at double the cost per character. `to_gsm7()` replaces the
characters that have a close GSM-7 equivalent (typographic quotes and dashes, ê, ô, œ…), so
ordinary French stays GSM-7; text that truly needs UCS-2 (Arabic) is kept as it is.

Long text is split on word boundaries into parts of 153 GSM-7 / 67 UCS-2 characters, each
prefixed with a "(1/3) " counter, and each part is its own OutboundMessage. That is the
simplest honest approach: every gateway can send it, each part has its own state and
retries, and a reader sees the order. The cost is that a handset shows separate messages
rather than one concatenated one (no UDH concatenation headers), and a part may arrive
before an earlier one that is still being retried.
"""

import unicodedata

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kiungo.lib.crypto import keyed_hash
from kiungo.messaging.models import Channel, OutboundEmail, OutboundMessage, Purpose

# The GSM 03.38 default alphabet (without the escape character, 0x1B) and its extension
# table, whose characters are sent as escape + character and so count as two.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

# Characters outside GSM-7 with a close equivalent inside it. Letters with accents not
# listed here lose their accent (ê → e) when that gives a GSM-7 letter.
REPLACEMENTS = {
    "\u2018": "'",  # ‘
    "\u2019": "'",  # ’
    "\u201a": "'",  # ‚
    "\u201b": "'",  # ‛
    "\u2032": "'",  # ′
    "`": "'",
    "´": "'",
    "\u201c": '"',  # “
    "\u201d": '"',  # ”
    "\u201e": '"',  # „
    "\u201f": '"',  # ‟
    "«": '"',
    "»": '"',
    "\u2039": "'",  # ‹
    "\u203a": "'",  # ›
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # –
    "\u2014": "-",  # —
    "\u2015": "-",  # horizontal bar
    "\u2212": "-",  # minus sign
    "…": "...",
    "\u00a0": " ",  # no-break space (French typography: before : ; ! ?)
    "\u202f": " ",  # narrow no-break space
    "\u2009": " ",  # thin space
    "\t": " ",
    "œ": "oe",
    "Œ": "OE",
    "ç": "c",  # GSM-7 has only the capital Ç
    "•": "-",
}


def _gsm7_char_length(char: str) -> int | None:
    """1 or 2 units in GSM-7, or None when the character is not in the alphabet."""
    if char in GSM7_BASIC:
        return 1
    if char in GSM7_EXTENDED:
        return 2
    return None


def is_gsm7(text: str) -> bool:
    return all(_gsm7_char_length(char) is not None for char in text)


def _gsm7_equivalent(char: str) -> str | None:
    if _gsm7_char_length(char) is not None:
        return char
    if char in REPLACEMENTS:
        return REPLACEMENTS[char]
    bare = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return bare if bare != char and is_gsm7(bare) else None


def to_gsm7(text: str) -> str:
    """`text` with near-equivalents for its non-GSM-7 characters, when that makes the whole
    text GSM-7; otherwise `text` unchanged (it needs UCS-2 anyway, which holds every
    character, so nothing is lost)."""
    out = []
    for char in text:
        equivalent = _gsm7_equivalent(char)
        if equivalent is None:
            return text
        out.append(equivalent)
    return "".join(out)


def sms_length(text: str) -> int:
    """Units `text` takes in one SMS: GSM-7 septets (extension characters count two) when it
    is GSM-7, else UTF-16 code units (a character beyond the BMP, an emoji, counts two)."""
    if is_gsm7(text):
        return sum(_gsm7_char_length(char) or 0 for char in text)
    return len(text.encode("utf-16-le")) // 2


def _unit_length(char: str, gsm7: bool) -> int:
    if gsm7:
        return _gsm7_char_length(char) or 0
    return 2 if ord(char) > 0xFFFF else 1


def _length(text: str, gsm7: bool) -> int:
    return sum(_unit_length(char, gsm7) for char in text)


def _chunks(text: str, budget: int, gsm7: bool) -> list[str]:
    """`text` cut into pieces of at most `budget` units, on word boundaries where possible."""
    pieces: list[str] = []
    current = ""
    for word in _words(text):
        candidate = current + word
        if _length(candidate.rstrip(), gsm7) <= budget:
            current = candidate
            continue
        if current.strip():
            pieces.append(current.rstrip())
        current = ""
        # A word longer than a part (a URL, a long number) is cut where the part is full.
        for char in word:
            if _length(current + char, gsm7) > budget and current.strip():
                pieces.append(current.rstrip())
                current = ""
            current += char
    if current.strip():
        pieces.append(current.rstrip())
    return pieces


def _words(text: str) -> list[str]:
    """Each word with the whitespace that follows it (so line breaks survive the split)."""
    words: list[str] = []
    current = ""
    for char in text:
        if not char.isspace() and current and current[-1].isspace():
            words.append(current)
            current = ""
        current += char
    if current:
        words.append(current)
    return words


def split_sms(text: str) -> list[str]:
    """The SMS parts for `text` (already converted with `to_gsm7` where possible): one part
    when it fits a single SMS, else parts with a "(i/n) " counter, each within the
    multipart limit (153 GSM-7 / 67 UCS-2 units, counter included)."""
    text = text.strip()
    gsm7 = is_gsm7(text)
    single, part = (GSM7_SINGLE, GSM7_PART) if gsm7 else (UCS2_SINGLE, UCS2_PART)
    if _length(text, gsm7) <= single:
        return [text]
    count = 2
    while True:  # the counter's width depends on the number of parts: settle it
        prefix_length = len(f"({count}/{count}) ")
        pieces = _chunks(text, part - prefix_length, gsm7)
        if len(str(len(pieces))) <= len(str(count)):
            total = len(pieces)
            return [f"({i}/{total}) {piece}" for i, piece in enumerate(pieces, start=1)]
        count = len(pieces)


def queue_sms(
    channel: Channel,
    to_e164: str,
    text: str,
    *,
    purpose: str = Purpose.OTHER,
    recipient_label: str = "",
    incident=None,
) -> list[OutboundMessage]:
    """Queue `text` for `to_e164` through `channel`: one OutboundMessage per SMS part.

    Call it inside the transaction of the change that causes the message (see the module
    docstring); the parts are written together (a savepoint) or not at all. `recipient_label`
    is what officers see instead of the number (a unit's duty phone, a contact's pseudonym).
    """
    if not to_e164.startswith("+"):
        raise ValueError("the recipient must be an E.164 number (+…)")
    parts = split_sms(to_gsm7(text))
    now = timezone.now()
    to_hash = keyed_hash(to_e164)
    with transaction.atomic():
        return [
            OutboundMessage.objects.create(
                channel=channel,
                to=to_e164,
                to_hash=to_hash,
                text=part,
                next_attempt_at=now,
                purpose=purpose,
                recipient_label=recipient_label[:120],
                incident=incident,
            )
            for part in parts
        ]


def queue_email(
    to: str,
    subject: str,
    body: str,
    *,
    purpose: str = Purpose.OTHER,
    recipient_label: str = "",
    incident=None,
) -> OutboundEmail:
    """Queue an e-mail to an officer (inside the transaction of its cause, as for SMS)."""
    return OutboundEmail.objects.create(
        to=to,
        subject=" ".join(subject.split())[:200],
        body=body,
        next_attempt_at=timezone.now(),
        purpose=purpose,
        recipient_label=recipient_label[:120],
        incident=incident,
    )


def notification_channel(mission_id: int) -> Channel | None:
    """The active channel that carries the mission's notifications to duty phones: the one
    marked `notifies`, else the oldest active channel that can send on its own (not a
    pulling SMSSync phone); None when the mission has none (the message cannot be queued)."""
    from kiungo.messaging.gateways import TRANSPORTS

    pushing = [kind for kind, transport in TRANSPORTS.items() if not transport.pulls]
    return (
        Channel.objects.filter(mission_id=mission_id, active=True)
        .filter(Q(notifies=True) | Q(kind__in=pushing))
        .order_by("-notifies", "pk")
        .first()
    )


def reply_channel(channel: Channel) -> Channel:
    """The channel that answers a sender who wrote to `channel`."""
    if channel.replies_via_id and channel.replies_via.active:
        return channel.replies_via
    return channel
