"""Phones and airtime given to key contacts: the rules.

Phones: an IMEI is 15 digits with a Luhn check digit; it is stored encrypted and shown as its
last four digits. A lost or stolen phone is a security event for its contact (the phone may be
in the hands of those the contact reports on): the event is recorded with the phone's new
status in one transaction, with an e-mail to each CLA manager of the contact (the supervisor
of the CLA who keeps them, and the CLA managers whose scope holds the contact's locality).

Airtime: a top-up is paid from its base's budget for the month of its date. It is refused
when the month has no budget, when its currency differs from the budget's, or when it exceeds
what is left. The check and the insert happen under a lock on the budget row (SELECT ... FOR
UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions take the write lock at BEGIN), so two
top-ups at once cannot both spend the same remainder.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kiungo.alertnet.models import AirtimeBudget, AirtimeTopUp, IssuedPhone, SecurityEvent
from kiungo.forces.models import Base
from kiungo.lib.crypto import keyed_hash
from kiungo.messaging.models import Purpose
from kiungo.messaging.outbox import queue_email
from kiungo.network.models import Contact
from kiungo.people.models import Role, RoleAssignment, User

IMEI = re.compile(r"^[0-9]{15}$")
CENT = Decimal("0.01")


def normalise_imei(text: str) -> str:
    """The IMEI's 15 digits (spaces, dashes and slashes dropped); ValidationError if invalid."""
    digits = re.sub(r"[\s/-]", "", text or "")
    if not IMEI.match(digits):
        raise ValidationError(_("An IMEI has 15 digits (dial *#06# on the phone to read it)."))
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            value = value - 9 if value > 9 else value
        total += value
    if total % 10:
        raise ValidationError(_("This IMEI's check digit is wrong: check it for a typing error."))
    return digits


def _same_mission(base: Base, contact: Contact) -> None:
    if contact.mission_id != base.mission_id:
        raise ValidationError(_("The contact belongs to another mission."))


def issue_phone(
    *, base: Base, contact: Contact, model: str, imei: str, issued_on: date, by: User
) -> IssuedPhone:
    _same_mission(base, contact)
    imei = normalise_imei(imei)
    phone = IssuedPhone(
        base=base,
        contact=contact,
        model=model.strip(),
        imei=imei,
        imei_hash=keyed_hash(imei),
        issued_on=issued_on,
        issued_by=by,
    )
    phone.full_clean()  # includes the constraint: one holder per handset at a time
    phone.save()
    return phone


def return_phone(phone: IssuedPhone, *, on: date) -> IssuedPhone:
    if phone.status != IssuedPhone.Status.ISSUED:
        raise ValidationError(_("This phone is no longer with the contact."))
    if on < phone.issued_on:
        raise ValidationError(_("A phone cannot come back before it was issued."))
    phone.status, phone.ended_on = IssuedPhone.Status.RETURNED, on
    phone.save(update_fields=["status", "ended_on"])
    return phone


def report_missing(
    phone: IssuedPhone, *, stolen: bool, on: date, circumstances: str, by: User
) -> SecurityEvent:
    """Record a lost or stolen phone as a security event and tell the CLA managers."""
    if phone.status != IssuedPhone.Status.ISSUED:
        raise ValidationError(_("This phone is no longer with the contact."))
    if on < phone.issued_on:
        raise ValidationError(_("A phone cannot go missing before it was issued."))
    if on > timezone.localdate(timezone=_zone(phone.base)):
        raise ValidationError(_("The date is in the future."))
    if not circumstances.strip():
        raise ValidationError(_("Say what happened: where, how, who may have the phone."))
    with transaction.atomic():
        # Re-read under lock: two reports of the same phone make one event.
        locked = IssuedPhone.objects.select_for_update().get(pk=phone.pk)
        if locked.status != IssuedPhone.Status.ISSUED:
            raise ValidationError(_("This phone is no longer with the contact."))
        locked.status = IssuedPhone.Status.STOLEN if stolen else IssuedPhone.Status.LOST
        locked.ended_on = on
        locked.save(update_fields=["status", "ended_on"])
        event = SecurityEvent.objects.create(
            contact=locked.contact,
            base=locked.base,
            kind=SecurityEvent.Kind.PHONE_STOLEN if stolen else SecurityEvent.Kind.PHONE_LOST,
            occurred_on=on,
            circumstances=circumstances.strip(),
            phone=locked,
            reported_by=by,
            reported_at=timezone.now(),
        )
        for manager in cla_managers_of(locked.contact, locked.base):
            _email_manager(manager, event)
    phone.refresh_from_db()
    return event


def _zone(base: Base) -> ZoneInfo:
    return ZoneInfo(base.mission.time_zone)


def cla_managers_of(contact: Contact, base: Base) -> list[User]:
    """The CLA managers who answer for the contact: the supervisor of the CLA keeping them (or
    of the base's CLAs), and the users holding the CLA manager role over the contact's
    locality (or the base's). Only those with an e-mail address and an active account."""
    from kiungo.people.access import Capability, scope

    found: dict[int, User] = {}
    if contact.managed_by_id:
        keepers = [contact.managed_by]
    else:
        keepers = list(base.clas.select_related("supervisor"))
    for cla in keepers:
        if cla.supervisor_id:
            found[cla.supervisor_id] = cla.supervisor
    place = contact.home_locality or base.locality
    for assignment in RoleAssignment.objects.filter(
        role=Role.CLA_MANAGER, mission_id=base.mission_id
    ).select_related("user"):
        if scope(assignment.user, Capability.MANAGE_NETWORK).covers_area(place):
            found[assignment.user_id] = assignment.user
    return [user for user in found.values() if user.is_active and user.email]


def _email_manager(manager: User, event: SecurityEvent) -> None:
    from kiungo.alerts.notify import language_for

    mission = event.base.mission
    with translation.override(language_for(mission)):
        names = {
            "what": event.get_kind_display(),
            "code": event.contact.code,
            "base": event.base.name,
        }
        subject = _("[Kiungo] Security event: %(what)s, contact %(code)s") % names
        body = "\n".join(
            [
                _("%(what)s: the phone issued to key contact %(code)s (%(base)s).") % names,
                _("On: %(date)s") % {"date": event.occurred_on.isoformat()},
                "",
                _(
                    "The phone may be in other hands: its contacts and messages could expose "
                    "the contact. Check on the contact's safety and block the SIM card."
                ),
                _("The circumstances are on the base's phones page in Kiungo."),
            ]
        )
    queue_email(
        manager.email,
        subject,
        body,
        purpose=Purpose.OTHER,
        recipient_label=manager.get_username(),
    )


# Airtime


def month_of(day: date) -> date:
    return day.replace(day=1)


def set_budget(*, base: Base, month: date, amount: Decimal, currency: str) -> AirtimeBudget:
    """Create or change the base's budget for the month; it may not fall below what is spent."""
    month = month_of(month)
    currency = currency.strip().upper()
    with transaction.atomic():
        budget = AirtimeBudget.objects.select_for_update().filter(base=base, month=month).first()
        spent = _spent(base, month)
        if budget is not None and spent and budget.currency != currency:
            raise ValidationError(
                _("Top-ups of this month were paid in %(currency)s: keep that currency.")
                % {"currency": budget.currency}
            )
        if amount < spent:
            raise ValidationError(
                _("%(spent)s %(currency)s is already spent this month: the budget cannot be less.")
                % {"spent": spent, "currency": currency}
            )
        budget = budget or AirtimeBudget(base=base, month=month)
        budget.amount, budget.currency = amount, currency
        budget.full_clean()
        budget.save()
    return budget


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _spent(base: Base, month: date) -> Decimal:
    total = AirtimeTopUp.objects.filter(
        base=base, topped_up_on__gte=month, topped_up_on__lt=next_month(month)
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0")


def record_top_up(
    *,
    base: Base,
    contact: Contact,
    amount: Decimal,
    currency: str,
    operator: str,
    on: date,
    by: User,
    now: datetime | None = None,
) -> AirtimeTopUp:
    """Record a top-up if the month's budget allows it; ValidationError (nothing saved) if not."""
    _same_mission(base, contact)
    currency = currency.strip().upper()
    if amount is None or amount <= 0:
        raise ValidationError(_("The amount must be more than zero."))
    month = month_of(on)
    with transaction.atomic():
        # The lock on the budget row serialises top-ups of the same base and month: the
        # remainder read below cannot be spent by another top-up before this one commits.
        budget = AirtimeBudget.objects.select_for_update().filter(base=base, month=month).first()
        if budget is None:
            raise ValidationError(
                _("%(base)s has no airtime budget for %(month)s: a CLA manager sets it first.")
                % {"base": base.name, "month": month.strftime("%Y-%m")}
            )
        if budget.currency != currency:
            raise ValidationError(
                _("The budget for %(month)s is in %(currency)s: record the top-up in it.")
                % {"month": month.strftime("%Y-%m"), "currency": budget.currency}
            )
        remaining = budget.amount - _spent(base, month)
        if amount > remaining:
            raise ValidationError(
                _(
                    "%(amount)s %(currency)s is more than the %(remaining)s %(currency)s left in "
                    "%(base)s's airtime budget for %(month)s."
                )
                % {
                    "amount": amount,
                    "currency": currency,
                    "remaining": remaining,
                    "base": base.name,
                    "month": month.strftime("%Y-%m"),
                }
            )
        top_up = AirtimeTopUp(
            base=base,
            contact=contact,
            amount=amount,
            currency=currency,
            operator=" ".join(operator.split()),
            topped_up_on=on,
            recorded_by=by,
            recorded_at=now or timezone.now(),
        )
        top_up.full_clean()
        top_up.save()
    return top_up


@dataclass
class OperatorLine:
    operator: str
    top_ups: int
    spent: Decimal


@dataclass
class Spending:
    base: Base
    month: date
    budget: AirtimeBudget | None
    spent: Decimal = Decimal("0")
    operators: list[OperatorLine] = field(default_factory=list)
    top_ups: list[AirtimeTopUp] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal | None:
        return self.budget.amount - self.spent if self.budget else None

    @property
    def currency(self) -> str:
        return self.budget.currency if self.budget else ""


def spending(base: Base, month: date) -> Spending:
    """The month's budget, what was spent, what is left, per operator, and the top-ups."""
    month = month_of(month)
    top_ups = AirtimeTopUp.objects.filter(
        base=base, topped_up_on__gte=month, topped_up_on__lt=next_month(month)
    )
    report = Spending(base, month, AirtimeBudget.objects.filter(base=base, month=month).first())
    report.top_ups = list(top_ups.select_related("contact").order_by("topped_up_on", "pk"))
    report.spent = sum((top_up.amount for top_up in report.top_ups), Decimal("0"))
    report.operators = [
        # SQLite sums decimals as floats: back to cents.
        OperatorLine(row["operator"], row["count"], Decimal(str(row["total"])).quantize(CENT))
        for row in top_ups.values("operator")
        .annotate(count=Count("pk"), total=Sum("amount"))
        .order_by("operator")
    ]
    return report
