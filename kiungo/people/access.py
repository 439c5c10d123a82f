"""Who may see or change what: the one place where role and geography are checked.

Every view and API endpoint asks here; none re-implements a check. A role grants
capabilities; an assignment's scope (mission, areas, or a unit's AOR) limits them to places.
Objects outside a user's scope are reported as missing (404), never as forbidden, so their
existence does not leak.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import Model, Q, QuerySet
from django.http import Http404

from kiungo.forces.models import Base, ResponsibilityArea, Unit
from kiungo.geography.models import Area
from kiungo.missions.models import Mission
from kiungo.people.models import CLAProfile, Role, RoleAssignment, User


class Capability(StrEnum):
    VIEW_REFERENCE = "view_reference"  # missions, areas, bases, units and who answers where
    VIEW_PEOPLE = "view_people"  # CLA profiles, deployments, supervisors
    MANAGE_REFERENCE = "manage_reference"  # edit reference data and policies (admin site)
    VIEW_ALERTS = "view_alerts"  # alerts and incidents in scope (sources pseudonymised)
    LOG_ALERTS = "log_alerts"  # log an alert received by call, radio or in person; use the API
    TRIAGE_ALERTS = "triage_alerts"  # correct, merge, split, read raw SMS; verify, re-level,
    # reassign, dismiss and close incidents (the early-warning cell)
    RESPOND_ALERTS = "respond_alerts"  # acknowledge, record the response, close (the unit)
    VIEW_ACCOUNTABILITY = "view_accountability"  # response figures per unit, base, contingent
    VIEW_OUTBOX = "view_outbox"  # messages sent (recipients shown by label, never by number)
    # --- Community Alert Network (kiungo/alertnet) ---
    VIEW_NETWORK = "view_network"  # a base's network: contacts by pseudonym, radios, hotline
    # cards, coverage, network tests and reachability, the coverage map
    MANAGE_NETWORK = "manage_network"  # record radios, hotline cards, phones issued, returned,
    # lost or stolen (security events); start a network test
    MANAGE_AIRTIME = "manage_airtime"  # airtime budgets, top-ups and spending reports


_READ = {Capability.VIEW_REFERENCE, Capability.VIEW_ALERTS}
ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.CLA: frozenset(_READ | {Capability.LOG_ALERTS}),
    Role.CLA_MANAGER: frozenset(_READ | {Capability.VIEW_PEOPLE, Capability.LOG_ALERTS}),
    Role.EARLY_WARNING_OFFICER: frozenset(
        _READ
        | {
            Capability.LOG_ALERTS,
            Capability.TRIAGE_ALERTS,
            Capability.RESPOND_ALERTS,
            Capability.VIEW_ACCOUNTABILITY,
            Capability.VIEW_OUTBOX,
        }
    ),
    Role.UNIT_DUTY_OFFICER: frozenset(_READ | {Capability.RESPOND_ALERTS}),
    Role.ANALYST: frozenset(_READ),
    Role.LEADERSHIP: frozenset(_READ | {Capability.VIEW_PEOPLE, Capability.VIEW_ACCOUNTABILITY}),
    Role.SECURITY_OFFICER: frozenset({Capability.VIEW_REFERENCE}),
    Role.ADMINISTRATOR: frozenset(Capability),
}


@dataclass
class AreaScope:
    """The places where a user holds a capability."""

    everything: bool = False
    missions: set[int] = field(default_factory=set)  # whole missions
    prefixes: set[str] = field(default_factory=set)  # P-codes of areas held with all below
    units: set[int] = field(default_factory=set)  # units held through a unit scope
    touched_missions: set[int] = field(default_factory=set)  # any part of these missions

    @property
    def is_empty(self) -> bool:
        return not (self.everything or self.missions or self.prefixes or self.units)

    def covers_area(self, area: Area) -> bool:
        if self.everything or area.mission_id in self.missions:
            return True
        return any(area.pcode.startswith(prefix) for prefix in self.prefixes)

    def place_q(self, mission_path: str, area_path: str) -> Q:
        """A filter for objects with a mission and an optional area (alerts, incidents).

        Objects not yet placed in an area are visible only to whole-mission scopes.
        """
        if self.everything:
            return Q()
        condition = Q(pk__in=[])
        if self.missions:
            condition |= Q(**{f"{mission_path}__in": self.missions})
        for pcode in self.prefixes:
            condition |= Q(**{f"{area_path}__pcode__startswith": pcode})
        return condition

    def area_q(self, path: str = "") -> Q:
        """A filter for objects whose area is reached through `path` ("" for Area itself)."""
        if self.everything:
            return Q()
        prefix = f"{path}__" if path else ""
        condition = Q(**{f"{prefix}mission_id__in": self.missions}) if self.missions else Q()
        for pcode in self.prefixes:
            condition |= Q(**{f"{prefix}pcode__startswith": pcode})
        return condition if (self.missions or self.prefixes) else Q(pk__in=[])


def scope(user: User, capability: Capability) -> AreaScope:
    """The user's scope for a capability (computed once per request and cached on the user)."""
    cache = user.__dict__.setdefault("_kiungo_scopes", {})
    if capability in cache:
        return cache[capability]
    result = AreaScope()
    if not (user.is_authenticated and user.is_active):
        cache[capability] = result
        return result
    if user.is_superuser:
        result.everything = True
        cache[capability] = result
        return result
    for assignment in _assignments(user):
        if capability not in ROLE_CAPABILITIES.get(assignment.role, ()):
            continue
        result.touched_missions.add(assignment.mission_id)
        if assignment.scope == RoleAssignment.Scope.MISSION:
            result.missions.add(assignment.mission_id)
        elif assignment.scope == RoleAssignment.Scope.AREAS:
            result.prefixes.update(area.pcode for area in assignment.areas.all())
        else:
            unit_ids, pcodes = _unit_reach(user, assignment.unit)
            result.units.update(unit_ids)
            result.prefixes.update(pcodes)
    cache[capability] = result
    return result


def _assignments(user: User) -> list[RoleAssignment]:
    """The user's role assignments, read once per request (cached on the user object)."""
    if "_kiungo_assignments" not in user.__dict__:
        user.__dict__["_kiungo_assignments"] = list(
            RoleAssignment.objects.filter(user=user)
            .select_related("unit")
            .prefetch_related("areas")
        )
    return user.__dict__["_kiungo_assignments"]


def _unit_reach(user: User, unit: Unit) -> tuple[set[int], set[str]]:
    """A unit and those below it, and the P-codes of their areas of responsibility."""
    cache = user.__dict__.setdefault("_kiungo_unit_reach", {})
    if unit.pk not in cache:
        unit_ids = unit.subordinate_ids()
        pcodes = set(
            ResponsibilityArea.objects.filter(base__unit_id__in=unit_ids).values_list(
                "area__pcode", flat=True
            )
        )
        cache[unit.pk] = (unit_ids, pcodes)
    return cache[unit.pk]


def has_capability(user: User, capability: Capability) -> bool:
    return not scope(user, capability).is_empty


# Querysets limited to a scope: one function per kind of object.


def visible_missions(user: User, capability=Capability.VIEW_REFERENCE) -> QuerySet[Mission]:
    s = scope(user, capability)
    if s.everything:
        return Mission.objects.all()
    return Mission.objects.filter(pk__in=s.touched_missions)


def visible_areas(user: User, capability=Capability.VIEW_REFERENCE) -> QuerySet[Area]:
    return Area.objects.filter(scope(user, capability).area_q())


def visible_bases(user: User, capability=Capability.VIEW_REFERENCE) -> QuerySet[Base]:
    s = scope(user, capability)
    if s.everything:
        return Base.objects.all()
    condition = s.area_q("locality") | s.area_q("responsibility__area")
    if s.units:
        condition |= Q(unit_id__in=s.units)
    return Base.objects.filter(condition).distinct()


def visible_units(user: User, capability=Capability.VIEW_REFERENCE) -> QuerySet[Unit]:
    """Units answering inside the scope, and the chain above them (escalation goes there)."""
    s = scope(user, capability)
    if s.everything:
        return Unit.objects.all()
    held = set(s.units) | set(visible_bases(user, capability).values_list("unit_id", flat=True))
    ids = set(held)
    for unit in Unit.objects.filter(pk__in=held).select_related("parent__parent__parent"):
        ids.update(superior.pk for superior in unit.chain())
    return Unit.objects.filter(Q(pk__in=ids) | Q(mission_id__in=s.missions))


def visible_clas(user: User, capability=Capability.VIEW_PEOPLE) -> QuerySet[CLAProfile]:
    """CLAs whose base is in scope, and those the user supervises."""
    s = scope(user, capability)
    if s.everything:
        return CLAProfile.objects.all()
    bases = visible_bases(user, capability).values("pk")
    return CLAProfile.objects.filter(Q(base__in=bases) | Q(supervisor=user)).distinct()


def visible_alerts(user: User, capability=Capability.VIEW_ALERTS):
    """Alerts placed in scope, and those the user logged."""
    from kiungo.alerts.models import Alert

    s = scope(user, capability)
    condition = s.place_q("mission_id", "area")
    if not s.is_empty:
        condition |= Q(created_by=user)
    return Alert.objects.filter(condition)


def visible_incidents(user: User, capability=Capability.VIEW_ALERTS):
    """Incidents placed in scope, and those given to a unit the user holds (a reassigned
    incident outside the unit's area, or one escalated up its chain)."""
    from kiungo.alerts.models import Incident

    s = scope(user, capability)
    condition = s.place_q("mission_id", "area")
    if s.units:
        condition |= Q(unit_id__in=s.units)
    return Incident.objects.filter(condition)


def may(user: User, capability: Capability, mission_id: int | None = None) -> bool:
    """Whether the user holds `capability` somewhere (in `mission_id`, if given)."""
    s = scope(user, capability)
    if mission_id is None or s.everything:
        return not s.is_empty
    return mission_id in s.touched_missions


_VISIBLE = {
    Mission: visible_missions,
    Area: visible_areas,
    Base: visible_bases,
    Unit: visible_units,
    CLAProfile: visible_clas,
}


def _finder(model):
    if model not in _VISIBLE:
        from kiungo.alerts.models import Alert, Incident

        _VISIBLE.update({Alert: visible_alerts, Incident: visible_incidents})
        _VISIBLE.update(_alertnet_finders())
    return _VISIBLE[model]


def can_see(user: User, obj: Model, capability: Capability | None = None) -> bool:
    finder = _finder(type(obj))
    args = (user,) if capability is None else (user, capability)
    return finder(*args).filter(pk=obj.pk).exists()


def access(user: User, model: type[Model], capability: Capability | None = None, **lookup):
    """The object matching `lookup` if the user may see it; Http404 otherwise (no leak)."""
    finder = _finder(model)
    queryset = finder(user) if capability is None else finder(user, capability)
    try:
        return queryset.get(**lookup)
    except model.DoesNotExist:
        raise Http404 from None


# --- Community Alert Network (kiungo/alertnet) ---------------------------------------------
# Who: CLAs run their base's network (their unit scope covers its area of responsibility); CLA
# managers run the networks of their region and hold the airtime budgets; early-warning
# officers read networks and coverage (where nobody can raise an alert) but not assets;
# administrators everything. Analysts, leadership and unit duty officers see none of it:
# the network is a list of sources. Every object hangs on a base; a base is in scope when
# `visible_bases(user, capability)` holds it. Pages show contacts by pseudonym only.
ROLE_CAPABILITIES[Role.CLA] |= {Capability.VIEW_NETWORK, Capability.MANAGE_NETWORK}
ROLE_CAPABILITIES[Role.CLA_MANAGER] |= {
    Capability.VIEW_NETWORK,
    Capability.MANAGE_NETWORK,
    Capability.MANAGE_AIRTIME,
}
ROLE_CAPABILITIES[Role.EARLY_WARNING_OFFICER] |= {Capability.VIEW_NETWORK}


def _on_visible_bases(model, user: User, capability: Capability):
    return model.objects.filter(base__in=visible_bases(user, capability).values("pk"))


def visible_radio_stations(user: User, capability=Capability.VIEW_NETWORK):
    from kiungo.alertnet.models import RadioStation

    return _on_visible_bases(RadioStation, user, capability)


def visible_hotline_distributions(user: User, capability=Capability.VIEW_NETWORK):
    from kiungo.alertnet.models import HotlineDistribution

    return _on_visible_bases(HotlineDistribution, user, capability)


def visible_network_tests(user: User, capability=Capability.VIEW_NETWORK):
    from kiungo.alertnet.models import NetworkTest

    return _on_visible_bases(NetworkTest, user, capability)


def visible_issued_phones(user: User, capability=Capability.MANAGE_NETWORK):
    from kiungo.alertnet.models import IssuedPhone

    return _on_visible_bases(IssuedPhone, user, capability)


def visible_security_events(user: User, capability=Capability.MANAGE_NETWORK):
    from kiungo.alertnet.models import SecurityEvent

    return _on_visible_bases(SecurityEvent, user, capability)


def visible_airtime_top_ups(user: User, capability=Capability.MANAGE_AIRTIME):
    from kiungo.alertnet.models import AirtimeTopUp

    return _on_visible_bases(AirtimeTopUp, user, capability)


def _alertnet_finders() -> dict:
    from kiungo.alertnet import models as alertnet

    return {
        alertnet.RadioStation: visible_radio_stations,
        alertnet.HotlineDistribution: visible_hotline_distributions,
        alertnet.NetworkTest: visible_network_tests,
        alertnet.IssuedPhone: visible_issued_phones,
        alertnet.SecurityEvent: visible_security_events,
        alertnet.AirtimeTopUp: visible_airtime_top_ups,
    }


# --- end of Community Alert Network ---------------------------------------------------------
