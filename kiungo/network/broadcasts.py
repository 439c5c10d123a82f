"""Broadcast SMS to consented contacts of an area, each in their language.

    prepare()  counts the recipients and keeps the choice (shown for confirmation: the count,
               never the identities);
    send()     queues one SMS per recipient in one transaction, once: the broadcast is claimed
               with a conditional UPDATE (prepared > sent), so a double click or a retried
               request finds it already sent and queues nothing more.

Recipients are computed again when sending (a STOP received in between is honoured): active,
not erased contacts living in the area or below it, who agreed to be contacted and have not
opted out, whose language is among the broadcast's languages and the template's texts. A
contact without a recorded language counts as speaking the mission's first working language.
Broadcast SMS carry the purpose "broadcast": the worker sends them after urgent messages and
within the community share of a channel's rate (messaging/delivery.py).
"""

from collections import Counter
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kiungo.messaging.models import OutboundMessage, Purpose
from kiungo.messaging.outbox import notification_channel, queue_sms
from kiungo.network.models import Broadcast, BroadcastRecipient, BroadcastTemplate, Contact

REPREPARE_WINDOW = timedelta(minutes=10)


def language_of(contact: Contact, mission) -> str:
    return contact.language or (mission.languages[0] if mission.languages else "")


def recipients(template: BroadcastTemplate, area, languages: list[str]) -> list[tuple]:
    """(contact, language) for everyone the broadcast would reach."""
    mission = template.mission
    wanted = set(languages) & set(template.texts)
    chosen = []
    contacts = Contact.objects.reachable().filter(
        mission=mission, home_locality__pcode__startswith=area.pcode
    )
    for contact in contacts.order_by("code"):
        language = language_of(contact, mission)
        if language in wanted:
            chosen.append((contact, language))
    return chosen


def prepare(template: BroadcastTemplate, area, languages: list[str], user) -> Broadcast:
    """A broadcast waiting for confirmation, with the number of recipients it would reach."""
    missing = [code for code in languages if code not in template.texts]
    if missing:
        raise ValidationError(
            _("The template has no text in: %(languages)s.") % {"languages": ", ".join(missing)}
        )
    languages = sorted(set(languages))
    count = len(recipients(template, area, languages))
    # A double click on "count" must not leave two broadcasts waiting to be confirmed.
    recent = Broadcast.objects.filter(
        template=template,
        area=area,
        languages=languages,
        created_by=user,
        state=Broadcast.State.PREPARED,
        created_at__gte=timezone.now() - REPREPARE_WINDOW,
    ).first()
    if recent is not None:
        Broadcast.objects.filter(pk=recent.pk).update(expected=count)
        recent.expected = count
        return recent
    return Broadcast.objects.create(
        mission=template.mission,
        template=template,
        area=area,
        languages=languages,
        expected=count,
        created_by=user,
    )


def send(broadcast: Broadcast) -> int | None:
    """Queue the broadcast's SMS (one transaction); the number of recipients, or None when it
    was already sent or cancelled (nothing more is queued)."""
    channel = notification_channel(broadcast.mission_id)
    if channel is None:
        raise ValidationError(_("No active SMS channel can send the mission's messages."))
    with transaction.atomic():
        claimed = Broadcast.objects.filter(pk=broadcast.pk, state=Broadcast.State.PREPARED).update(
            state=Broadcast.State.SENT, sent_at=timezone.now()
        )
        if not claimed:
            return None
        chosen = recipients(broadcast.template, broadcast.area, broadcast.languages)
        for contact, language in chosen:
            with translation.override(language if language in ("en", "fr") else None):
                label = _("contact %(code)s") % {"code": contact.code}
            messages = queue_sms(
                channel,
                contact.phone,
                broadcast.template.texts[language],
                purpose=Purpose.BROADCAST,
                recipient_label=label,
            )
            recipient = BroadcastRecipient.objects.create(
                broadcast=broadcast, contact=contact, language=language
            )
            recipient.messages.set(messages)
    broadcast.refresh_from_db()
    return len(chosen)


def cancel(broadcast: Broadcast) -> bool:
    return bool(
        Broadcast.objects.filter(pk=broadcast.pk, state=Broadcast.State.PREPARED).update(
            state=Broadcast.State.CANCELLED
        )
    )


def delivery(broadcast: Broadcast) -> dict:
    """Recipients and SMS parts by outbox state, and recipients by language."""
    parts = dict(
        OutboundMessage.objects.filter(
            pk__in=BroadcastRecipient.messages.through.objects.filter(
                broadcastrecipient__broadcast=broadcast
            ).values("outboundmessage_id")
        )
        .values_list("state")
        .annotate(n=Count("pk"))
    )
    languages = Counter(broadcast.recipients.values_list("language", flat=True))
    return {
        "recipients": broadcast.recipients.count(),
        "by_state": [(state.label, parts.get(state.value, 0)) for state in OutboundMessage.State],
        "by_language": sorted(languages.items()),
    }
