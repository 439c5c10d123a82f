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
    # --- CLA management and safety (issue 5: deployment, rotation, check-ins, SOS) ---
    MANAGE_CLAS = "manage_clas"  # record rotations and absences of CLAs in scope
    VIEW_SAFETY = "view_safety"  # CLAs' check-ins, their locations and SOS; close an SOS
    # (their managers, the mission's security officers, administrators: nobody else)
    # Protection committees, plans and field visits (kiungo.protection; see the block below).
    VIEW_PROTECTION = "view_protection"  # committees, plans, field visits in scope
    MANAGE_PROTECTION = "manage_protection"  # record them (CLAs for their base, managers)
    ANSWER_PLAN_REQUESTS = "answer_plan_requests"  # a unit's answer to a plan's requests
    # Community contacts (sources) and outreach: see the block "Contacts and outreach" below.
    VIEW_CONTACTS = "view_contacts"  # contact list and pages (pseudonyms only)
    MANAGE_CONTACTS = "manage_contacts"  # create, edit, consent, deactivate, erase contacts
    REVEAL_SOURCES = "reveal_sources"  # see a contact's real name and numbers (audited)
    EXPORT_SOURCE_IDENTITIES = "export_source_identities"  # bulk export of identities (audited)
    SEND_BROADCASTS = "send_broadcasts"  # broadcast SMS to consented contacts of an area
    LOG_OUTREACH = "log_outreach"  # outreach activities (meetings, radio, sensitisation)
    # Field reports (kiungo/reports): granted in the "Field reports" block below.
    WRITE_REPORTS = "write_reports"  # write, submit and revise one's own reports (a CLA)
    REVIEW_REPORTS = "review_reports"  # accept or return the reports of CLAs in scope
    VIEW_REPORTS = "view_reports"  # read submitted reports of the bases in scope
    VIEW_COMPLIANCE = "view_compliance"  # who reported on time, late or not at all
    # --- Community Alert Network (kiungo/alertnet) ---
    VIEW_NETWORK = "view_network"  # a base's network: contacts by pseudonym, radios, hotline
    # cards, coverage, network tests and reachability, the coverage map
    MANAGE_NETWORK = "manage_network"  # record radios, hotline cards, phones issued, returned,
    # lost or stolen (security events); start a network test
    MANAGE_AIRTIME = "manage_airtime"  # airtime budgets, top-ups and spending reports
    # Consolidated reports (kiungo/reports/consolidated.py): see the block "Consolidated reports".
    EDIT_CONSOLIDATED = "edit_consolidated"  # write the mission-wide report's summary
    DISTRIBUTE_CONSOLIDATED = "distribute_consolidated"  # send it to the distribution lists


C = Capability
_READ = {C.VIEW_REFERENCE, C.VIEW_ALERTS}
# Who may do what, role by role (the assignment's scope then limits it to places).
#
# Alerts: CLAs log what they hear; units answer for their area; the early-warning cell triages
# and watches the whole chain. Contacts are sources at risk: only the people who keep the
# network see them. A CLA sees and manages the contacts of their base's area (reveals only those
# they manage: revealable_contacts); a CLA manager those of their region, may reveal identities
# there and send broadcasts. Early-warning officers, duty officers, analysts and leadership see
# alerts attributed to pseudonyms, never the contact list; the alert network (kiungo/alertnet)
# is read by the early-warning cell (where nobody can raise an alert) but not its assets.
# EXPORT_SOURCE_IDENTITIES (a bulk export of names and numbers) is held by administrators only:
# a mission grants it to a named person by giving them the Administrator role over the areas
# concerned. Field reports: a CLA writes their own (drafts are seen by their CLA alone), a CLA
# manager reviews those of their region and watches compliance, HQ roles read them. CLA safety
# (check-ins, their places, SOS) is seen by the CLA's managers and the mission's security
# officers only. Protection plans' requests to the mission are answered by the units they are
# addressed to and by the early-warning cell.
ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.CLA: frozenset(
        _READ
        | {C.LOG_ALERTS, C.WRITE_REPORTS}
        | {C.VIEW_CONTACTS, C.MANAGE_CONTACTS, C.LOG_OUTREACH}
        | {C.VIEW_NETWORK, C.MANAGE_NETWORK}
        | {C.VIEW_PROTECTION, C.MANAGE_PROTECTION}
    ),
    Role.CLA_MANAGER: frozenset(
        _READ
        | {C.LOG_ALERTS, C.VIEW_PEOPLE, C.MANAGE_CLAS, C.VIEW_SAFETY}
        | {C.REVIEW_REPORTS, C.VIEW_REPORTS, C.VIEW_COMPLIANCE}
        | {C.VIEW_CONTACTS, C.MANAGE_CONTACTS, C.LOG_OUTREACH, C.REVEAL_SOURCES}
        | {C.SEND_BROADCASTS, C.VIEW_NETWORK, C.MANAGE_NETWORK, C.MANAGE_AIRTIME}
        | {C.VIEW_PROTECTION, C.MANAGE_PROTECTION}
    ),
    Role.EARLY_WARNING_OFFICER: frozenset(
        _READ
        | {C.LOG_ALERTS, C.TRIAGE_ALERTS, C.RESPOND_ALERTS, C.VIEW_ACCOUNTABILITY, C.VIEW_OUTBOX}
        | {C.VIEW_REPORTS, C.EDIT_CONSOLIDATED, C.DISTRIBUTE_CONSOLIDATED}
        | {C.VIEW_NETWORK, C.VIEW_PROTECTION, C.ANSWER_PLAN_REQUESTS}
    ),
    Role.UNIT_DUTY_OFFICER: frozenset(_READ | {C.RESPOND_ALERTS, C.ANSWER_PLAN_REQUESTS}),
    Role.ANALYST: frozenset(_READ | {C.VIEW_REPORTS, C.VIEW_PROTECTION}),
    Role.LEADERSHIP: frozenset(
        _READ
        | {C.VIEW_PEOPLE, C.VIEW_ACCOUNTABILITY, C.VIEW_REPORTS, C.VIEW_COMPLIANCE}
        | {C.EDIT_CONSOLIDATED, C.VIEW_PROTECTION}
    ),
    Role.SECURITY_OFFICER: frozenset({C.VIEW_REFERENCE, C.VIEW_SAFETY}),
    Role.ADMINISTRATOR: frozenset(Capability),
}
del C


# --- Field reports (kiungo/reports) -----------------------------------------------------------


def visible_reports(user: User, capability=Capability.VIEW_REPORTS):
    """The user's own reports (drafts included), and the submitted reports of the bases in
    scope and of the CLAs the user supervises."""
    from kiungo.reports.models import Report, Status

    own = Q(cla__user=user) if user.is_authenticated else Q(pk__in=[])
    s = scope(user, capability)
    if s.is_empty:
        return Report.objects.filter(own)
    if s.everything:
        others = Q()
    else:
        bases = visible_bases(user, capability).values("pk")
        others = Q(base__in=bases) | Q(cla__supervisor=user)
    return Report.objects.filter(own | (others & ~Q(status=Status.DRAFT)))


def reviewable_reports(user: User):
    """Reports the user may accept or return: in their review scope, never their own."""
    s = scope(user, Capability.REVIEW_REPORTS)
    if s.is_empty:
        from kiungo.reports.models import Report

        return Report.objects.none()
    return visible_reports(user, Capability.REVIEW_REPORTS).exclude(cla__user=user)


def own_reports(user: User):
    """The reports a CLA may edit: their own, while they hold WRITE_REPORTS."""
    from kiungo.reports.models import Report

    if not has_capability(user, Capability.WRITE_REPORTS):
        return Report.objects.none()
    return Report.objects.filter(cla__user=user)


# --- end of field reports ----------------------------------------------------------------------


# --- Consolidated reports (kiungo/reports/consolidated.py) -------------------------------------
# Everyone who reads reports sees the consolidated report, limited to their scope (a CLA manager
# sees their region's part). Only whole-mission holders edit its summary (the early-warning cell
# and leadership) or distribute it (the early-warning cell): see ROLE_CAPABILITIES.


def holds_whole_mission(user: User, capability: Capability, mission_id: int) -> bool:
    """Whether the user holds `capability` over the whole mission (not only some areas)."""
    s = scope(user, capability)
    return s.everything or mission_id in s.missions


# --- end of consolidated reports ---------------------------------------------------------------


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


# --- CLA management and safety (issue 5) ---


def visible_rotations(user: User, capability=Capability.VIEW_PEOPLE):
    from kiungo.people.models import Rotation

    return Rotation.objects.filter(cla__in=visible_clas(user, capability).values("pk"))


def visible_absences(user: User, capability=Capability.VIEW_PEOPLE):
    from kiungo.people.models import Absence

    return Absence.objects.filter(cla__in=visible_clas(user, capability).values("pk"))


def visible_safety_clas(user: User) -> QuerySet[CLAProfile]:
    """CLAs whose check-ins and SOS the user may see: those they supervise, those at bases in
    their VIEW_SAFETY scope (CLA managers, security officers), every one for administrators."""
    if not may(user, Capability.VIEW_SAFETY):
        # A supervisor without the capability (a former manager) sees nothing of safety.
        return CLAProfile.objects.none()
    return visible_clas(user, Capability.VIEW_SAFETY)


def visible_check_ins(user: User, capability=Capability.VIEW_SAFETY):
    from kiungo.safety.models import CheckIn

    return CheckIn.objects.filter(cla__in=visible_safety_clas(user).values("pk"))


def visible_alarms(user: User, capability=Capability.VIEW_SAFETY):
    from kiungo.safety.models import Alarm

    return Alarm.objects.filter(cla__in=visible_safety_clas(user).values("pk"))


# --- end of CLA management and safety ---
# --- Contacts and outreach: who sees which contacts (roles: the block after ROLE_CAPABILITIES) ---


def visible_contacts(user: User, capability=Capability.VIEW_CONTACTS):
    """Contacts whose home locality is in scope (unplaced ones: whole-mission scopes only), and
    those the user manages as a CLA."""
    from kiungo.network.models import Contact

    s = scope(user, capability)
    if s.is_empty:
        return Contact.objects.none()
    condition = s.place_q("mission_id", "home_locality")
    condition |= Q(managed_by__user=user, mission_id__in=s.touched_missions)
    return Contact.objects.filter(condition)


def revealable_contacts(user: User):
    """Contacts whose identity the user may reveal: REVEAL_SOURCES in scope, or (a CLA) the
    contacts they manage themselves."""
    from kiungo.network.models import Contact

    s = scope(user, Capability.REVEAL_SOURCES)
    condition = s.place_q("mission_id", "home_locality") if not s.is_empty else Q(pk__in=[])
    managers = scope(user, Capability.MANAGE_CONTACTS).touched_missions
    if managers or scope(user, Capability.MANAGE_CONTACTS).everything:
        condition |= Q(managed_by__user=user)
    return Contact.objects.filter(condition)


def visible_broadcasts(user: User, capability=Capability.SEND_BROADCASTS):
    from kiungo.network.models import Broadcast

    return Broadcast.objects.filter(scope(user, capability).area_q("area"))


def visible_outreach(user: User, capability=Capability.LOG_OUTREACH):
    """Outreach activities held in scope, and those the user recorded."""
    from kiungo.network.models import OutreachActivity

    s = scope(user, capability)
    if s.is_empty:
        return OutreachActivity.objects.none()
    return OutreachActivity.objects.filter(s.area_q("area") | Q(created_by=user))


# --- end of contacts and outreach ---------------------------------------------------------------


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
        _VISIBLE.update(_app_finders())
    return _VISIBLE[model]


def _app_finders() -> dict:
    """The finders of models in apps that import this module (imported late: no cycle)."""
    from kiungo.alerts.models import Alert, Incident
    from kiungo.network.models import Broadcast, Contact, OutreachActivity
    from kiungo.people.models import Absence, Rotation
    from kiungo.reports.models import Report
    from kiungo.safety.models import Alarm, CheckIn

    return {
        Alert: visible_alerts,
        Incident: visible_incidents,
        Rotation: visible_rotations,
        Absence: visible_absences,
        CheckIn: visible_check_ins,
        Alarm: visible_alarms,
        Contact: visible_contacts,
        Broadcast: visible_broadcasts,
        OutreachActivity: visible_outreach,
        Report: visible_reports,
        **_protection_finders(),
        **_alertnet_finders(),
    }


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


# --- Protection committees, plans and field visits (kiungo.protection) -----------------------
# Who: CLAs record committees, plans and field visits for their base's area, CLA managers for
# their region; the early-warning cell, analysts and leadership read them. A plan's requests to
# the mission are answered by the duty officers of the unit they are addressed to (and of the
# units above it), and by the early-warning cell. Duty officers read the plans shared with their
# units (visible_plans), not the committees themselves.


def visible_committees(user: User, capability=Capability.VIEW_PROTECTION):
    """Committees whose locality is in scope (a CLA: the AOR of their base's unit)."""
    from kiungo.protection.models import Committee

    s = scope(user, capability)
    return Committee.objects.filter(s.place_q("mission_id", "locality"))


def visible_plan_requests(user: User, capability=Capability.ANSWER_PLAN_REQUESTS):
    """Requests to the mission of active plans, addressed to a unit the user answers for (the
    unit and those below it), or anywhere in a whole-mission scope."""
    from kiungo.protection.models import MitigationMeasure, ProtectionPlan

    s = scope(user, capability)
    requests = MitigationMeasure.objects.filter(
        by=MitigationMeasure.By.MISSION,
        unit__isnull=False,
        plan__status=ProtectionPlan.Status.ACTIVE,
    )
    if s.everything:
        return requests
    condition = Q(unit_id__in=s.units) | Q(unit__mission_id__in=s.missions)
    for pcode in _area_prefixes(user, capability):
        condition |= Q(plan__committee__locality__pcode__startswith=pcode)
    return requests.filter(condition)


def _area_prefixes(user: User, capability: Capability) -> set[str]:
    """P-codes held through chosen-areas assignments only (a unit's AOR does not count here:
    a request is the unit's once addressed to it, wherever the committee is)."""
    return {
        area.pcode
        for assignment in _assignments(user)
        if assignment.scope == RoleAssignment.Scope.AREAS
        and capability in ROLE_CAPABILITIES.get(assignment.role, ())
        for area in assignment.areas.all()
    }


def visible_plans(user: User, capability=Capability.VIEW_PROTECTION):
    """Plans of committees in scope, and the plans shared with a unit the user answers for."""
    from kiungo.protection.models import ProtectionPlan

    committees = visible_committees(user, capability).values("pk")
    condition = Q(committee__in=committees)
    answering = scope(user, Capability.ANSWER_PLAN_REQUESTS)
    if answering.units:
        condition |= Q(shared_with_id__in=answering.units) & ~Q(status=ProtectionPlan.Status.DRAFT)
    return ProtectionPlan.objects.filter(condition)


def visible_field_visits(user: User, capability=Capability.VIEW_PROTECTION):
    """Field visits to a place in scope, and those the user recorded."""
    from kiungo.protection.models import FieldVisit

    s = scope(user, capability)
    if s.everything:
        return FieldVisit.objects.all()
    if s.is_empty:
        return FieldVisit.objects.none()
    condition = Q(mission_id__in=s.missions) | Q(created_by=user)
    for pcode in s.prefixes:
        condition |= Q(places__pcode__startswith=pcode)
    ids = FieldVisit.objects.filter(condition).values("pk")
    return FieldVisit.objects.filter(pk__in=ids)


def _protection_finders() -> dict:
    from kiungo.protection.models import Committee, FieldVisit, MitigationMeasure, ProtectionPlan

    return {
        Committee: visible_committees,
        ProtectionPlan: visible_plans,
        MitigationMeasure: visible_plan_requests,
        FieldVisit: visible_field_visits,
    }


# --- End of protection ------------------------------------------------------------------------
# --- Community Alert Network (kiungo/alertnet) ---------------------------------------------
# Who: CLAs run their base's network (their unit scope covers its area of responsibility); CLA
# managers run the networks of their region and hold the airtime budgets; early-warning
# officers read networks and coverage (where nobody can raise an alert) but not assets;
# administrators everything. Analysts, leadership and unit duty officers see none of it:
# the network is a list of sources. Every object hangs on a base; a base is in scope when
# `visible_bases(user, capability)` holds it. Pages show contacts by pseudonym only.


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
