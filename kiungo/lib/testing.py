"""Test helpers: a small mission world with one user per role, and the permission matrix."""

from dataclasses import dataclass
from datetime import date

from kiungo.forces.models import Base, DutyPhone, ResponsibilityArea, Unit
from kiungo.geography.models import Area, AreaName
from kiungo.missions.models import Mission, install_default_policy
from kiungo.people.models import CLAProfile, Deployment, Role, RoleAssignment, User

# Real towns of North Kivu and Ituri (coordinates from GeoNames).
BENI = (0.49113, 29.47306)
BUTEMBO = (0.14164, 29.29117)
BUNIA = (1.55941, 30.25224)


def make_area(mission, pcode, level, name, parent=None, point=None, aliases=(), tz=""):
    area = Area(mission=mission, pcode=pcode, level=level, name=name, parent=parent, time_zone=tz)
    if point:
        area.latitude, area.longitude = point
    area.full_clean()
    area.save()
    for alias in aliases:
        AreaName.objects.create(area=area, name=alias, kind="alias")
    return area


def make_chain(mission, pcode, names, point, aliases=()):
    """Territory > sector > groupement > locality under province `pcode`'s area."""
    province = Area.objects.get(pcode=pcode[:4])
    territory = make_area(mission, pcode, 2, f"Territoire de {names}", province)
    sector = make_area(mission, pcode + "01", 3, f"Secteur de {names}", territory)
    groupement = make_area(mission, pcode + "0101", 4, f"Groupement de {names}", sector)
    locality = make_area(mission, pcode + "0101001", 5, names, groupement, point, aliases)
    return territory, locality


@dataclass
class World:
    mission: Mission
    other_mission: Mission
    north_kivu: Area
    ituri: Area
    beni: Area
    beni_territory: Area
    butembo: Area
    bunia: Area
    force_hq: Unit
    sector_north: Unit
    battalion_a: Unit
    company_beni: Unit
    company_butembo: Unit
    battalion_b: Unit
    company_bunia: Unit
    base_beni: Base
    base_butembo: Base
    base_bunia: Base
    other_base: Base
    users: dict[str, User]


def make_unit(mission, code, kind, parent=None, contingent=""):
    unit = Unit(
        mission=mission,
        code=code,
        name=code.replace("-", " ").title(),
        kind=kind,
        parent=parent,
        contingent=contingent,
    )
    unit.full_clean()
    unit.save()
    return unit


def make_base(mission, code, locality, unit, aor, kind="COB"):
    base = Base(
        mission=mission,
        code=code,
        name=locality.name,
        kind=kind,
        locality=locality,
        latitude=locality.latitude,
        longitude=locality.longitude,
        unit=unit,
    )
    base.full_clean()
    base.save()
    held = ResponsibilityArea(base=base, area=aor)
    held.full_clean()
    held.save()
    return base


def build_world() -> World:
    mission = Mission.objects.create(
        code="TESTMISSION",
        name="Test mission",
        country="CD",
        time_zone="Africa/Lubumbashi",
        languages=["fr", "en", "sw"],
    )
    install_default_policy(mission)
    other = Mission.objects.create(
        code="OTHERMISSION",
        name="Other mission",
        country="SS",
        time_zone="Africa/Juba",
        languages=["en", "ar"],
    )
    install_default_policy(other)

    north_kivu = make_area(mission, "CD61", 1, "Nord-Kivu", aliases=["North Kivu"])
    ituri = make_area(mission, "CD54", 1, "Ituri")
    beni_territory, beni = make_chain(mission, "CD6101", "Beni", BENI, aliases=["بيني"])
    _, butembo = make_chain(mission, "CD6102", "Butembo", BUTEMBO)
    bunia_territory, bunia = make_chain(mission, "CD5401", "Bunia", BUNIA)
    make_area(other, "SS01", 1, "Central Equatoria")
    juba_county, juba = make_chain(other, "SS0101", "Juba", (4.85165, 31.58247))

    force_hq = make_unit(mission, "force-hq", Unit.Kind.FORCE_HQ)
    sector_north = make_unit(mission, "sector-north", Unit.Kind.SECTOR, force_hq)
    battalion_a = make_unit(mission, "indbatt", Unit.Kind.BATTALION, sector_north, "IN")
    company_beni = make_unit(mission, "indbatt-a", Unit.Kind.COMPANY, battalion_a, "IN")
    company_butembo = make_unit(mission, "indbatt-b", Unit.Kind.COMPANY, battalion_a, "IN")
    battalion_b = make_unit(mission, "banbatt", Unit.Kind.BATTALION, sector_north, "BD")
    company_bunia = make_unit(mission, "banbatt-a", Unit.Kind.COMPANY, battalion_b, "BD")
    DutyPhone.objects.create(unit=company_beni, number="+243991234567", label="Ops room")
    other_hq = make_unit(other, "force-hq", Unit.Kind.FORCE_HQ)
    other_company = make_unit(
        other,
        "rwanbatt-a",
        Unit.Kind.COMPANY,
        make_unit(
            other,
            "rwanbatt",
            Unit.Kind.BATTALION,
            make_unit(other, "sector-south", Unit.Kind.SECTOR, other_hq, ""),
            "RW",
        ),
        "RW",
    )

    base_beni = make_base(mission, "beni", beni, company_beni, beni_territory)
    base_butembo = make_base(
        mission, "butembo", butembo, company_butembo, Area.objects.get(pcode="CD6102")
    )
    base_bunia = make_base(mission, "bunia", bunia, company_bunia, bunia_territory, "SOB")
    other_base = make_base(other, "juba", juba, other_company, juba_county, "SOB")

    users = {}

    def user(name, role=None, mission_=mission, scope="mission", areas=(), unit=None, **extra):
        account = User.objects.create_user(username=name, password="x", **extra)
        if role:
            assignment = RoleAssignment.objects.create(
                user=account, role=role, mission=mission_, scope=scope, unit=unit
            )
            assignment.areas.set(areas)
        users[name] = account
        return account

    user("administrator", Role.ADMINISTRATOR, is_staff=True)
    user("leadership", Role.LEADERSHIP)
    user("analyst", Role.ANALYST)
    user("ewo", Role.EARLY_WARNING_OFFICER)
    manager = user("manager", Role.CLA_MANAGER, scope="areas", areas=[north_kivu])
    user("duty", Role.UNIT_DUTY_OFFICER, scope="unit", unit=battalion_a)
    cla = user(
        "cla", Role.CLA, scope="unit", unit=company_beni, first_name="Amani", last_name="Kahindo"
    )
    user("cla_bunia", Role.CLA, scope="unit", unit=company_bunia)
    user("other_ewo", Role.EARLY_WARNING_OFFICER, mission_=other)
    user("outsider")

    for account, base, staff_id in [
        (cla, base_beni, "T-001"),
        (users["cla_bunia"], base_bunia, "T-002"),
    ]:
        profile = CLAProfile.objects.create(
            user=account, staff_id=staff_id, languages=["fr"], base=base, supervisor=manager
        )
        Deployment.objects.create(cla=profile, base=base, starts_on=date(2025, 1, 6))

    return World(
        mission,
        other,
        north_kivu,
        ituri,
        beni,
        beni_territory,
        butembo,
        bunia,
        force_hq,
        sector_north,
        battalion_a,
        company_beni,
        company_butembo,
        battalion_b,
        company_bunia,
        base_beni,
        base_butembo,
        base_bunia,
        other_base,
        users,
    )


ROLE_USERS = [
    "administrator",
    "leadership",
    "analyst",
    "ewo",
    "manager",
    "duty",
    "cla",
    "cla_bunia",
    "other_ewo",
    "outsider",
]


def check_matrix(client, world: World, url: str, allowed: set[str], method: str = "get"):
    """Request `url` as every named user; those in `allowed` get 200, all others 403 or 404.

    Anonymous visitors are sent to the login page. Returns nothing; fails with the full table
    so one run shows every wrong cell.
    """
    wrong = []
    client.logout()
    anonymous = getattr(client, method)(url)
    if anonymous.status_code != 302 or "/accounts/login/" not in anonymous["Location"]:
        wrong.append(f"anonymous: {anonymous.status_code} (expected a redirect to log in)")
    for name in ROLE_USERS:
        client.force_login(world.users[name])
        response = getattr(client, method)(url)
        ok = response.status_code == 200 if name in allowed else response.status_code in (403, 404)
        if not ok:
            expected = "200" if name in allowed else "403/404"
            wrong.append(f"{name}: {response.status_code} (expected {expected})")
    client.logout()
    assert not wrong, f"permission matrix for {url}:\n" + "\n".join(wrong)
