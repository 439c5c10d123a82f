"""Placing an alert: from the place words of a message to one of the mission's areas.

`resolve_place(mission, candidates, contact)` tries, in this order and for every candidate
(longest first, as the parser gives them) before the next method:

1. a P-code of the mission (``CD19010101001``), confidence 1;
2. a name or alias, case- and accent-blind, in any script (``Beni``, ``BENI``, ``بيني``);
   when several areas share it, the most precise level wins (the town Kinshasa over the
   province), then the one nearest the contact's home; with no contact the choice is flagged
   for review;
3. a close spelling: first the same "skeleton" (doubled letters, y/i, ou/u, tsh/ch, dj/j and
   spaces ignored: Beniii, Butembbo, Bunya, Kisanganni, Kagabandoro), then rapidfuzz's ratio
   of at least `FUZZY_CUTOFF` on names of four letters or more;
4. `more` candidates (the rest of a free text), the same way but with a stricter fuzzy cutoff;
5. the contact's home locality, confidence 0.5 (flagged for review);
6. nothing.

Speed: the mission's names live in an in-process cache, reloaded when a name or area is saved
or deleted in this process, and otherwise checked against a cheap stamp (count and highest id
of the mission's names) at most every `CHECK_EVERY` seconds. Only the chosen area is fetched
(one query by primary key).

Measured on the development container (2 CPUs, SQLite, warm cache, best of 3 x 2,000 calls),
MONUSCO demo mission (627 areas, 1,428 names), then the same padded with 2,072 generated
aliases to 3,500 names:

                                            1,428 names   3,500 names
    exact name ["Beni"]                       0.36 ms       0.38 ms
    same skeleton ["Butembbo"]                0.37 ms       0.38 ms
    fuzzy ratio ["Butenbo"]                   0.43 ms       0.59 ms
    nothing, 3 candidates                     0.16 ms       0.43 ms
    whole `understand`, structured SMS        0.49 ms       0.44 ms
    whole `understand`, 22-word free text     0.70 ms       0.65 ms
    loading the cache (once, or on change)    9.7 ms        18.5 ms

About 0.3 ms of a placed call is the ORM fetching the chosen area. The first four rows come from
(after `migrate` and `demo` on a private database)::

    KIUNGO_DATABASE_URL=sqlite:////tmp/x.sqlite3 .venv/bin/python manage.py shell -c "
    import timeit; from kiungo.missions.models import Mission
    from kiungo.alerts.placing import resolve_place
    m = Mission.objects.get(code='MONUSCO')
    for words in (['Beni'], ['Butembbo'], ['Butenbo'], ['Xyzzy Plugh Abc', 'Xyzzy Plugh', 'Xyzzy']):
        resolve_place(m, words)
        print(words, min(timeit.repeat(lambda: resolve_place(m, words), number=2000)) / 2, 'ms')"
"""

import math
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Max
from django.db.models.signals import post_delete, post_save
from rapidfuzz import fuzz, process

from kiungo.alerts.models import Alert
from kiungo.alerts.parsing import normalise
from kiungo.geography.models import Area, AreaName
from kiungo.lib.text import fold
from kiungo.missions.models import Mission

CHECK_EVERY = 60.0  # seconds between two checks of a mission's name stamp
FUZZY_CUTOFF = 85  # rapidfuzz ratio for the place words of a structured message
FREE_TEXT_CUTOFF = 90  # for windows of free text, where most words are not places
FUZZY_MIN_LENGTH = 4
FREE_TEXT_FUZZY_WINDOWS = 30  # fuzzy matching of free text stops after this many windows
REVIEW_BELOW = 0.8  # a placement less sure than this is flagged for a person

PCODE = 1.0
NAME = 0.95
SKELETON = 0.9  # same name once spelling variants are ignored
FUZZY = 0.9  # times the ratio / 100
CONTACT_HOME = 0.5
LESS_PRECISE_TOO = 0.95  # factor when a coarser area shares the name (Kinshasa town/province)
NEAREST_HOME = 0.9  # factor when several areas share the name and the contact's home decides
AMBIGUOUS = 0.55  # factor when several areas share the name and nothing decides

Method = Alert.PlaceMethod


@dataclass(frozen=True)
class Placement:
    area: Area | None
    method: str  # an Alert.PlaceMethod value
    confidence: float  # 0..1
    text: str = ""  # the candidate that matched, as given
    ambiguous: bool = False  # several areas answer to it and nothing told them apart

    @property
    def needs_review(self) -> bool:
        return self.area is None or self.ambiguous or self.confidence < REVIEW_BELOW


NOWHERE = Placement(None, Method.NONE, 0.0)


# The cache ------------------------------------------------------------------------------------


@dataclass
class _Gazetteer:
    stamp: tuple
    checked_at: float
    areas: dict[int, tuple[int, str, float | None, float | None]]  # id: level, pcode, lat, lon
    pcodes: dict[str, int]
    names: dict[str, tuple[int, ...]]  # folded name: area ids
    skeletons: dict[str, tuple[int, ...]]
    fuzzy_keys: list[str] = field(default_factory=list)  # skeletons long enough for fuzzy
    fuzzy_ids: list[tuple[int, ...]] = field(default_factory=list)


_CACHE: dict[int, _Gazetteer] = {}
_LOCK = threading.Lock()

_SPELLINGS = (("tch", "ch"), ("tsh", "ch"), ("sh", "ch"), ("dj", "j"), ("ou", "u"), ("y", "i"))
_REPEATS = re.compile(r"(.)\1+")


def skeleton(folded: str) -> str:
    """A name with spelling variants ignored: 'kaga bandoro', 'Kagabandoro' -> 'kagabandoro'."""
    text = normalise(folded).replace(" ", "")
    for old, new in _SPELLINGS:
        text = text.replace(old, new)
    return _REPEATS.sub(r"\1", text)


def clear_place_cache() -> None:
    with _LOCK:
        _CACHE.clear()


def _stamp(mission_id: int) -> tuple:
    found = AreaName.objects.filter(area__mission_id=mission_id).aggregate(
        count=Count("id"), last=Max("id")
    )
    return found["count"], found["last"]


def _load(mission_id: int) -> _Gazetteer:
    stamp = _stamp(mission_id)
    areas = {
        pk: (level, pcode, latitude, longitude)
        for pk, level, pcode, latitude, longitude in Area.objects.filter(
            mission_id=mission_id
        ).values_list("pk", "level", "pcode", "latitude", "longitude")
    }
    names: dict[str, set[int]] = {}
    for area_id, folded in AreaName.objects.filter(area__mission_id=mission_id).values_list(
        "area_id", "folded"
    ):
        if folded and area_id in areas:
            names.setdefault(normalise(folded), set()).add(area_id)
    skeletons: dict[str, set[int]] = {}
    for name, ids in names.items():
        skeletons.setdefault(skeleton(name), set()).update(ids)
    gazetteer = _Gazetteer(
        stamp=stamp,
        checked_at=time.monotonic(),
        areas=areas,
        pcodes={pcode: pk for pk, (_level, pcode, _lat, _lon) in areas.items()},
        names={name: tuple(sorted(ids)) for name, ids in names.items()},
        skeletons={key: tuple(sorted(ids)) for key, ids in skeletons.items() if key},
    )
    for key, ids in gazetteer.skeletons.items():
        if len(key) >= FUZZY_MIN_LENGTH:
            gazetteer.fuzzy_keys.append(key)
            gazetteer.fuzzy_ids.append(ids)
    return gazetteer


def _gazetteer(mission_id: int) -> _Gazetteer:
    now = time.monotonic()
    gazetteer = _CACHE.get(mission_id)
    if gazetteer is not None and gazetteer.areas and now - gazetteer.checked_at < CHECK_EVERY:
        return gazetteer
    if gazetteer is not None and gazetteer.areas and _stamp(mission_id) == gazetteer.stamp:
        gazetteer.checked_at = now
        return gazetteer
    gazetteer = _load(mission_id)
    with _LOCK:
        _CACHE[mission_id] = gazetteer
    return gazetteer


def _forget(**_kwargs) -> None:
    # Names and areas change rarely: forget every mission, now and when the change is committed
    # (a reload in between could have read rows that a rollback then removed).
    clear_place_cache()
    transaction.on_commit(clear_place_cache)


for _model in (Area, AreaName, Mission):
    post_save.connect(_forget, sender=_model, dispatch_uid=f"placing-forget-{_model.__name__}")
    post_delete.connect(_forget, sender=_model, dispatch_uid=f"placing-delete-{_model.__name__}")


# Resolving ------------------------------------------------------------------------------------


def resolve_place(
    mission: Mission,
    candidates: Sequence[str],
    contact=None,
    *,
    more: Sequence[str] = (),
    home_fallback: bool = True,
) -> Placement:
    """The area meant by the first matching candidate (see the module's docstring)."""
    if mission is None or mission.pk is None:
        return NOWHERE
    for _attempt in range(2):
        gazetteer = _gazetteer(mission.pk)
        home = None
        if contact is not None:
            home_id = getattr(contact, "home_locality_id", None)
            home = home_id if home_id in gazetteer.areas else None
        found = _match(gazetteer, candidates, home, FUZZY_CUTOFF, len(candidates))
        if found is None and more:
            found = _match(gazetteer, more, home, FREE_TEXT_CUTOFF, FREE_TEXT_FUZZY_WINDOWS)
        if found is None:
            break
        area_id, method, confidence, text, ambiguous = found
        area = Area.objects.filter(pk=area_id, mission=mission).first()
        if area is not None:
            return Placement(area, method, round(confidence, 3), text, ambiguous)
        clear_place_cache()  # the area was deleted since the cache was loaded: look again
    else:
        return NOWHERE
    if home_fallback and home is not None:
        area = Area.objects.filter(pk=home, mission=mission).first()
        if area is not None:
            return Placement(area, Method.CONTACT_HOME, CONTACT_HOME)
    return NOWHERE


def _match(gazetteer, candidates, home, cutoff, fuzzy_limit):
    """(area id, method, confidence, text, ambiguous) or None."""
    keyed = []
    for text in candidates:
        if not isinstance(text, str):
            continue
        folded = normalise(fold(text))
        if folded:
            keyed.append((text, folded))
    for text, _folded in keyed:
        pcode = re.sub(r"[\s-]", "", text).upper()
        if pcode in gazetteer.pcodes:
            return gazetteer.pcodes[pcode], Method.PCODE, PCODE, text, False
    for text, folded in keyed:
        ids = gazetteer.names.get(folded)
        if ids:
            return _choose(gazetteer, ids, home, Method.NAME, NAME, text)
    for text, folded in keyed:
        key = skeleton(folded)
        ids = gazetteer.skeletons.get(key) if len(key) >= 3 else None
        if ids:
            return _choose(gazetteer, ids, home, Method.FUZZY, SKELETON, text)
    if not gazetteer.fuzzy_keys:
        return None
    for text, folded in keyed[:fuzzy_limit]:
        key = skeleton(folded)
        if len(key) < FUZZY_MIN_LENGTH:
            continue
        found = process.extract(
            key, gazetteer.fuzzy_keys, scorer=fuzz.ratio, score_cutoff=cutoff, limit=5
        )
        if found:
            best = found[0][1]
            ids = sorted(
                {pk for _k, score, i in found if score == best for pk in gazetteer.fuzzy_ids[i]}
            )
            return _choose(gazetteer, tuple(ids), home, Method.FUZZY, FUZZY * best / 100, text)
    return None


def _choose(gazetteer, ids, home, method, confidence, text):
    if len(ids) == 1:
        return ids[0], method, confidence, text, False
    areas = gazetteer.areas
    finest = max(areas[pk][0] for pk in ids)
    precise = [pk for pk in ids if areas[pk][0] == finest]
    if len(precise) == 1:
        return precise[0], method, confidence * LESS_PRECISE_TOO, text, False
    if home is not None:
        nearest = min(precise, key=lambda pk: _distance(areas[home], areas[pk]))
        return nearest, method, confidence * NEAREST_HOME, text, False
    first = min(precise, key=lambda pk: areas[pk][1])
    return first, method, confidence * AMBIGUOUS, text, True


def _distance(home, area) -> tuple:
    """Sort key: kilometres when both have a point, then how much of the P-code they share."""
    _level, pcode, latitude, longitude = area
    _home_level, home_pcode, home_latitude, home_longitude = home
    shared = 0
    for mine, theirs in zip(pcode, home_pcode, strict=False):
        if mine != theirs:
            break
        shared += 1
    if None in (latitude, longitude, home_latitude, home_longitude):
        return (math.inf, -shared, pcode)
    x = math.radians(longitude - home_longitude) * math.cos(
        math.radians((latitude + home_latitude) / 2)
    )
    y = math.radians(latitude - home_latitude)
    return (6371 * math.hypot(x, y), -shared, pcode)
