"""What an alert's text says: keyword, threat, urgency, place and what a person must check.

`understand` is called by the intake for every message and never raises on any text: a failure
of the parser or of the placing (a bug) is logged with its traceback and the message is kept
for a person to read. Database errors do propagate: the intake runs this inside a savepoint
and must know that the transaction is broken. Tests call `interpret`, which hides nothing.
"""

import logging
from dataclasses import dataclass, field

from django.db import DatabaseError

from kiungo.alerts.models import Alert
from kiungo.alerts.parsing import ParsedSMS, parse_sms
from kiungo.alerts.placing import NOWHERE, Placement, resolve_place
from kiungo.alerts.taxonomy import Threat
from kiungo.geography.models import Area

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Understanding:
    language: str  # ISO 639-1 of the keyword/text ("fr","en","sw","ln","sg","ar") or ""
    keyword: str  # the keyword as typed ("ALERTE", "hatari"), "" for free text
    structured: bool  # True when the message followed a code (keyword first)
    threat: str  # a kiungo.alerts.taxonomy.Threat value; Threat.OTHER if unknown
    level_code: str | None  # "critical" when the text says so, else None
    place_text: str  # the place words as given ("" if none)
    area: Area | None
    place_method: str  # an Alert.PlaceMethod value
    place_confidence: float  # 0..1
    review_reasons: list[str] = field(default_factory=list)  # "unreadable", "threat", "place"


def understand(mission, text: str, contact=None) -> Understanding:
    """Read `text` for `mission`; whatever happens, an answer (see the module's docstring)."""
    try:
        return interpret(mission, text, contact)
    except DatabaseError:
        raise
    except Exception:
        logger.exception("alert text not understood (kept for review)")
        return Understanding(
            language="",
            keyword="",
            structured=False,
            threat=Threat.OTHER.value,
            level_code=None,
            place_text="",
            area=None,
            place_method=Alert.PlaceMethod.NONE.value,
            place_confidence=0.0,
            review_reasons=["unreadable", "threat", "place"],
        )


def interpret(mission, text: str, contact=None) -> Understanding:
    """`understand` without the safety net."""
    text = text if isinstance(text, str) else ""
    parsed = parse_sms(text, _language_hints(mission, contact))
    placement = _place(mission, parsed, contact)
    reasons = []
    named_place = placement.method not in (Alert.PlaceMethod.NONE, Alert.PlaceMethod.CONTACT_HOME)
    if parsed.blank or not (parsed.recognised or named_place):
        reasons.append("unreadable")
    if parsed.threat == Threat.OTHER:
        reasons.append("threat")
    if placement.needs_review:
        reasons.append("place")
    return Understanding(
        language=parsed.language,
        keyword=parsed.keyword,
        structured=parsed.structured,
        threat=str(parsed.threat),
        level_code=parsed.level_code,
        place_text=placement.text or parsed.place_text,
        area=placement.area,
        place_method=str(placement.method),
        place_confidence=max(0.0, min(1.0, float(placement.confidence))),
        review_reasons=reasons,
    )


def _place(mission, parsed: ParsedSMS, contact) -> Placement:
    if mission is None:
        return NOWHERE
    return resolve_place(
        mission, list(parsed.place_candidates), contact, more=parsed.other_candidates
    )


def _language_hints(mission, contact) -> list[str]:
    hints = []
    language = getattr(contact, "language", "") if contact is not None else ""
    if isinstance(language, str) and language:
        hints.append(language[:2].lower())
    languages = getattr(mission, "languages", None) or []
    if isinstance(languages, list):
        hints += [code for code in languages if isinstance(code, str)]
    return hints
