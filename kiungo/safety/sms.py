"""Safety by SMS, from a CLA's registered phone only (CLAProfile.phone), English or French:

    OK | SAFE | BIEN [where]     check in ("I am safe"); words after it are kept as a note,
                                 and name the place when they are a place of the mission
    SOS [anything]               SOS: the manager and the security officers are told at once
    <duress word> [anything]     the mission's discreet duress word (CheckInPolicy): an SOS
                                 marked "duress", answered exactly as a check-in is

Case, accents and punctuation do not matter. From any other phone these words are not
commands: a bare "OK" or "SOS" from a community member stays an alert, as before; a duty
phone's "OK K7HQ3M2" is a reply code (kiungo/alerts/replies.py, registered first).
"""

import time
from dataclasses import dataclass

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import translation
from django.utils.translation import gettext as _

from kiungo.alerts.notify import language_for, local_time
from kiungo.geography.models import Area
from kiungo.lib.text import fold
from kiungo.messaging.models import Purpose
from kiungo.messaging.outbox import queue_sms, reply_channel
from kiungo.people.models import CLAProfile
from kiungo.safety import checkins
from kiungo.safety.models import CHECK_IN_WORDS, SOS_WORDS, Alarm, Channel, CheckInPolicy

CHECK_IN, SOS, DURESS = "check_in", "sos", "duress"
SAFETY_PLACEHOLDER = "(CLA safety message)"
SHORT = 6  # words: a longer message is an alert, never a safety code


@dataclass(frozen=True)
class SafetyCode:
    action: str  # CHECK_IN, SOS or DURESS
    cla_id: int
    rest: str  # the words after the code, as typed
    language: str  # "fr" for BIEN, "" otherwise


# Every inbound SMS is offered to this handler: the mission's duress word is kept in the
# process for a few seconds, so a community alert costs no query here (the intake's statement
# budget, kiungo/alerts/tests/test_intake.py). A policy saved in this process is seen at once.
DURESS_TTL = 30.0  # seconds
_duress_words: dict[int, tuple[str, float]] = {}


def duress_word(mission) -> str:
    """The mission's duress word, folded ("" for none)."""
    cached = _duress_words.get(mission.pk)
    if cached is not None and time.monotonic() - cached[1] < DURESS_TTL:
        return cached[0]
    policy = CheckInPolicy.objects.filter(mission=mission, active=True).only("duress_word").first()
    word = policy.folded_duress_word if policy else ""
    _duress_words[mission.pk] = (word, time.monotonic())
    return word


@receiver([post_save, post_delete], sender=CheckInPolicy)
def _forget_duress_words(**kwargs) -> None:
    _duress_words.clear()


class SafetyBySMS:
    """The safety codes as an SMS command (see kiungo/messaging/commands.py)."""

    def recognise(self, mission, sender: str, text: str) -> SafetyCode | None:
        tokens = text.strip()[:300].split()
        if not tokens or len(tokens) > SHORT or not sender.startswith("+"):
            return None
        word = fold(tokens[0]).replace(" ", "")
        if word in CHECK_IN_WORDS:
            action = CHECK_IN
        elif word in SOS_WORDS:
            action = SOS
        elif word == duress_word(mission) != "":
            action = DURESS
        else:
            return None  # the words say it is no safety code: no need to look at the phone
        cla = (
            CLAProfile.objects.with_number(sender)
            .filter(user__is_active=True)
            .only("pk", "base_id")
            .first()
        )
        if cla is None or cla.base_id is None:
            return None  # not a deployed CLA's phone: whatever it says is not a safety code
        rest = " ".join(tokens[1:])
        return SafetyCode(action, cla.pk, rest, "fr" if word == "bien" else "")

    def apply(self, channel, message, sender: str, code: SafetyCode) -> None:
        # What a CLA's phone said about their safety is for those who may see it, not for the
        # inbound-SMS page: the stored message keeps no trace of the code (nor of a duress
        # word); the check-in or alarm keeps the note.
        message.text, message.raw = SAFETY_PLACEHOLDER, ""
        message.save(update_fields=["text", "raw"])
        cla = CLAProfile.objects.select_related("user", "base__mission").get(pk=code.cla_id)
        mission = channel.mission
        # The words after the code name the place when they are a place of the CLA's mission.
        area = Area.objects.named(cla.base.mission, code.rest).first() if code.rest else None
        language = language_for(mission, code.language)
        with translation.override(language):
            if code.action == CHECK_IN:
                check, _created = checkins.check_in(
                    cla, channel=Channel.SMS, area=area, note=code.rest
                )
                text = _confirmation(mission, checkins.next_due_after_check_in(cla, check.at))
            elif code.action == SOS:
                checkins.raise_alarm(
                    cla, Alarm.Kind.SOS, channel=Channel.SMS, area=area, note=code.rest
                )
                text = _("Kiungo: SOS received. Your manager and security are told now.")
            else:
                # The phone may be in other hands: answer exactly as a check-in is answered.
                alarm = checkins.raise_alarm(
                    cla, Alarm.Kind.DURESS, channel=Channel.SMS, area=area, note=code.rest
                )
                text = _confirmation(
                    mission, checkins.next_due_after_check_in(cla, alarm.last_signal_at)
                )
        queue_sms(
            reply_channel(channel),
            sender,
            text,
            purpose=Purpose.REPLY,
            recipient_label=f"CLA {cla.staff_id}",
        )


def _confirmation(mission, next_due) -> str:
    if next_due is None:
        return _("Kiungo: check-in received. Thank you.")
    return _("Kiungo: check-in received. Next one by %(time)s. Thank you.") % {
        "time": local_time(mission, next_due)
    }
