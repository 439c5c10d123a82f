"""Who is told about an incident, and what they read: SMS to duty phones, e-mail to officers,
receipts and follow-ups to the people who raised the alert.

Every function here only queues (kiungo.messaging.outbox): call it inside the transaction of
the change that causes the message, so the message and the change commit together.

What goes to whom:
- a unit's duty phones (SMS) and its duty officers (e-mail) get the incident itself: level,
  threat, place, deadline and the reply code to acknowledge; never who raised it;
- the early-warning cell's officers get e-mail;
- a sender gets a neutral receipt with the alert's short reference (never the content: the
  phone may not be theirs tomorrow), at most one per RECEIPT_QUIET minutes (an automatic
  answering machine would otherwise talk to ours forever);
- a contact who agreed to it hears that the mission is responding, nothing more.
"""

import logging
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kiungo.forces.models import DutyPhone, Unit
from kiungo.lib.crypto import keyed_hash
from kiungo.messaging.models import Channel, OutboundMessage, Purpose
from kiungo.messaging.outbox import notification_channel, queue_email, queue_sms, reply_channel
from kiungo.missions.models import EscalationStep, Mission
from kiungo.people.models import Role, RoleAssignment, User

logger = logging.getLogger(__name__)

SHIPPED_LANGUAGES = {code for code, _name in settings.LANGUAGES}
RECEIPT_QUIET = timedelta(minutes=10)


def language_for(mission: Mission, preferred: str = "") -> str:
    """`preferred` if Kiungo speaks it, else the mission's first working language we ship."""
    for code in [preferred, *mission.languages]:
        if code in SHIPPED_LANGUAGES:
            return code
    return settings.LANGUAGE_CODE


def local_time(mission: Mission, when: datetime | None) -> str:
    if when is None:
        return "-"
    return timezone.localtime(when, timezone=_zone(mission)).strftime("%H:%M")


def _zone(mission: Mission):
    return zoneinfo.ZoneInfo(mission.time_zone)


def _place(incident) -> str:
    return incident.area.name if incident.area_id else _("place unknown")


def _summary(incident) -> str:
    """ "K7HQ3M2 Critical: attack, Beni" in the active language."""
    return _("%(reference)s %(level)s: %(threat)s, %(place)s") % {
        "reference": incident.reference,
        "level": _(incident.level.name),
        "threat": incident.get_threat_display(),
        "place": _place(incident),
    }


@dataclass
class Recipients:
    """The people and phones of one step of the chain."""

    unit: Unit | None = None
    phones: list[DutyPhone] = field(default_factory=list)
    officers: list[User] = field(default_factory=list)
    label: str = ""


def unit_recipients(unit: Unit) -> Recipients:
    phones = list(DutyPhone.objects.filter(unit=unit, active=True).order_by("pk"))
    officers = list(
        User.objects.filter(
            is_active=True,
            role_assignments__role=Role.UNIT_DUTY_OFFICER,
            role_assignments__unit=unit,
        )
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
    return Recipients(unit=unit, phones=phones, officers=officers, label=unit.code)


def early_warning_cell(incident) -> Recipients:
    """The mission's early-warning officers whose scope holds the incident's place."""
    assignments = RoleAssignment.objects.filter(
        mission_id=incident.mission_id,
        role=Role.EARLY_WARNING_OFFICER,
        user__is_active=True,
    ).prefetch_related("areas")
    officers = {}
    for assignment in assignments.select_related("user"):
        if assignment.scope == RoleAssignment.Scope.AREAS:
            pcode = incident.area.pcode if incident.area_id else None
            if pcode is None or not any(pcode.startswith(a.pcode) for a in assignment.areas.all()):
                continue
        if assignment.user.email:
            officers[assignment.user.pk] = assignment.user
    return Recipients(officers=list(officers.values()), label=_("Early-warning cell"))


def target_unit(incident, target: str) -> Unit | None:
    """The unit a step of the chain reaches from the incident's unit (None: nobody there).

    Only units above the incident's own unit count: for an incident a battalion holds, the
    "battalion" step has nobody new to tell (the event records that). An incident without a
    unit reaches force HQ directly; battalion and sector need a unit.
    """
    kinds = {
        EscalationStep.Target.BATTALION: Unit.Kind.BATTALION,
        EscalationStep.Target.SECTOR: Unit.Kind.SECTOR,
        EscalationStep.Target.FORCE_HQ: Unit.Kind.FORCE_HQ,
    }
    if target not in kinds:
        return None
    if incident.unit_id:
        above = incident.unit.chain()[1:]
        return next((unit for unit in above if unit.kind == kinds[target]), None)
    if target == EscalationStep.Target.FORCE_HQ:
        return Unit.objects.filter(mission_id=incident.mission_id, kind=Unit.Kind.FORCE_HQ).first()
    return None


def _link(incident) -> str:
    return settings.PUBLIC_URL + reverse("incident-detail", args=[incident.reference])


def _send_to(recipients: Recipients, incident, purpose: str, sms: str, subject: str, body: str):
    """Queue `sms` to the phones and the e-mail to the officers; returns how many were queued."""
    queued = 0
    channel = notification_channel(incident.mission_id) if recipients.phones else None
    if recipients.phones and channel is None:
        logger.warning("incident %s: no active channel to notify duty phones", incident.pk)
    for phone in recipients.phones if channel else []:
        label = f"{phone.unit.code} {phone.label}".strip() if phone.unit_id else phone.label
        queue_sms(
            channel,
            phone.number,
            sms,
            purpose=purpose,
            recipient_label=_("duty phone %(label)s") % {"label": label},
            incident=incident,
        )
        queued += 1
    for officer in recipients.officers:
        queue_email(
            officer.email,
            subject,
            body,
            purpose=purpose,
            recipient_label=officer.get_full_name() or officer.username,
            incident=incident,
        )
        queued += 1
    return queued


def tell_unit(incident, unit: Unit | None = None) -> int:
    """Give the incident to its unit's duty phones and officers (after routing, reassignment
    or a rise in level). Returns the number of messages queued."""
    unit = unit or incident.unit
    if unit is None:
        return 0
    mission = incident.mission
    with translation.override(language_for(mission)):
        sms = _(
            "KIUNGO %(summary)s. Acknowledge by %(acknowledge)s: reply OK %(reference)s. "
            "Decide by %(respond)s: PATROL, REFER or NOACTION %(reference)s <reason>."
        ) % {
            "summary": _summary(incident),
            "acknowledge": local_time(mission, incident.acknowledge_due_at),
            "respond": local_time(mission, incident.respond_due_at),
            "reference": incident.reference,
        }
        subject = _("[Kiungo] New incident for %(unit)s: %(summary)s") % {
            "unit": unit.code,
            "summary": _summary(incident),
        }
        body = "\n".join(
            [
                sms,
                "",
                _("Alerts: %(alerts)s from %(sources)s sources.")
                % {"alerts": incident.alert_count, "sources": incident.source_count},
                _link(incident),
            ]
        )
    return _send_to(unit_recipients(unit), incident, Purpose.ALERT, sms, subject, body)


def tell_escalation(incident, target: str, missed: str, deadline: datetime) -> Recipients:
    """Tell one step of the chain that the incident's unit missed `deadline`.

    `missed` is "acknowledge" or "respond". Returns who was reached (possibly nobody: the
    caller records that on the timeline).
    """
    mission = incident.mission
    if target == EscalationStep.Target.EARLY_WARNING_CELL:
        recipients = early_warning_cell(incident)
    else:
        unit = target_unit(incident, target)
        recipients = unit_recipients(unit) if unit is not None else Recipients()
    with translation.override(language_for(mission)):
        what = _("not acknowledged") if missed == "acknowledge" else _("no response decided")
        holder = incident.unit.code if incident.unit_id else _("no unit assigned")
        if missed == "acknowledge":
            ask = _("Reply OK %(reference)s to take charge.")
        else:
            ask = _("Reply PATROL, REFER or NOACTION %(reference)s <reason>.")
        sms = _("KIUNGO ESCALATION %(summary)s. %(holder)s: %(what)s by %(deadline)s.") % {
            "summary": _summary(incident),
            "holder": holder,
            "what": what,
            "deadline": local_time(mission, deadline),
        }
        sms += " " + ask % {"reference": incident.reference}
        subject = _("[Kiungo] Escalation: %(summary)s (%(what)s)") % {
            "summary": _summary(incident),
            "what": what,
        }
        body = "\n".join([sms, "", _link(incident)])
    queued = _send_to(recipients, incident, Purpose.ESCALATION, sms, subject, body)
    if queued < len(recipients.phones) + len(recipients.officers):
        recipients.phones = []  # no channel to carry the SMS: no phone was reached
    return recipients


def receipted_recently(numbers) -> set[str]:
    """The keyed hashes of those `numbers` that got a receipt within RECEIPT_QUIET."""
    hashes = {keyed_hash(number) for number in numbers if number.startswith("+")}
    if not hashes:
        return set()
    return set(
        OutboundMessage.objects.filter(
            to_hash__in=hashes,
            purpose=Purpose.RECEIPT,
            created_at__gte=timezone.now() - RECEIPT_QUIET,
        ).values_list("to_hash", flat=True)
    )


def receipt(
    channel: Channel,
    sender_e164: str,
    alert,
    language: str = "",
    *,
    recently: set[str] | None = None,
) -> bool:
    """A neutral receipt to whoever sent `alert` by SMS. Returns whether one was queued.

    `recently`: `receipted_recently()` of a batch's senders, read once for the batch; the
    hash of each number answered here is added to it.
    """
    if not sender_e164.startswith("+"):
        return False  # a short code or a name: no number to answer
    if recently is None:
        recently = receipted_recently([sender_e164])
    to_hash = keyed_hash(sender_e164)
    if to_hash in recently:
        return False
    with translation.override(language_for(channel.mission, language)):
        text = _("Kiungo: message received, reference %(reference)s. Thank you.") % {
            "reference": alert.reference
        }
        label = (
            _("contact %(code)s") % {"code": alert.contact.code}
            if alert.contact_id
            else _("sender of %(reference)s") % {"reference": alert.reference}
        )
    queue_sms(
        reply_channel(channel),
        sender_e164,
        text,
        purpose=Purpose.RECEIPT,
        recipient_label=label,
        incident=alert.incident,
    )
    recently.add(to_hash)
    return True


def follow_up(incident) -> int:
    """Word that the mission is responding, to each consenting contact behind the incident.

    Only known contacts who agreed to feedback; an unknown sender got the receipt and nothing
    else. One message per contact, quoting their own alert's reference. Returns the count.
    """
    from kiungo.alerts.models import Alert

    alerts = (
        Alert.objects.filter(
            incident=incident, contact__consents_to_feedback=True, contact__active=True
        )
        .select_related("contact", "inbound__channel")
        .order_by("received_at")
    )
    told = set()
    for alert in alerts:
        contact = alert.contact
        if contact.pk in told or not contact.phone.startswith("+"):
            continue
        channel = reply_channel(alert.inbound.channel) if alert.inbound_id else None
        if channel is None or not channel.active:
            # Logged by an officer, or its gateway closed since (the worker sends nothing
            # through an inactive channel): the mission's notifier.
            channel = notification_channel(incident.mission_id)
        if channel is None:
            continue
        with translation.override(language_for(incident.mission, contact.language)):
            text = _(
                "Kiungo: about your message %(reference)s, the mission is responding. Thank you."
            ) % {"reference": alert.reference}
            label = _("contact %(code)s") % {"code": contact.code}
        queue_sms(
            channel,
            contact.phone,
            text,
            purpose=Purpose.FOLLOW_UP,
            recipient_label=label,
            incident=incident,
        )
        told.add(contact.pk)
    return len(told)


def reply(channel: Channel, to_e164: str, text: str, incident=None, label: str = "") -> None:
    """The answer to a reply code (already translated by the caller)."""
    queue_sms(
        reply_channel(channel),
        to_e164,
        text,
        purpose=Purpose.REPLY,
        recipient_label=label,
        incident=incident,
    )


__all__ = [
    "follow_up",
    "language_for",
    "receipt",
    "reply",
    "tell_escalation",
    "tell_unit",
]
