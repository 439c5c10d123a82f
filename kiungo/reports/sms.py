"""The daily report by SMS, for when only SMS works, from the CLA's registered phone:

    RAS   or  NTR            nothing to report today (French / English)
    RAP <text> or REP <text> today's daily report, submitted at once

Case, accents and punctuation around the code word do not matter ("ras.", "R.A.S", "Rap: ...").
The codes are strict so that a community alert is never taken for one: RAS / NTR must stand
alone, RAP / REP must be a word of its own followed by text ("Rapt de 3 enfants" is an alert).

From a phone that is not a CLA's registered phone:
- a known key contact's message is an alert as usual (contacts report, they do not file CLA
  reports; their "RAS" goes to the early-warning cell, which loses nothing);
- any other sender is refused: the message is kept, marked REFUSED with the reason, logged
  without the number, and answered neutrally.

Repeats, decided so that nothing is duplicated and nothing lost:
- RAS when today's report was already submitted: nothing changes, the CLA is told so;
- RAP <text> when today's report was already submitted: the text is appended to it as a new
  version (back to the manager for review, if it was accepted);
- RAS or RAP on a draft written on the web: the draft is completed and submitted (RAP appends
  its text under the first heading, RAS ticks "nothing to report").
The CLA is answered in their first language among French and English.
"""

import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kiungo.alerts.notify import language_for
from kiungo.lib.text import fold
from kiungo.messaging.models import InboundMessage, Purpose
from kiungo.messaging.outbox import queue_sms, reply_channel
from kiungo.network.models import Contact
from kiungo.people.models import CLAProfile
from kiungo.reports import periods, writing
from kiungo.reports.headings import headings_for
from kiungo.reports.models import EDITABLE, Kind, Report, Source

logger = logging.getLogger(__name__)

NOTHING, REPORT, HELP = "nothing", "report", "help"
# folded code word -> (action, language)
CODES = {
    "ras": (NOTHING, "fr"),
    "ntr": (NOTHING, "en"),
    "rap": (REPORT, "fr"),
    "rep": (REPORT, "en"),
}


@dataclass(frozen=True)
class SMSReport:
    action: str  # NOTHING, REPORT or HELP (a CLA's code without its text)
    text: str
    language: str
    cla_id: int | None  # None: not a CLA's registered phone (refused)


def parse(text: str) -> tuple[str, str, str] | None:
    """(action, text, language) when `text` is a report code, else None."""
    parts = text.strip().split(None, 1)
    if not parts:
        return None
    word = fold(parts[0]).replace(" ", "")
    rest = parts[1].strip() if len(parts) > 1 else ""
    if word not in CODES:
        return None
    action, language = CODES[word]
    has_text = bool(fold(rest))
    if action == NOTHING:
        return (NOTHING, "", language) if not has_text else None
    return (REPORT, rest, language) if has_text else (HELP, "", language)


class DailyReportBySMS:
    """The codes as an SMS command (see kiungo/messaging/commands.py)."""

    def recognise(self, mission, sender: str, text: str) -> SMSReport | None:
        parsed = parse(text)
        if parsed is None:
            return None
        action, body, language = parsed
        cla = CLAProfile.objects.with_number(sender).select_related("user").first()
        if cla is not None and cla.user.is_active:
            return SMSReport(action, body, language, cla.pk)
        if action == HELP:
            return None  # "RAP" alone from anyone else: an alert like any other text
        if Contact.objects.with_number(mission, sender).exists():
            return None  # a key contact's message is an alert
        return SMSReport(action, body, language, None)

    def apply(self, channel, message, sender: str, parsed: SMSReport) -> None:
        handle(channel, message, sender, parsed)


def handle(channel, message: InboundMessage, sender: str, parsed: SMSReport) -> bool:
    """Apply a report code (inside the message's transaction); returns whether it was taken."""
    mission = channel.mission
    if parsed.cla_id is None:
        logger.info("SMS report refused: not a CLA's registered phone (inbound %s)", message.pk)
        message.state = InboundMessage.State.REFUSED
        message.error = "report code from a phone that is not a CLA's registered phone"
        message.save(update_fields=["state", "error"])
        if sender.startswith("+"):
            with translation.override(language_for(mission, parsed.language)):
                _answer(channel, sender, _("Kiungo: this phone cannot send reports."), "")
        return False
    cla = CLAProfile.objects.select_related("user", "base__mission").get(pk=parsed.cla_id)
    preferred = next((code for code in cla.languages if code in ("fr", "en")), parsed.language)
    with translation.override(language_for(mission, preferred)):
        label = _("CLA %(staff_id)s") % {"staff_id": cla.staff_id}
        try:
            text = _apply(cla, parsed)
        except ValidationError as error:
            text = _("Kiungo: report not saved: %(problem)s") % {
                "problem": " ".join(error.messages)
            }
        _answer(channel, sender, text, label)
    return True


def _apply(cla: CLAProfile, parsed: SMSReport) -> str:
    if parsed.action == HELP:
        return _("Kiungo: send RAP followed by your report, or RAS if nothing to report.")
    if cla.base_id is None:
        raise ValidationError(_("you are not deployed at a base."))
    now = timezone.now()
    mission = cla.base.mission
    today = periods.local_today(mission, now)
    names = {"day": today.strftime("%d/%m")}
    report = Report.objects.filter(cla=cla, kind=Kind.DAILY, period_start=today).first()
    if report is None:
        try:
            report = writing.start_report(
                cla=cla, kind=Kind.DAILY, day=today, now=now, source="sms"
            )
        except writing.PeriodTaken as taken:  # created a moment ago
            report = taken.existing
    key = headings_for(mission.pk, Kind.DAILY)[0].key
    if parsed.action == NOTHING:
        if report.status not in EDITABLE:
            return _("Kiungo: your report for %(day)s was already sent. Nothing changed.") % names
        writing.save_draft(report, writing.Changes(nothing_to_report=True), now=now)
        writing.submit(report, user=cla.user, now=now, source=Source.SMS)
        return _("Kiungo: report for %(day)s received (nothing to report). Thank you.") % names
    if report.status not in EDITABLE:
        version = writing.revise_by_sms(report, user=cla.user, text=parsed.text, key=key, now=now)
        return _("Kiungo: added to your report for %(day)s (version %(number)s).") % {
            **names,
            "number": version.number,
        }
    current = report.sections.get(key, "")
    joined = "\n\n".join(part for part in (current, parsed.text) if part)
    writing.save_draft(
        report, writing.Changes(sections={key: joined}, nothing_to_report=False), now=now
    )
    writing.submit(report, user=cla.user, now=now, source=Source.SMS)
    return _("Kiungo: report for %(day)s received. Thank you.") % names


def _answer(channel, sender: str, text: str, label: str) -> None:
    queue_sms(
        reply_channel(channel),
        sender,
        text,
        purpose=Purpose.REPORT,
        recipient_label=label or _("unregistered sender"),
    )
