"""A base's network and its coverage: which localities have a working key contact.

A base's localities are the localities (lowest level of areas) inside its area of
responsibility. Its contacts are the key contacts whose home locality is one of them. A contact
is *reachable* when active, consenting to be contacted, not opted out, with a phone number; it
is *working* when reachable and heard from within the mission's silence threshold (an alert,
an answer to a network test). A locality is covered when at least one working contact lives
there.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from kiungo.alertnet.models import NetworkPolicy
from kiungo.forces.models import Base, ResponsibilityArea
from kiungo.geography.models import Area
from kiungo.network.models import Contact


def _within_aor(base: Base, path: str = "") -> Q:
    """A filter for areas (through `path`) inside the base's area of responsibility."""
    prefix = f"{path}__" if path else ""
    condition = Q(pk__in=[])
    for pcode in base.responsibility.values_list("area__pcode", flat=True):
        condition |= Q(**{f"{prefix}pcode__startswith": pcode})
    return condition & Q(**{f"{prefix}mission_id": base.mission_id})


def base_localities(base: Base) -> QuerySet[Area]:
    return Area.objects.filter(_within_aor(base), level=Area.Level.LOCALITY).order_by("name")


def base_contacts(base: Base) -> QuerySet[Contact]:
    """Every key contact living in the base's area of responsibility (active or not)."""
    return Contact.objects.filter(_within_aor(base, "home_locality"), mission_id=base.mission_id)


def reachable(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """The contacts Kiungo may send a network test or a notice to."""
    return contacts.filter(
        active=True, consents_to_contact=True, opted_out_at__isnull=True
    ).exclude(phone_hash="")


def working_since(policy: NetworkPolicy, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - policy.silence


def is_working(contact: Contact, since: datetime) -> bool:
    return (
        contact.active
        and contact.consents_to_contact
        and contact.opted_out_at is None
        and bool(contact.phone_hash)
        and contact.last_heard_at is not None
        and contact.last_heard_at >= since
    )


@dataclass
class LocalityCoverage:
    area: Area
    contacts: int = 0  # contacts living there
    working: int = 0  # of which working
    base: Base | None = None

    @property
    def covered(self) -> bool:
        return self.working > 0


@dataclass
class Coverage:
    localities: list[LocalityCoverage] = field(default_factory=list)

    @property
    def covered(self) -> list[LocalityCoverage]:
        return [row for row in self.localities if row.covered]

    @property
    def uncovered(self) -> list[LocalityCoverage]:
        return [row for row in self.localities if not row.covered]

    @property
    def contacts(self) -> int:
        return sum(row.contacts for row in self.localities)

    @property
    def working(self) -> int:
        return sum(row.working for row in self.localities)


def coverage_of(bases: list[Base], now: datetime | None = None) -> Coverage:
    """The coverage of the localities of `bases` (all of one mission), in three queries."""
    result = Coverage()
    if not bases:
        return result
    mission_id = bases[0].mission_id
    since = working_since(NetworkPolicy.of(bases[0].mission), now)
    by_pk = {base.pk: base for base in bases}
    held = list(
        ResponsibilityArea.objects.filter(base__in=bases).values_list("base_id", "area__pcode")
    )
    if not held:
        return result
    inside = Q(pk__in=[])
    for _base_id, pcode in held:
        inside |= Q(pcode__startswith=pcode)
    rows: dict[int, LocalityCoverage] = {}
    for area in Area.objects.filter(inside, mission_id=mission_id, level=Area.Level.LOCALITY):
        # Areas of responsibility never nest (forces.ResponsibilityArea): one base holds it.
        base_id = next(base_id for base_id, pcode in held if area.pcode.startswith(pcode))
        rows[area.pk] = LocalityCoverage(area, base=by_pk[base_id])
    contacts = Contact.objects.filter(mission_id=mission_id, home_locality_id__in=list(rows))
    for contact in contacts.only(
        "home_locality_id",
        "active",
        "consents_to_contact",
        "opted_out_at",
        "phone_hash",
        "last_heard_at",
    ):
        row = rows[contact.home_locality_id]
        row.contacts += 1
        row.working += is_working(contact, since)
    result.localities = sorted(rows.values(), key=lambda row: (row.area.name, row.area.pcode))
    return result
