"""Placing alerts on the mission's areas, and understanding whole messages (real town names)."""

from unittest import mock

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiungo.alerts import placing
from kiungo.alerts.models import Alert
from kiungo.alerts.parsing import KEYWORDS, LANGUAGES, LEVEL_WORDS, THREAT_WORDS
from kiungo.alerts.placing import clear_place_cache, resolve_place, skeleton
from kiungo.alerts.taxonomy import Threat
from kiungo.alerts.understanding import Understanding, interpret, understand
from kiungo.geography.models import Area, AreaName
from kiungo.lib.testing import build_world, make_area, make_chain
from kiungo.missions.models import Mission, install_default_policy
from kiungo.network.models import Contact

Method = Alert.PlaceMethod


@pytest.fixture(scope="module")
def _module_world(django_db_setup, django_db_blocker):
    """`build_world()` once for this module (0.3 s each time otherwise), rolled back at its end;
    each test still runs in its own savepoint through `db`."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)
    clear_place_cache()


@pytest.fixture
def world(_module_world, db):
    """The test world of `kiungo.lib.testing` (shadows the conftest fixture, same content)."""
    clear_place_cache()
    yield _module_world
    clear_place_cache()


@pytest.fixture
def towns(world):
    """More real towns: Kisangani, Kinshasa (a province and a town), and two places called
    Bolobo (as in GeoNames, where two DR Congo localities share the name) near Beni and Bunia."""
    mission = world.mission
    make_area(mission, "CD53", 1, "Tshopo")
    _, kisangani = make_chain(mission, "CD5301", "Kisangani", (0.51528, 25.19099))
    make_area(mission, "CD10", 1, "Kinshasa")
    _, kinshasa = make_chain(mission, "CD1001", "Kinshasa", (-4.32758, 15.31357))
    bolobo_north = make_area(
        mission, "CD61010101002", 5, "Bolobo", world.beni.parent, (0.52, 29.50)
    )
    bolobo_south = make_area(
        mission, "CD54010101002", 5, "Bolobo", world.bunia.parent, (1.50, 30.20)
    )
    return {
        "kisangani": kisangani,
        "kinshasa": kinshasa,
        "bolobo_north": bolobo_north,
        "bolobo_south": bolobo_south,
    }


def contact_at(world, home, code="NK-BEN-001", mission=None):
    return Contact.objects.create(
        mission=mission or world.mission, code=code, home_locality=home, language="fr"
    )


# P-codes, names and aliases --------------------------------------------------------------------


def test_pcode(world):
    placement = resolve_place(world.mission, ["CD61010101001"])
    assert placement.area == world.beni
    assert placement.method == Method.PCODE
    assert placement.confidence == 1.0
    assert not placement.needs_review
    assert resolve_place(world.mission, ["cd6101"]).area == world.beni_territory


def test_name_any_case_and_accents(world):
    for text in ("Beni", "BENI", "béni", "Béni!"):
        placement = resolve_place(world.mission, [text])
        assert placement.area == world.beni, text
        assert placement.method == Method.NAME
        assert placement.text == text
        assert not placement.needs_review


def test_alias_in_arabic_script(world):
    placement = resolve_place(world.mission, ["بيني"])
    assert placement.area == world.beni
    assert placement.method == Method.NAME


def test_alias_and_several_words(world):
    assert resolve_place(world.mission, ["North Kivu"]).area == world.north_kivu
    placement = resolve_place(world.mission, ["Territoire de Beni", "Territoire"])
    assert placement.area == world.beni_territory
    assert placement.text == "Territoire de Beni"


def test_longest_candidate_first_and_methods_before_candidates(world):
    # An exact name wins over a close spelling of a longer candidate.
    placement = resolve_place(world.mission, ["Butembbo Beni", "Butembbo", "Beni"])
    assert placement.area == world.beni
    assert placement.method == Method.NAME


@pytest.mark.parametrize(
    "typed, town",
    [("Beniii", "beni"), ("Butembbo", "butembo"), ("Bunya", "bunia"), ("BUNNIA", "bunia")],
)
def test_misspellings(world, typed, town):
    placement = resolve_place(world.mission, [typed])
    assert placement.area == getattr(world, town)
    assert placement.method == Method.FUZZY
    assert 0.8 <= placement.confidence < 0.95


def test_misspelling_of_kisangani_and_fuzzy_confidence(world, towns):
    placement = resolve_place(world.mission, ["Kisanganni"])
    assert placement.area == towns["kisangani"]
    assert placement.method == Method.FUZZY
    near = resolve_place(world.mission, ["Kisangami"])  # a real slip: m for n
    assert near.area == towns["kisangani"]
    assert near.method == Method.FUZZY
    assert near.confidence < placement.confidence


def test_skeleton_ignores_spelling_variants():
    assert skeleton("kaga bandoro") == skeleton("kagabandoro") == "kagabandoro"
    assert skeleton("tshikapa") == skeleton("chikapa")
    assert skeleton("boutembo") == skeleton("butembbo") == "butembo"
    assert skeleton("bunya") == "bunia"


def test_short_words_do_not_match_loosely(world):
    assert resolve_place(world.mission, ["Ben"]).area is None
    assert resolve_place(world.mission, ["Bena"]).area is None


# Shared names ----------------------------------------------------------------------------------


def test_the_most_precise_level_wins(world, towns):
    placement = resolve_place(world.mission, ["Kinshasa"])
    assert placement.area == towns["kinshasa"]
    assert placement.area.level == Area.Level.LOCALITY
    assert not placement.ambiguous and not placement.needs_review


def test_shared_name_resolved_by_the_contact_home(world, towns):
    near_beni = contact_at(world, world.beni)
    placement = resolve_place(world.mission, ["Bolobo"], near_beni)
    assert placement.area == towns["bolobo_north"]
    assert not placement.needs_review
    near_bunia = contact_at(world, world.bunia, code="IT-BUN-001")
    assert resolve_place(world.mission, ["Bolobo"], near_bunia).area == towns["bolobo_south"]


def test_shared_name_without_contact_is_flagged(world, towns):
    placement = resolve_place(world.mission, ["Bolobo"])
    assert placement.area in (towns["bolobo_north"], towns["bolobo_south"])
    assert placement.ambiguous
    assert placement.needs_review
    assert placement.confidence < placing.REVIEW_BELOW


def test_shared_name_by_pcode_when_no_point(world, towns):
    Area.objects.filter(pk__in=[towns["bolobo_north"].pk, towns["bolobo_south"].pk]).update(
        latitude=None, longitude=None
    )
    clear_place_cache()
    placement = resolve_place(world.mission, ["Bolobo"], contact_at(world, world.bunia))
    assert placement.area == towns["bolobo_south"]  # shares CD5401... with Bunia


# Fallbacks and isolation -----------------------------------------------------------------------


def test_contact_home_fallback(world):
    contact = contact_at(world, world.butembo)
    placement = resolve_place(world.mission, ["Nowhere"], contact)
    assert placement.area == world.butembo
    assert placement.method == Method.CONTACT_HOME
    assert placement.confidence == 0.5
    assert placement.needs_review
    assert resolve_place(world.mission, [], contact).area == world.butembo
    assert resolve_place(world.mission, [], contact, home_fallback=False).area is None


def test_nothing_found(world):
    placement = resolve_place(world.mission, ["Xyzzy", "Quelque part"])
    assert placement.area is None
    assert placement.method == Method.NONE
    assert placement.confidence == 0
    assert placement.needs_review
    assert resolve_place(world.mission, []).area is None
    assert resolve_place(world.mission, ["", "  ", "!!!"]).area is None


def test_more_candidates_are_tried_after_the_first_ones(world):
    placement = resolve_place(world.mission, ["Xyzzy"], more=["Butembo", "Beni"])
    assert placement.area == world.butembo
    # Free text needs a closer spelling than the place words of a code.
    assert resolve_place(world.mission, ["Butenbo"]).area == world.butembo
    assert resolve_place(world.mission, [], more=["Butenbo"]).area is None


def test_other_missions_places_never_match(world):
    mission, other = world.mission, world.other_mission
    assert resolve_place(mission, ["Juba"]).area is None
    assert resolve_place(mission, ["Jubba"]).area is None
    assert resolve_place(mission, ["SS01010101001"]).area is None
    assert resolve_place(other, ["Beni"]).area is None
    assert resolve_place(other, ["CD61010101001"]).area is None
    assert resolve_place(other, ["بيني"]).area is None
    assert resolve_place(other, ["Juba"]).area.mission == other
    # A contact's home in another mission is no fallback.
    stray = contact_at(world, world.beni, code="STRAY")
    assert resolve_place(other, ["Nowhere"], stray).area is None


# The cache -------------------------------------------------------------------------------------


def test_one_query_once_the_names_are_cached(world, django_assert_num_queries):
    resolve_place(world.mission, ["Beni"])
    with django_assert_num_queries(1):  # the chosen area, by primary key
        assert resolve_place(world.mission, ["Beni"]).area == world.beni
    with django_assert_num_queries(0):
        assert resolve_place(world.mission, ["Nowhere", "Xyzzy"]).area is None


def test_a_new_name_is_seen_at_once(world):
    assert resolve_place(world.mission, ["Mbau"]).area is None
    make_area(world.mission, "CD61010101003", 5, "Mbau", world.beni.parent)
    assert resolve_place(world.mission, ["Mbau"]).area.name == "Mbau"
    AreaName.objects.create(area=world.beni, name="Beni-Ville")
    assert resolve_place(world.mission, ["Beni Ville"]).area == world.beni


def test_bulk_loaded_names_are_seen_after_the_stamp_check(world, monkeypatch):
    assert resolve_place(world.mission, ["Mavivi"]).area is None
    AreaName.objects.bulk_create(
        [AreaName(area=world.beni, name="Mavivi", folded="mavivi", kind="alias")]
    )  # no signal
    assert resolve_place(world.mission, ["Mavivi"]).area is None  # still cached
    monkeypatch.setattr(placing, "CHECK_EVERY", 0)
    assert resolve_place(world.mission, ["Mavivi"]).area == world.beni


def test_a_deleted_area_is_not_returned(world):
    area = make_area(world.mission, "CD61010101004", 5, "Mbau", world.beni.parent)
    assert resolve_place(world.mission, ["Mbau"]).area == area
    # Deleted behind the cache's back (no signal), as by another process.
    AreaName.objects.filter(area=area)._raw_delete(AreaName.objects.db)
    Area.objects.filter(pk=area.pk)._raw_delete(Area.objects.db)
    assert resolve_place(world.mission, ["Mbau"]).area is None


# Understanding whole messages ------------------------------------------------------------------


def test_understand_a_structured_french_alert(world):
    understood = understand(world.mission, "ALERTE BENI attaque hommes armés")
    assert understood == Understanding(
        language="fr",
        keyword="ALERTE",
        structured=True,
        threat=Threat.ATTACK,
        level_code=None,
        place_text="BENI",
        area=world.beni,
        place_method=Method.NAME,
        place_confidence=0.95,
        review_reasons=[],
    )


@pytest.mark.parametrize(
    "text, language, town, threat, level",
    [
        ("ALERT Butembo clash heavy gunfire", "en", "butembo", Threat.CLASH, None),
        ("HATARI Bunia shambulio watu wenye silaha haraka", "sw", "bunia", Threat.ATTACK, "c"),
        ("LIKAMA Beni bitumba", "ln", "beni", Threat.CLASH, None),
        ("BELA Butembo bîrä", "sg", "butembo", Threat.CLASH, None),
        ("إنذار بيني هجوم مسلح", "ar", "beni", Threat.ATTACK, None),
        ("*ALLERTE*: Butembbo, enlèvement!!", "fr", "butembo", Threat.ABDUCTION, None),
        ("SOS Beniii viol", "fr", "beni", Threat.SEXUAL_VIOLENCE, "c"),
        ("Il y a eu des tirs à Butembo cette nuit", "fr", "butembo", Threat.CLASH, None),
        ("ALERTE pillage à Bunia", "fr", "bunia", Threat.LOOTING, None),
    ],
)
def test_understand_across_languages(world, text, language, town, threat, level):
    understood = understand(world.mission, text)
    assert understood.language == language
    assert understood.area == getattr(world, town)
    assert understood.threat == threat
    assert understood.level_code == ("critical" if level else None)
    assert understood.review_reasons == []


def test_understand_flags_what_a_person_must_check(world):
    understood = understand(world.mission, "ALERTE Xyzzy il se passe quelque chose")
    assert understood.structured and understood.place_text == "Xyzzy"
    assert understood.threat == Threat.OTHER
    assert understood.review_reasons == ["threat", "place"]
    understood = understand(world.mission, "ALERTE Beni")
    assert understood.review_reasons == ["threat"]
    for text in ("", "🙂🙂🙂", "?!", "asdkjh qwe"):
        understood = understand(world.mission, text)
        assert understood.review_reasons == ["unreadable", "threat", "place"], text
        assert understood.place_method == Method.NONE


def test_understand_falls_back_on_the_contact_home(world):
    contact = contact_at(world, world.butembo)
    understood = understand(world.mission, "les gens fuient", contact)
    assert understood.area == world.butembo
    assert understood.place_method == Method.CONTACT_HOME
    assert understood.place_confidence == 0.5
    assert understood.place_text == ""
    assert understood.review_reasons == ["place"]
    garbage = understand(world.mission, "asdkjh qwe", contact)
    assert garbage.area == world.butembo
    assert garbage.review_reasons == ["unreadable", "threat", "place"]


def test_understand_uses_the_contact_language_for_a_tie(world):
    contact = contact_at(world, world.beni)
    contact.language = "en"
    assert understand(world.mission, "SOS Beni", contact).language == "en"
    assert understand(world.mission, "SOS Beni").language == "fr"  # the mission's first


def test_understand_keeps_the_message_when_reading_fails(world, caplog):
    with mock.patch("kiungo.alerts.understanding.parse_sms", side_effect=ValueError("bug")):
        understood = understand(world.mission, "ALERTE Beni attaque")
    assert understood.review_reasons == ["unreadable", "threat", "place"]
    assert understood.area is None
    assert "not understood" in caplog.text
    with (
        mock.patch("kiungo.alerts.understanding.parse_sms", side_effect=ValueError("bug")),
        pytest.raises(ValueError),
    ):
        interpret(world.mission, "ALERTE Beni attaque")  # what tests see


def test_understand_long_and_strange_texts(world):
    texts = [
        "ALERTE Beni attaque " + "x" * 10_000,
        "é" * 10_000,
        "\u202e\u200fبيني\u202c ALERTE",  # bidirectional controls
        "ALERTE\x00Beni\x07attaque",
        "ﷺ" * 3000,  # expands a lot when folded
        "🔥 ALERTE 🔥 Beni 🔫 attaque",
    ]
    for text in texts:
        _valid(interpret(world.mission, text))
    assert interpret(world.mission, "🔥 ALERTE 🔥 Beni 🔫 attaque").area == world.beni
    assert interpret(world.mission, "ALERTE\x00Beni\x07attaque").area == world.beni


def test_understand_in_the_other_mission(world):
    understood = understand(world.other_mission, "khatar Juba hujum")
    assert understood.area.name == "Juba"
    assert understood.language == "ar"
    assert understand(world.other_mission, "ALERTE Beni attaque").area is None


# Properties ------------------------------------------------------------------------------------


def _valid(understood):
    assert isinstance(understood, Understanding)
    assert understood.threat in Threat.values
    assert understood.place_method in Method.values
    assert understood.language in (*LANGUAGES, "")
    assert understood.level_code in (None, "critical")
    assert 0 <= understood.place_confidence <= 1
    assert set(understood.review_reasons) <= {"unreadable", "threat", "place"}
    assert (understood.area is None) == (understood.place_method == Method.NONE)


WORDS = sorted(
    {word for words in KEYWORDS.values() for word in words}
    | {word for words in LEVEL_WORDS.values() for word in words}
    | {w.strip("*") for by in THREAT_WORDS.values() for words in by.values() for w in words}
    | {"Beni", "BENI", "Butembbo", "Bunia", "بيني", "Juba", "CD61010101001", "Kaga Bandoro"}
)
SEPARATORS = st.sampled_from([" ", ", ", ": ", "*", "!!", "\n", "-", "،", " 🙂 "])
FIXTURE_OK = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FIXTURE_OK
@given(text=st.text())
def test_understanding_never_fails_on_any_text(world, text):
    _valid(interpret(world.mission, text))


@FIXTURE_OK
@given(parts=st.lists(st.tuples(st.sampled_from(WORDS), SEPARATORS), max_size=10))
def test_understanding_never_fails_on_vocabulary_soup(world, parts):
    text = "".join(word + separator for word, separator in parts)
    _valid(interpret(world.mission, text))


def test_a_mission_without_places(db):
    mission = Mission.objects.create(
        code="EMPTY", name="Empty", country="CF", time_zone="Africa/Bangui"
    )
    install_default_policy(mission)
    understood = understand(mission, "ALERTE Bangui attaque")
    _valid(understood)
    assert understood.area is None and understood.threat == Threat.ATTACK
