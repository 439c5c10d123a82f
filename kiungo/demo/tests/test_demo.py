"""The demo scenario, loaded once for the module (tests roll back to that state)."""

import itertools
from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.test import override_settings

from kiungo.demo import duty, scenario
from kiungo.forces.models import Base, DutyPhone, ResponsibilityArea, Unit
from kiungo.forces.responsibility import haversine_km, responsible_for_area, responsible_for_point
from kiungo.geography.models import Area, AreaName
from kiungo.missions.models import AlertLevel, EscalationStep, Mission
from kiungo.people.models import CLAProfile, Deployment, Role, RoleAssignment, User

MODELS = [
    Mission,
    AlertLevel,
    EscalationStep,
    Area,
    AreaName,
    Unit,
    DutyPhone,
    Base,
    ResponsibilityArea,
    User,
    CLAProfile,
    Deployment,
    RoleAssignment,
]


# The real password hasher is slow on purpose; the fixture and the login test agree on this one.
def fast_hashers():
    return override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


@pytest.fixture
def demo(demo_output, db):
    return {mission.code: mission for mission in Mission.objects.all()}


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def active_clas():
    return CLAProfile.objects.filter(deployments__ends_on__isnull=True).distinct()


def test_it_creates_the_four_missions_with_their_policy(demo):
    assert sorted(demo) == ["MINUSCA", "MINUSMA", "MONUSCO", "UNMISS"]
    monusco = demo["MONUSCO"]
    assert (monusco.country, monusco.time_zone) == ("CD", "Africa/Lubumbashi")
    assert monusco.languages == ["fr", "en", "sw", "ln"]
    for mission in demo.values():
        assert [level.code for level in mission.alert_levels()] == [
            "critical",
            "high",
            "medium",
            "low",
        ]


def test_minusma_is_closed_with_nothing_open(demo):
    minusma = demo["MINUSMA"]
    assert not minusma.is_active
    assert not Base.objects.filter(mission=minusma, closed_on__isnull=True).exists()
    deployments = Deployment.objects.filter(base__mission=minusma)
    assert deployments.exists()
    assert not deployments.filter(ends_on__isnull=True).exists()
    assert not deployments.filter(ends_on__gt=minusma.closed_on).exists()
    profiles = CLAProfile.objects.filter(deployments__base__mission=minusma).distinct()
    assert profiles.count() == scenario.CLOSED_MISSION_CLAS
    for profile in profiles:
        assert profile.base is None
        assert profile.deployments.order_by("-starts_on").first().ends_on == minusma.closed_on


def test_about_280_active_clas_most_in_monusco(demo):
    total = active_clas().count()
    assert 250 <= total <= 320
    per_mission = Counter(
        Deployment.objects.filter(ends_on__isnull=True).values_list(
            "base__mission__code", flat=True
        )
    )
    assert sum(per_mission.values()) == total
    assert per_mission.most_common(1)[0][0] == "MONUSCO"
    assert "MINUSMA" not in per_mission


def test_every_open_base_has_at_least_two_clas_deployed(demo):
    deployed = dict(
        Deployment.objects.filter(ends_on__isnull=True)
        .values_list("base")
        .annotate(n=Count("cla", distinct=True))
    )
    for base in Base.objects.filter(closed_on__isnull=True):
        assert deployed.get(base.pk, 0) >= 2, base
    for profile in active_clas().select_related("base"):
        current = profile.deployments.get(ends_on__isnull=True)
        assert profile.base == current.base


def test_deployments_of_a_cla_never_overlap(demo):
    periods = defaultdict(list)
    for cla_id, starts, ends in Deployment.objects.values_list("cla", "starts_on", "ends_on"):
        periods[cla_id].append((starts, ends))
    for spans in periods.values():
        spans.sort()
        for (_s1, end), (start, _e2) in itertools.pairwise(spans):
            assert end is not None and end < start


def test_every_base_has_an_aor_holding_its_locality(demo):
    bases = Base.objects.select_related("locality", "unit", "mission")
    assert bases.count() >= 75
    for base in bases:
        assert base.responsibility.exists(), base
        assert base.responsibility.filter(area__level=Area.Level.TERRITORY).exists()
        assert base.locality.level == Area.Level.LOCALITY
        assert (base.latitude, base.longitude) == (base.locality.latitude, base.locality.longitude)
        held = responsible_for_area(base.locality)
        if base.closed_on is None:
            assert held is not None, base
            assert (held.base, held.unit) == (base, base.unit)
            assert held.unit.kind == Unit.Kind.COMPANY
        else:  # closed bases (MINUSMA) answer for nothing any more
            assert held is None


def test_a_point_between_beni_and_butembo_goes_to_the_nearest_locality_base(demo):
    monusco = demo["MONUSCO"]
    beni = Base.objects.get(mission=monusco, code="beni")
    butembo = Base.objects.get(mission=monusco, code="butembo")
    latitude = (beni.latitude + butembo.latitude) / 2
    longitude = (beni.longitude + butembo.longitude) / 2

    localities = Area.objects.filter(
        mission=monusco, level=Area.Level.LOCALITY, latitude__isnull=False
    )
    nearest = min(
        localities, key=lambda a: haversine_km(latitude, longitude, a.latitude, a.longitude)
    )
    holder = next(
        held.base
        for held in ResponsibilityArea.objects.filter(base__mission=monusco).select_related(
            "base", "area"
        )
        if nearest.pcode.startswith(held.area.pcode)
    )
    assert holder in (beni, butembo)

    responsibility, placement = responsible_for_point(monusco, latitude, longitude)
    assert placement.area == nearest
    assert placement.method == "nearest_locality"
    assert responsibility.unit == holder.unit
    assert responsibility.base == holder


def test_geonames_localities_have_a_point_and_a_time_zone(demo):
    towns = Area.objects.filter(source=Area.Source.GEONAMES)
    assert towns.count() > 250
    assert not towns.exclude(level=Area.Level.LOCALITY).exists()
    assert not towns.filter(latitude__isnull=True).exists()
    assert not towns.filter(time_zone="").exists()
    congo = set(towns.filter(mission=demo["MONUSCO"]).values_list("time_zone", flat=True))
    assert {"Africa/Kinshasa", "Africa/Lubumbashi"} <= congo
    # The territory above a town carries its time zone, for the generated areas under it.
    kinshasa = Area.objects.named(demo["MONUSCO"], "Kinshasa").get(level=Area.Level.LOCALITY)
    extra = Area.objects.filter(parent=kinshasa.parent, source=Area.Source.GENERATED).first()
    assert extra.effective_time_zone() == "Africa/Kinshasa"


def test_generated_areas_say_so(demo):
    generated = Area.objects.filter(source=Area.Source.GENERATED)
    assert generated.exists()
    for area in generated:
        assert area.name.endswith(("(démo)", "(demo)")), area
    assert set(Area.objects.filter(level=Area.Level.PROVINCE).values_list("source", flat=True)) == {
        Area.Source.ISO_3166_2
    }


def test_pcodes_extend_their_parents(demo):
    for area in Area.objects.select_related("parent", "mission"):
        assert area.pcode.startswith(area.mission.country)
        if area.parent:
            assert area.pcode.startswith(area.parent.pcode) and area.pcode != area.parent.pcode
            assert area.parent.level < area.level


def test_names_and_aliases_resolve(demo):
    monusco, unmiss = demo["MONUSCO"], demo["UNMISS"]
    beni = Area.objects.named(monusco, "beni").get()
    assert (beni.level, beni.source) == (Area.Level.LOCALITY, Area.Source.GEONAMES)
    assert Base.objects.get(mission=monusco, code="beni").locality == beni
    assert Area.objects.named(monusco, "BÉNI").get() == beni
    # Today's names of towns GeoNames lists under another one.
    assert Area.objects.named(monusco, "Moba").get().name == "Baudhuinville"
    assert Area.objects.named(monusco, "Oicha").get().name == "Hyosha"
    # Arabic script (Juba Arabic is an UNMISS working language).
    juba = Area.objects.named(unmiss, "جوبا").get()
    assert juba.name == "Juba"
    assert not Area.objects.named(monusco, "جوبا").exists()
    # Provinces by ISO 3166-2 code and English name.
    assert Area.objects.named(monusco, "CD-NK").get().name == "Nord-Kivu"
    assert Area.objects.named(monusco, "north kivu").get().name == "Nord-Kivu"


def test_duty_phones_are_valid_and_unique_e164(demo):
    phones = DutyPhone.objects.select_related("unit__mission")
    units = Unit.objects.filter(kind__in=[Unit.Kind.BATTALION, Unit.Kind.COMPANY])
    assert phones.count() == units.count() + len(duty.CHAIN_PHONES)
    assert len({phone.number for phone in phones}) == phones.count()
    # Every unit of the MONUSCO chain has one (sector and force HQ: a made-up block).
    monusco = Unit.objects.filter(mission=demo["MONUSCO"])
    assert not monusco.exclude(duty_phones__active=True).exists()
    for code, (number, _label) in duty.CHAIN_PHONES.items():
        assert phones.get(number=number).unit == monusco.get(code=code)
        assert number.startswith("+243991000")
    prefixes = {"CD": "+243", "SS": "+211", "CF": "+236", "ML": "+223"}
    for phone in phones:
        phone.full_clean()
        assert phone.number.startswith(prefixes[phone.unit.mission.country])
        assert phone.active == phone.unit.mission.is_active


def test_units_form_a_chain_with_real_contingents(demo):
    for mission in demo.values():
        assert Unit.objects.filter(mission=mission, kind=Unit.Kind.FORCE_HQ).count() == 1
    for company in Unit.objects.filter(kind=Unit.Kind.COMPANY).select_related("parent"):
        assert [unit.kind for unit in company.chain()] == [4, 3, 2, 1]
        assert company.contingent == company.parent.contingent != ""
        assert company.bases.count() == 1


def test_demo_logins(demo):
    monusco = demo["MONUSCO"]
    users = {
        user.username: user
        for user in User.objects.filter(username__in=[login[0] for login in scenario.DEMO_LOGINS])
    }
    assert set(users) == {login[0] for login in scenario.DEMO_LOGINS}
    with fast_hashers():
        assert authenticate(username="admin", password=scenario.DEMO_PASSWORD) == users["admin"]
        assert authenticate(username="cla", password=scenario.DEMO_PASSWORD) == users["cla"]
        assert authenticate(username="cla.beni.2", password=scenario.DEMO_PASSWORD) is None
    for user in users.values():  # one hash shared by the demo logins
        assert user.password == users["admin"].password
    assert users["admin"].is_superuser and users["admin"].is_staff
    assert users["admin"].role_assignments.filter(role=Role.ADMINISTRATOR).count() == 4
    for name, role in [
        ("leadership", Role.LEADERSHIP),
        ("analyst", Role.ANALYST),
        ("ewo", Role.EARLY_WARNING_OFFICER),
    ]:
        assignment = users[name].role_assignments.get()
        assert (assignment.role, assignment.mission, assignment.scope) == (role, monusco, "mission")

    manager = users["manager"].role_assignments.get()
    assert (manager.role, manager.scope) == (Role.CLA_MANAGER, "areas")
    assert [area.name for area in manager.areas.all()] == ["Nord-Kivu"]
    north_kivu = manager.areas.get()
    supervised = CLAProfile.objects.filter(supervisor=users["manager"])
    assert supervised.exists()
    for profile in supervised.select_related("base__locality"):
        assert profile.base.locality.pcode.startswith(north_kivu.pcode)

    officer = users["duty"].role_assignments.get()
    assert (officer.role, officer.scope, officer.unit.kind) == (
        Role.UNIT_DUTY_OFFICER,
        "unit",
        Unit.Kind.BATTALION,
    )
    held = {base.code for base in Base.objects.filter(unit__parent=officer.unit)}
    assert {"beni", "butembo", "oicha", "mangina"} <= held
    # The officers of the chain above it: each escalation step reaches a login by e-mail.
    chain = [unit.code for unit in officer.unit.chain()]
    for username, code in [("duty", "tanzbatt"), ("sector", chain[1]), ("forcehq", chain[2])]:
        assignment = users[username].role_assignments.get()
        assert (assignment.role, assignment.mission, assignment.unit.code) == (
            Role.UNIT_DUTY_OFFICER,
            monusco,
            code,
        )
    assert chain == ["tanzbatt", "sector-north-kivu", "force-hq"]
    for user in users.values():
        assert user.email == f"{user.username}@{scenario.EMAIL_DOMAIN}"

    cla = users["cla"]
    assignment = cla.role_assignments.get()
    assert (assignment.role, assignment.scope) == (Role.CLA, "unit")
    assert cla.cla_profile.base.code == "beni"
    assert assignment.unit == cla.cla_profile.base.unit
    assert cla.cla_profile.supervisor == users["manager"]
    assert cla.cla_profile.deployments.get(ends_on__isnull=True).base.code == "beni"
    assert (
        not User.objects.exclude(username__in=users)
        .filter(password=users["admin"].password)
        .exists()
    )


def test_every_cla_has_a_role_a_manager_and_mission_languages(demo):
    managers = set(
        RoleAssignment.objects.filter(role=Role.CLA_MANAGER).values_list("user", flat=True)
    )
    for profile in CLAProfile.objects.select_related("user", "base__mission"):
        assignment = profile.user.role_assignments.get()
        assert (assignment.role, assignment.scope) == (Role.CLA, "unit")
        assert profile.supervisor_id in managers
        mission = assignment.mission
        assert set(profile.languages) <= set(mission.languages)
        assert profile.languages[0] == mission.languages[0]


def test_a_sample_of_every_model_passes_full_clean(demo):
    for model in MODELS:
        objects = list(model.objects.all())
        step = max(1, len(objects) // 25)
        for obj in objects[::step]:
            obj.full_clean()
    for held in ResponsibilityArea.objects.select_related("base", "area"):
        held.full_clean()  # no AOR overlaps another


def test_output_lists_the_logins(demo_output):
    assert "Demo scenario loaded (seed 2026)" in demo_output
    for username, _role, _scope in scenario.DEMO_LOGINS:
        assert f"  {username} " in demo_output
    assert scenario.DEMO_PASSWORD in demo_output


def test_a_second_run_changes_nothing(demo):
    before = counts()
    out = StringIO()
    call_command("demo", stdout=out)
    assert "Demo scenario already loaded" in out.getvalue()
    assert "kiungo-demo" in out.getvalue()
    assert counts() == before


def test_a_partial_scenario_is_refused(demo):
    Mission.objects.filter(code="UNMISS").update(code="UNMISS-1")
    with pytest.raises(CommandError, match="Only part of the demo scenario"):
        call_command("demo", stdout=StringIO())


def dump():
    """The scenario's content, without database keys, password hashes or join dates."""
    return {
        "areas": sorted(
            Area.objects.values_list(
                "mission__code",
                "pcode",
                "level",
                "parent__pcode",
                "name",
                "time_zone",
                "latitude",
                "longitude",
                "source",
            )
        ),
        "names": sorted(
            AreaName.objects.values_list("area__pcode", "name", "kind", "language", "folded")
        ),
        "units": sorted(
            Unit.objects.values_list(
                "mission__code", "code", "name", "kind", "parent__code", "contingent"
            )
        ),
        "phones": sorted(DutyPhone.objects.values_list("unit__code", "number", "label", "active")),
        "bases": sorted(
            Base.objects.values_list(
                "mission__code",
                "code",
                "name",
                "kind",
                "locality__pcode",
                "latitude",
                "longitude",
                "unit__code",
                "opened_on",
                "closed_on",
            )
        ),
        "aor": sorted(ResponsibilityArea.objects.values_list("base__code", "area__pcode")),
        "users": sorted(
            User.objects.values_list(
                "username",
                "first_name",
                "last_name",
                "email",
                "is_active",
                "is_staff",
                "is_superuser",
            )
        ),
        "profiles": sorted(
            CLAProfile.objects.values_list(
                "user__username", "staff_id", "languages", "base__code", "supervisor__username"
            )
        ),
        "deployments": sorted(
            Deployment.objects.values_list("cla__staff_id", "base__code", "starts_on", "ends_on")
        ),
        "roles": sorted(
            RoleAssignment.objects.values_list(
                "user__username", "role", "mission__code", "scope", "unit__code", "areas__pcode"
            ),
            key=repr,
        ),
    }


def wipe():
    from kiungo.alerts.models import Alert, AlertEvent, Incident
    from kiungo.messaging.models import Channel, InboundMessage, OutboundEmail, OutboundMessage
    from kiungo.network.models import Broadcast, Contact, OutreachActivity, SourceAccess
    from kiungo.protection.models import Committee, FieldVisit
    from kiungo.reports.models import Report

    Committee.objects.all().delete()  # with their plans, requests and answers (PROTECT users)
    FieldVisit.objects.all().delete()
    Broadcast.objects.all().delete()  # demo/contacts.py: they hold users and areas (PROTECT)
    OutreachActivity.objects.all().delete()
    SourceAccess.objects.all().delete()
    Report.objects.all().delete()  # demo field reports (they PROTECT their CLAs and authors)
    AlertEvent.objects.all().delete()  # the demo's history and live incident
    Alert.objects.all().delete()
    Incident.objects.all().delete()
    OutboundMessage.objects.all().delete()
    OutboundEmail.objects.all().delete()
    InboundMessage.objects.all().delete()
    Contact.objects.all().delete()  # demo key contacts live in demo localities (PROTECT)
    Channel.objects.all().delete()
    Deployment.objects.all().delete()
    User.objects.all().delete()  # with their profiles and role assignments
    ResponsibilityArea.objects.all().delete()
    Base.objects.all().delete()
    for kind in sorted(Unit.Kind, reverse=True):
        Unit.objects.filter(kind=kind).delete()
    AreaName.objects.all().delete()
    for level in sorted(Area.Level, reverse=True):
        Area.objects.filter(level=level).delete()
    Mission.objects.all().delete()
    assert not any(counts().values())


def test_the_same_seed_gives_the_same_scenario(demo):
    first = dump()
    wipe()
    call_command("demo", "--seed", str(scenario.DEFAULT_SEED), stdout=StringIO())
    assert dump() == first


def test_it_refuses_where_the_demo_is_not_allowed(settings):
    settings.DEMO_ALLOWED = False
    with pytest.raises(CommandError, match="DEMO_ALLOWED is False"):
        call_command("demo", stdout=StringIO())


def test_another_seed_changes_the_generated_data_not_the_real_one(demo):
    first = dump()
    wipe()
    call_command("demo", "--seed", "7", stdout=StringIO())
    other = dump()
    real = [row for row in first["areas"] if row[-1] != Area.Source.GENERATED]
    assert [row for row in other["areas"] if row[-1] != Area.Source.GENERATED] == real
    assert other["units"] == first["units"]
    assert [row[:8] for row in other["bases"]] == [row[:8] for row in first["bases"]]
    assert other["users"] != first["users"]
    assert other["deployments"] != first["deployments"]


def test_a_crash_midway_leaves_nothing_behind(demo, monkeypatch):
    wipe()

    def crash(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(scenario._Loader, "_people", crash)
    with pytest.raises(RuntimeError):
        call_command("demo", stdout=StringIO())
    assert not any(counts().values())
