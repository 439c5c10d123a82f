"""Where CLAs serve: rotations between bases, absences, and who is present at a base today.

Every change here is one transaction that first locks the CLA's profile row, so two managers
recording for the same CLA at once are serialised (the second sees the first's rows and its
overlap check refuses what would clash) and nothing is ever half done.
"""

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kiungo.forces.models import Base
from kiungo.missions.models import Mission
from kiungo.people.models import Absence, CLAProfile, Deployment, Rotation, User

MINIMUM_PRESENT = 2  # a base with fewer CLAs present than this is flagged to its managers


def local_today(mission: Mission) -> date:
    """Today in the mission's time zone (what "today" means for its CLAs)."""
    return timezone.localdate(timezone.now(), zoneinfo.ZoneInfo(mission.time_zone))


def cla_mission(profile: CLAProfile) -> Mission | None:
    """The mission a CLA serves: their base's, else their last deployment's."""
    if profile.base_id:
        return profile.base.mission
    last = profile.deployments.select_related("base__mission").order_by("-starts_on").first()
    return last.base.mission if last else None


def absent_on(cla_ids: Iterable[int], day: date) -> set[int]:
    """The CLA profile ids among `cla_ids` away on `day` (leave, sickness, training, travel):
    they are expected neither to report nor to check in that day."""
    ids = list(cla_ids)
    if not ids:
        return set()
    return set(
        Absence.objects.filter(cla_id__in=ids, starts_on__lte=day, ends_on__gte=day).values_list(
            "cla_id", flat=True
        )
    )


def _locked(profile: CLAProfile) -> CLAProfile:
    return (
        CLAProfile.objects.select_for_update(of=("self",)).select_related("base").get(pk=profile.pk)
    )


def record_absence(
    profile: CLAProfile,
    *,
    kind: str,
    starts_on: date,
    ends_on: date,
    note: str = "",
    by: User | None = None,
) -> Absence:
    """Record an absence; ValidationError when the dates are wrong or overlap another one."""
    with transaction.atomic():
        _locked(profile)
        absence = Absence(
            cla=profile, kind=kind, starts_on=starts_on, ends_on=ends_on, note=note, recorded_by=by
        )
        absence.full_clean()
        absence.save()
    return absence


def plan_rotation(
    profile: CLAProfile, *, to_base: Base, planned_on: date, note: str = "", by: User | None = None
) -> Rotation:
    """Plan a CLA's move to `to_base`; ValidationError for a base of another mission, a
    closed base, the CLA's own base, or a second planned rotation."""
    with transaction.atomic():
        profile = _locked(profile)
        mission = cla_mission(profile)
        errors = {}
        if mission is not None and to_base.mission_id != mission.pk:
            errors["to_base"] = _("This base belongs to another mission.")
        elif to_base.closed_on is not None and to_base.closed_on <= planned_on:
            errors["to_base"] = _("This base is closed by then.")
        elif to_base.pk == profile.base_id:
            errors["to_base"] = _("The CLA already serves at this base.")
        if errors:
            raise ValidationError(errors)
        rotation = Rotation(
            cla=profile, to_base=to_base, planned_on=planned_on, note=note, recorded_by=by
        )
        rotation.full_clean()
        rotation.save()
    return rotation


def complete_rotation(rotation: Rotation, *, on: date, by: User | None = None) -> Deployment:
    """Carry out a planned rotation on `on`: the CLA's open deployment ends the day before,
    a deployment at the new base starts that day, and the profile's base follows, together.
    ValidationError if the rotation is no longer planned, `on` is in the future, or the
    current deployment starts on or after `on`."""
    with transaction.atomic():
        _locked(rotation.cla)
        rotation = (
            Rotation.objects.select_for_update().select_related("to_base").get(pk=rotation.pk)
        )
        if rotation.status != Rotation.Status.PLANNED:
            raise ValidationError(_("This rotation is no longer planned."))
        if on > local_today(rotation.to_base.mission):
            raise ValidationError({"on": _("A rotation cannot be carried out in the future.")})
        current = Deployment.objects.filter(cla_id=rotation.cla_id, ends_on__isnull=True).first()
        if current is not None:
            if current.starts_on >= on:
                raise ValidationError(
                    {
                        "on": _("The current deployment started on %(start)s: choose a later day.")
                        % {"start": current.starts_on.isoformat()}
                    }
                )
            current.ends_on = on - timedelta(days=1)
            current.save(update_fields=["ends_on"])
        deployment = Deployment(cla_id=rotation.cla_id, base=rotation.to_base, starts_on=on)
        deployment.full_clean()
        deployment.save()
        CLAProfile.objects.filter(pk=rotation.cla_id).update(base=rotation.to_base)
        rotation.status, rotation.done_on = Rotation.Status.DONE, on
        rotation.save(update_fields=["status", "done_on"])
    return deployment


def cancel_rotation(rotation: Rotation) -> bool:
    """Cancel a planned rotation; False when it was no longer planned."""
    return bool(
        Rotation.objects.filter(pk=rotation.pk, status=Rotation.Status.PLANNED).update(
            status=Rotation.Status.CANCELLED
        )
    )


@dataclass
class BasePresence:
    base: Base
    region: str
    present: list[CLAProfile] = field(default_factory=list)
    absent: list[CLAProfile] = field(default_factory=list)

    @property
    def short(self) -> bool:
        return len(self.present) < MINIMUM_PRESENT


def presence(bases: Iterable[Base], day: date) -> list[BasePresence]:
    """For each open base: the CLAs deployed there on `day`, split into present and absent;
    grouped by region (province), then by base name."""
    bases = [base for base in bases if base.closed_on is None or base.closed_on >= day]
    deployed = (
        Deployment.objects.filter(base__in=bases, starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .select_related("cla__user")
        .order_by("cla__staff_id")
    )
    by_base = defaultdict(list)
    for deployment in deployed:
        deployment.cla.deployed_since = deployment.starts_on
        by_base[deployment.base_id].append(deployment.cla)
    away = absent_on({cla.pk for clas in by_base.values() for cla in clas}, day)
    regions = _regions(bases)
    rows = []
    for base in bases:
        row = BasePresence(base=base, region=regions.get(base.pk, ""))
        for cla in by_base[base.pk]:
            (row.absent if cla.pk in away else row.present).append(cla)
        rows.append(row)
    return sorted(rows, key=lambda row: (row.region, row.base.name))


def _regions(bases: list[Base]) -> dict[int, str]:
    """Base id -> name of the province its locality lies in (one query)."""
    from kiungo.geography.models import Area

    missions = {base.mission_id for base in bases}
    provinces = list(
        Area.objects.filter(level=1, mission_id__in=missions).values_list(
            "mission_id", "pcode", "name"
        )
    )
    names = {}
    for base in bases:
        pcode = base.locality.pcode
        names[base.pk] = next(
            (
                name
                for mission_id, prefix, name in provinces
                if mission_id == base.mission_id and pcode.startswith(prefix)
            ),
            "",
        )
    return names
