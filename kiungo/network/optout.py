"""Opting out by SMS: a contact sends STOP (or ARRET / ARRÊT) to stop receiving broadcasts,
network tests and word of responses; START (or REPRISE) to be contacted again.

Only a message that is that one word (case, accents and punctuation aside) from a known
contact's number is a command; anything else, and a STOP from an unknown number, goes on as an
alert. The contact is answered in their language. STOP records a consent withdrawal (by SMS) and
sets `opted_out_at`; START records consent to be contacted again, but not to feedback, which a
CLA records again in person (feedback concerns the contact's own alerts and was withdrawn by the
STOP). Receipts to alerts the contact sends are still answered: the contact asked for them.
"""

from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _

from kiungo.alerts.notify import language_for
from kiungo.lib.text import fold
from kiungo.messaging.models import Purpose
from kiungo.messaging.outbox import queue_sms, reply_channel
from kiungo.network import contacts as contact_rules
from kiungo.network.models import Contact

STOP, START = "stop", "start"
WORDS = {
    "stop": STOP,
    "arret": STOP,
    "arreter": STOP,
    "unsubscribe": STOP,
    "start": START,
    "reprise": START,
    "reprendre": START,
}


@dataclass(frozen=True)
class OptOutCommand:
    action: str
    contact_id: int


def parse(text: str) -> str | None:
    words = fold(text).split()
    return WORDS.get(words[0]) if len(words) == 1 else None


class OptOut:
    """STOP / START as an SMS command (see kiungo/messaging/commands.py)."""

    def recognise(self, mission, sender: str, text: str) -> OptOutCommand | None:
        action = parse(text[:40])
        if action is None or not sender:
            return None
        contact = Contact.objects.with_number(mission, sender).filter(erased_at__isnull=True)
        contact_id = contact.values_list("pk", flat=True).first()
        return OptOutCommand(action, contact_id) if contact_id else None

    def apply(self, channel, message, sender: str, command: OptOutCommand) -> None:
        contact = Contact.objects.select_related("mission").get(pk=command.contact_id)
        if command.action == STOP:
            contact_rules.opt_out(contact)
        else:
            contact_rules.opt_in(contact)
        with translation.override(language_for(contact.mission, contact.language)):
            if command.action == STOP:
                text = _("Kiungo: you will no longer receive our messages. Send START to resume.")
            else:
                text = _("Kiungo: you will receive our messages again. Send STOP to stop.")
            label = _("contact %(code)s") % {"code": contact.code}
        queue_sms(
            reply_channel(channel), sender, text, purpose=Purpose.RECEIPT, recipient_label=label
        )
