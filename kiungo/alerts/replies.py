"""SMS reply codes: a unit answers from its registered duty phone, in English or French.

    OK K7HQ3M2                   acknowledge              (also ACK, RECU, VU)
    PATROL K7HQ3M2               patrol sent              (PATROUILLE)
    ARRIVED K7HQ3M2              patrol on site           (ARRIVE, SURPLACE)
    REFER K7HQ3M2                referred to national forces (REFERE, TRANSMIS)
    NOACTION K7HQ3M2 <reason>    no action, and why       (AUCUNE, SANSACTION)
    CLOSE K7HQ3M2 <outcome>      closed: DETERRED, CLASH, REFERRED, NOTHING, FALSE, LATE, OTHER
                                 (CLOS, FIN: DISSUADE, ACCROCHAGE, REFERE, RIEN, FAUX, TARD, AUTRE)

Case, accents and punctuation do not matter ("ok k7hq3m2", "Reçu K7HQ3M2."). A message is a
reply code only when its first word is a code and its second an incident reference, and it
comes from a duty phone or names an incident that exists (`meant_as_code`); anything else is
an alert. The phone must be an active duty phone of the incident's unit or of a unit
above it (force HQ's, for an incident no unit holds); any other phone is refused (the message
is kept, marked refused, and the sender gets a neutral answer that says nothing about the
incident). Every accepted code is a timeline event through the "sms" channel, and the phone
gets a short confirmation.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kiungo.alerts import notify, response
from kiungo.alerts.models import Incident, Outcome, Response
from kiungo.forces.models import DutyPhone
from kiungo.lib.text import fold
from kiungo.messaging.models import Channel, InboundMessage
from kiungo.missions.models import EscalationStep

ACKNOWLEDGE, CLOSE = "acknowledge", "close"

# folded code word -> (action, language it belongs to, or "" for both)
CODES = {
    "ok": (ACKNOWLEDGE, ""),
    "ack": (ACKNOWLEDGE, "en"),
    "recu": (ACKNOWLEDGE, "fr"),
    "vu": (ACKNOWLEDGE, "fr"),
    "patrol": (Response.PATROL_SENT, "en"),
    "patrouille": (Response.PATROL_SENT, "fr"),
    "arrived": (Response.ARRIVED, "en"),
    "arrive": (Response.ARRIVED, "fr"),
    "surplace": (Response.ARRIVED, "fr"),
    "refer": (Response.REFERRED, "en"),
    "referred": (Response.REFERRED, "en"),
    "refere": (Response.REFERRED, "fr"),
    "transmis": (Response.REFERRED, "fr"),
    "noaction": (Response.NO_ACTION, "en"),
    "aucune": (Response.NO_ACTION, "fr"),
    "sansaction": (Response.NO_ACTION, "fr"),
    "close": (CLOSE, "en"),
    "closed": (CLOSE, "en"),
    "clos": (CLOSE, "fr"),
    "cloture": (CLOSE, "fr"),
    "fin": (CLOSE, "fr"),
}

OUTCOME_WORDS = {
    "deterred": Outcome.DETERRED,
    "dissuade": Outcome.DETERRED,
    "clash": Outcome.CLASHED,
    "clashed": Outcome.CLASHED,
    "accrochage": Outcome.CLASHED,
    "referred": Outcome.REFERRED,
    "refere": Outcome.REFERRED,
    "fardc": Outcome.REFERRED,
    "nothing": Outcome.NOTHING_FOUND,
    "rien": Outcome.NOTHING_FOUND,
    "false": Outcome.FALSE_ALARM,
    "faux": Outcome.FALSE_ALARM,
    "fausse": Outcome.FALSE_ALARM,
    "late": Outcome.TOO_LATE,
    "tard": Outcome.TOO_LATE,
    "other": Outcome.OTHER,
    "autre": Outcome.OTHER,
}

_REFERENCE = re.compile(r"^k[23456789a-hj-km-np-z]{6}$")


@dataclass(frozen=True)
class ReplyCode:
    action: str  # ACKNOWLEDGE, CLOSE or a Response value
    reference: str  # the incident's reference, upper case
    rest: str  # the reason or outcome, as typed
    language: str  # "en", "fr" or "" when the code word is both


def parse(text: str) -> ReplyCode | None:
    """The reply code in `text`, or None when it is not one (then it is an alert)."""
    tokens = text.strip()[:300].split()
    folded = [fold(token).replace(" ", "") for token in tokens]
    if len(folded) < 2:
        return None
    word, at = folded[0], 1
    if folded[:2] == ["no", "action"]:
        word, at = "noaction", 2
    reference = folded[at] if at < len(folded) else ""
    if reference == "k" and at + 1 < len(folded):  # "OK K 7HQ3M2"
        reference, at = "k" + folded[at + 1], at + 1
    if word not in CODES or not _REFERENCE.match(reference):
        return None
    action, language = CODES[word]
    rest = " ".join(tokens[at + 1 :])[:500]
    return ReplyCode(action, reference.upper(), rest, language)


def meant_as_code(mission, sender: str, code: ReplyCode) -> bool:
    """Whether a message that reads like a reply code is one: it comes from a registered duty
    phone, or names an incident of the mission. Otherwise it is a community alert that happens
    to start like one ("Arrivé Kasenye des hommes armés"), and goes through as an alert."""
    if DutyPhone.objects.filter(number=sender, unit__mission_id=mission.pk).exists():
        return True
    return Incident.objects.filter(mission_id=mission.pk, reference=code.reference).exists()


class UnitReplies:
    """The reply codes as an SMS command (see kiungo/messaging/commands.py)."""

    def recognise(self, mission, sender: str, text: str) -> ReplyCode | None:
        code = parse(text)
        if code is None or not meant_as_code(mission, sender, code):
            return None  # reads like a code, from no duty phone, about no incident: an alert
        return code

    def apply(self, channel, message, sender: str, code: ReplyCode) -> None:
        handle(channel, message, sender, code)


def _incident(channel: Channel, reference: str) -> Incident | None:
    incident = Incident.objects.filter(mission_id=channel.mission_id, reference=reference).first()
    for _hop in range(5):  # a merged incident answers for the one it went into
        if incident is None or incident.merged_into_id is None:
            break
        incident = incident.merged_into
    return incident


def handle(channel: Channel, message: InboundMessage, sender: str, code: ReplyCode) -> bool:
    """Apply a reply code received in `message` (call inside its transaction).

    Returns whether it was accepted; a refusal marks the message REFUSED with the reason.
    The sender is answered either way.
    """
    mission = channel.mission
    phone = (
        DutyPhone.objects.select_related("unit__parent__parent__parent")
        .filter(number=sender, active=True, unit__mission_id=mission.pk)
        .first()
    )
    language = notify.language_for(mission, code.language)
    with translation.override(language):
        if phone is None:
            return _refuse(
                channel,
                message,
                sender,
                "reply code from a phone that is not a registered duty phone",
                _("Kiungo: this phone is not registered to answer alerts."),
            )
        incident = _incident(channel, code.reference)
        label = f"{phone.unit.code} {phone.label}".strip()
        if incident is None or phone.unit_id not in _chain_ids(incident):
            return _refuse(
                channel,
                message,
                sender,
                "reply code for an incident that is not this unit's",
                _("Kiungo: %(reference)s is not an incident of your unit.")
                % {"reference": code.reference},
                label,
            )
        actor = response.Actor(unit=phone.unit, channel="sms", phone=label, inbound=message.pk)
        try:
            text = _apply(incident, code, actor)
        except ValidationError as error:
            text = _("Kiungo %(reference)s: %(problem)s") % {
                "reference": incident.reference,
                "problem": " ".join(error.messages),
            }
        duty_phone = _("duty phone %(label)s") % {"label": label}
        notify.reply(channel, sender, text, incident=incident, label=duty_phone)
    return True


def _chain_ids(incident: Incident) -> set[int]:
    """The incident's unit and every unit above it; for an incident without a unit, force HQ
    (escalation tells it to reply OK to take charge)."""
    if incident.unit_id:
        return {unit.pk for unit in incident.unit.chain()}
    force_hq = notify.target_unit(incident, EscalationStep.Target.FORCE_HQ)
    return {force_hq.pk} if force_hq is not None else set()


def _refuse(channel, message, sender, reason, text, label="") -> bool:
    message.state = InboundMessage.State.REFUSED
    message.error = reason
    message.save(update_fields=["state", "error"])
    if sender.startswith("+"):  # a short code or a name cannot be answered
        notify.reply(channel, sender, text, label=label or _("unregistered sender"))
    return False


def _apply(incident: Incident, code: ReplyCode, actor: response.Actor) -> str:
    """Apply the code; the confirmation to send back (in the active language)."""
    mission = incident.mission
    now = timezone.now()
    names = {"reference": incident.reference}
    if code.action == ACKNOWLEDGE:
        if not response.acknowledge(incident, actor, now=now):
            return _("Kiungo %(reference)s: already acknowledged.") % names
        incident.refresh_from_db()
        return _(
            "Kiungo %(reference)s: acknowledged. Decide by %(respond)s: PATROL, REFER or "
            "NOACTION %(reference)s <reason>."
        ) % {**names, "respond": notify.local_time(mission, incident.respond_due_at)}
    if code.action == CLOSE:
        word = fold(code.rest).split()[:1]
        outcome = OUTCOME_WORDS.get(word[0]) if word else None
        if outcome is None:
            return (
                _(
                    "Kiungo %(reference)s: say how it ended, e.g. CLOSE %(reference)s DETERRED "
                    "(or CLASH, REFERRED, NOTHING, FALSE, LATE, OTHER)."
                )
                % names
            )
        note = code.rest.split(None, 1)[1] if len(code.rest.split(None, 1)) > 1 else ""
        response.close(incident, outcome, actor, note=note, now=now)
        return _("Kiungo %(reference)s: closed (%(outcome)s). Thank you.") % {
            **names,
            "outcome": Outcome(outcome).label,
        }
    action = Response(code.action)
    if action == Response.NO_ACTION and not code.rest:
        return _("Kiungo %(reference)s: say why, e.g. NOACTION %(reference)s <reason>.") % names
    if not response.respond(incident, action, actor, reason=code.rest, now=now):
        return _("Kiungo %(reference)s: already recorded.") % names
    return _("Kiungo %(reference)s: recorded (%(response)s).") % {
        **names,
        "response": action.label,
    }
