"""Key contacts as protected sources: numbers, consent, reveal, export, deactivation, erasure.

Every change is one transaction. Identities (names, numbers) are never logged and never put in
an error message, a URL or an export other than the audited identity export.
"""

import csv
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kiungo.accountability.views import safe_cell
from kiungo.lib.crypto import keyed_hash
from kiungo.messaging.models import InboundMessage, OutboundMessage
from kiungo.missions.models import Mission
from kiungo.network.models import ConsentRecord, Contact, ContactPhone, SourceAccess
from kiungo.people.access import Capability, may, revealable_contacts, visible_contacts

CODE_PREFIX = re.compile(r"^[A-Z0-9]{1,5}(-[A-Z0-9]{1,5}){0,2}$")


def next_code(mission: Mission, prefix: str) -> str:
    """The next free pseudonym under `prefix` in the mission: NK-BEN -> NK-BEN-018."""
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)$")
    codes = Contact.objects.filter(mission=mission, code__startswith=f"{prefix}-").values_list(
        "code", flat=True
    )
    numbers = [int(match.group(1)) for code in codes if (match := pattern.match(code))]
    return f"{prefix}-{max(numbers, default=0) + 1:03d}"


def default_prefix(contact_area) -> str:
    """The prefix most recently used for contacts of the same territory, if any."""
    if contact_area is None:
        return ""
    territory = contact_area.pcode[:6]
    latest = (
        Contact.objects.filter(
            mission_id=contact_area.mission_id, home_locality__pcode__startswith=territory
        )
        .order_by("-pk")
        .values_list("code", flat=True)
        .first()
    )
    return latest.rsplit("-", 1)[0] if latest and "-" in latest else ""


def duplicate_error(mission: Mission, numbers: list[str], user, exclude: Contact | None = None):
    """A ValidationError naming the contact who already holds one of `numbers`, by pseudonym
    only, and only if `user` may see that contact; None when every number is free."""
    for number in numbers:
        holders = Contact.objects.with_number(mission, number)
        if exclude is not None and exclude.pk:
            holders = holders.exclude(pk=exclude.pk)
        holder = holders.first()
        if holder is None:
            continue
        if visible_contacts(user).filter(pk=holder.pk).exists():
            return ValidationError(
                _("This number is already the number of contact %(code)s."),
                code="duplicate_phone",
                params={"code": holder.code},
            )
        return ValidationError(
            _("This number already belongs to another contact."), code="duplicate_phone"
        )
    if len(set(numbers)) != len(numbers):
        return ValidationError(_("The same number is given twice."), code="duplicate_phone")
    return None


def save_contact(
    contact: Contact,
    numbers: list[str] | None,
    user,
    prefix: str = "",
    consent_method: str = "",
) -> Contact:
    """Create or update `contact`; `numbers` (E.164, first = main) replace the stored ones when
    given (None keeps them). A new contact gets its pseudonym under `prefix` and its first
    consent record (`consent_method`). Raises ValidationError (nothing saved) on a duplicate
    number, also one saved by someone else at the same moment (the unique constraints)."""
    try:
        return _save_contact(contact, numbers, user, prefix, consent_method)
    except IntegrityError:
        if contact.code and not Contact.objects.filter(pk=contact.pk).exists():
            contact.pk = None  # the insert was rolled back
        error = duplicate_error(contact.mission, numbers or [], user, exclude=contact)
        raise error or ValidationError(
            _("Another contact was saved at the same moment: please try again."),
            code="concurrent",
        ) from None


def _save_contact(contact, numbers, user, prefix, consent_method) -> Contact:
    with transaction.atomic():
        if numbers is not None:
            error = duplicate_error(contact.mission, numbers, user, exclude=contact)
            if error is not None:
                raise error
        creating = contact.pk is None
        if creating:
            contact.code = next_code(contact.mission, prefix)
        if numbers is not None:
            contact.phone = numbers[0] if numbers else ""
        contact.save()
        if numbers is not None:
            contact.numbers.all().delete()
            ContactPhone.objects.bulk_create(
                ContactPhone(
                    mission=contact.mission,
                    contact=contact,
                    number=number,
                    number_hash=keyed_hash(number),
                )
                for number in numbers[1:]
            )
        if creating and consent_method:
            record_consent(
                contact,
                to_contact=contact.consents_to_contact,
                to_feedback=contact.consents_to_feedback,
                method=consent_method,
                by=user,
            )
    return contact


def numbers_of(contact: Contact) -> list[str]:
    """The contact's numbers, main first (plain text: only for the reveal page and export)."""
    extra = [phone.number for phone in contact.numbers.all()]
    return ([contact.phone] if contact.phone else []) + extra


def record_consent(
    contact: Contact,
    *,
    to_contact: bool,
    to_feedback: bool,
    method: str,
    by=None,
    at=None,
) -> ConsentRecord:
    """The one way consent changes: a new record, mirrored on the contact. Agreeing again to be
    contacted lifts an earlier SMS opt-out."""
    at = at or timezone.now()
    with transaction.atomic():
        record = ConsentRecord.objects.create(
            contact=contact,
            consents_to_contact=to_contact,
            consents_to_feedback=to_feedback,
            method=method,
            recorded_at=at,
            recorded_by=by,
        )
        contact.consents_to_contact = to_contact
        contact.consents_to_feedback = to_feedback
        if to_contact:
            contact.opted_out_at = None
        contact.save(
            update_fields=[
                "consents_to_contact",
                "consents_to_feedback",
                "opted_out_at",
                "phone_hash",
            ]
        )
    return record


def opt_out(contact: Contact, at=None) -> None:
    """STOP by SMS: no more broadcasts, network tests or feedback (recorded as consent)."""
    at = at or timezone.now()
    with transaction.atomic():
        record_consent(
            contact,
            to_contact=False,
            to_feedback=False,
            method=ConsentRecord.Method.SMS,
            at=at,
        )
        Contact.objects.filter(pk=contact.pk).update(opted_out_at=at)
        contact.opted_out_at = at


def opt_in(contact: Contact, at=None) -> None:
    """START by SMS: being contacted again; feedback stays as recorded (off after a STOP)."""
    record_consent(
        contact,
        to_contact=True,
        to_feedback=contact.consents_to_feedback,
        method=ConsentRecord.Method.SMS,
        at=at,
    )


def set_active(contact: Contact, active: bool) -> None:
    if contact.erased_at:
        raise ValidationError(_("An erased contact cannot be reactivated."))
    contact.active = active
    contact.save(update_fields=["active", "phone_hash"])


def erase(contact: Contact, by=None, reason: str = "", at=None) -> None:
    """Erasure on request: name and numbers (and their hashes) are blanked, also in the stored
    SMS exchanged with the contact; the pseudonym, the consent history and the alerts stay.
    Messages still waiting to be sent to the contact are dropped (failed)."""
    at = at or timezone.now()
    with transaction.atomic():
        hashes = [keyed_hash(number) for number in numbers_of(contact)]
        from kiungo.alerts.models import Alert

        Alert.objects.filter(contact=contact).update(sender_hash="")
        inbound = Q(alert__contact=contact)
        if hashes:
            inbound |= Q(sender_hash__in=hashes, channel__mission_id=contact.mission_id)
        InboundMessage.objects.filter(
            pk__in=InboundMessage.objects.filter(inbound).values("pk")
        ).update(sender="", sender_hash="", raw="")
        if hashes:
            outbound = OutboundMessage.objects.filter(
                to_hash__in=hashes, channel__mission_id=contact.mission_id
            )
            waiting = [OutboundMessage.State.QUEUED, OutboundMessage.State.ERRORED]
            outbound.filter(state__in=waiting).update(
                state=OutboundMessage.State.FAILED, error="recipient erased"
            )
            outbound.update(to="", to_hash="")
        contact.numbers.all().delete()
        contact.name = ""
        contact.phone = ""
        contact.active = False
        contact.consents_to_contact = False
        contact.consents_to_feedback = False
        contact.erased_at = at
        contact.save()
        if by is not None:
            SourceAccess.objects.create(
                user=by,
                action=SourceAccess.Action.ERASE,
                mission_id=contact.mission_id,
                contact=contact,
                reason=reason,
                granted=True,
                at=at,
            )


# Reveal and export: every attempt is recorded, granted or refused.


class Refused(Exception):
    """The user may not do this; `hidden` means the object is out of their scope (404)."""

    def __init__(self, hidden: bool):
        super().__init__("refused")
        self.hidden = hidden


def reveal(contact: Contact, user, reason: str, ip: str | None = None) -> dict:
    """The contact's identity, if `user` may reveal it; recorded either way (Refused if not)."""
    hidden = not visible_contacts(user).filter(pk=contact.pk).exists()
    granted = not hidden and revealable_contacts(user).filter(pk=contact.pk).exists()
    SourceAccess.objects.create(
        user=user,
        action=SourceAccess.Action.REVEAL,
        mission_id=contact.mission_id,
        contact=contact,
        reason=reason,
        granted=granted,
        count=1 if granted else 0,
        ip_address=ip,
    )
    if not granted:
        raise Refused(hidden)
    return {"name": contact.name, "numbers": numbers_of(contact)}


IDENTITY_COLUMNS = ["code", "name", "phone numbers", "home locality", "language", "status"]


def identity_export(mission: Mission, user, reason: str, out, ip: str | None = None) -> int:
    """Write the identities of the mission's contacts in the user's scope to `out` as CSV;
    recorded either way. Raises Refused unless the user holds EXPORT_SOURCE_IDENTITIES."""
    granted = may(user, Capability.EXPORT_SOURCE_IDENTITIES, mission.pk)
    contacts = []
    if granted:
        contacts = list(
            visible_contacts(user, Capability.EXPORT_SOURCE_IDENTITIES)
            .filter(mission=mission, erased_at__isnull=True)
            .select_related("home_locality")
            .prefetch_related("numbers")
        )
    SourceAccess.objects.create(
        user=user,
        action=SourceAccess.Action.EXPORT_IDENTITIES,
        mission=mission,
        reason=reason,
        granted=granted,
        count=len(contacts),
        ip_address=ip,
    )
    if not granted:
        raise Refused(hidden=False)
    writer = csv.writer(out)
    writer.writerow(IDENTITY_COLUMNS)
    for contact in contacts:
        writer.writerow(
            [
                safe_cell(value)
                for value in [
                    contact.code,
                    contact.name,
                    " ".join(numbers_of(contact)),
                    contact.home_locality.pcode if contact.home_locality else "",
                    contact.language,
                    contact.status,
                ]
            ]
        )
    return len(contacts)


PSEUDONYMISED_COLUMNS = [
    ("code", "#contact+code"),
    ("category", "#contact+type"),
    ("sex", "#contact+sex"),
    ("language", "#contact+lang"),
    ("also speaks", "#contact+lang+other"),
    ("home locality p-code", "#adm5+code"),
    ("home locality", "#adm5+name"),
    ("managing CLA", "#contact+cla"),
    ("agrees to be contacted", "#contact+consent"),
    ("agrees to feedback", "#contact+feedback"),
    ("opted out at", "#date+optout"),
    ("status", "#status"),
    ("last heard from", "#date+last"),
]


def pseudonymised_rows(contacts):
    """The CSV rows (header, HXL tags, one row per contact) without any identity."""
    yield [label for label, _tag in PSEUDONYMISED_COLUMNS]
    yield [tag for _label, tag in PSEUDONYMISED_COLUMNS]
    for contact in contacts:
        yield [
            safe_cell(value)
            for value in [
                contact.code,
                contact.category,
                contact.sex,
                contact.language,
                " ".join(contact.other_languages or []),
                contact.home_locality.pcode if contact.home_locality else "",
                contact.home_locality.name if contact.home_locality else "",
                contact.managed_by.staff_id if contact.managed_by else "",
                "yes" if contact.consents_to_contact else "no",
                "yes" if contact.consents_to_feedback else "no",
                contact.opted_out_at.isoformat() if contact.opted_out_at else "",
                contact.status,
                contact.last_heard_at.isoformat() if contact.last_heard_at else "",
            ]
        ]


def in_scope_for_managing(user, contact: Contact) -> bool:
    return visible_contacts(user, Capability.MANAGE_CONTACTS).filter(pk=contact.pk).exists()
