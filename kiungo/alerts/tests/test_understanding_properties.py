"""Bad input at scale: the SMS parser and the place resolver on any text, in six languages.

Property-based (hypothesis): arbitrary Unicode, vocabulary soup from the keyword, level, threat
and common-word tables of every language (Latin with accents, Arabic script, Swahili, Lingala
and Sango words), the test world's real place names and P-codes, random case, punctuation,
emoji, NUL and control characters, texts up to and beyond the 2,000 characters intake keeps.
Whatever the text: no exception, every field in its domain, the same answer twice, and the
taught code ``<KEYWORD> <place> <threat>`` placed and read correctly under any noise.

Bounded for the regular suite: a few hundred examples in all, a deadline per example (a
pathological input that makes parsing slow fails too), a few seconds per test.
"""

import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kiungo.alerts.models import Alert
from kiungo.alerts.parsing import (
    COMMON_WORDS,
    KEYWORDS,
    LANGUAGES,
    LEVEL_WORDS,
    PARSE_LIMIT,
    THREAT_WORDS,
    ParsedSMS,
    normalise,
    parse_sms,
    split,
)
from kiungo.alerts.placing import Placement, resolve_place
from kiungo.alerts.taxonomy import Threat
from kiungo.alerts.understanding import Understanding, interpret, understand
from kiungo.geography.models import Area
from kiungo.lib.text import fold
from kiungo.network.models import Contact

Method = Alert.PlaceMethod

# KIUNGO_FUZZ_SCALE=20 runs twenty times as many examples (a bug hunt, not the regular suite).
SCALE = max(1, int(os.environ.get("KIUNGO_FUZZ_SCALE", "1") or 1))
PURE = settings(max_examples=150 * SCALE, deadline=timedelta(seconds=1))
WITH_WORLD = settings(
    max_examples=60 * SCALE,
    deadline=timedelta(seconds=2),  # the first call of a test loads the place cache
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# Strategies ------------------------------------------------------------------------------------


def _bare(word: str) -> str:
    """A table entry as a person may type it: ``attaqu*`` -> ``attaqu``, ``*shambul*`` ->
    ``shambul``."""
    return word.strip("*")


VOCABULARY = sorted(
    {word for words in KEYWORDS.values() for word in words}
    | {word for words in LEVEL_WORDS.values() for word in words}
    | {_bare(w) for by in THREAT_WORDS.values() for words in by.values() for w in words}
    | {word for words in COMMON_WORDS.values() for word in words}
)
# The test world's places (kiungo.lib.testing.build_world): names, an Arabic alias, P-codes,
# places of the other mission, and near misses.
PLACE_WORDS = [
    "Beni",
    "Butembo",
    "Bunia",
    "Ituri",
    "Nord-Kivu",
    "North Kivu",
    "Territoire de Beni",
    "بيني",
    "Juba",
    "Central Equatoria",
    "Butembbo",
    "Bunya",
    "Benii",
    "CD61",
    "CD6101",
    "CD61010101001",
    "CD54010101001",
    "SS01010101001",
]
NOISE = [
    " ",
    "  ",
    "\n",
    "\r\n",
    "\t",
    "\x00",
    "\x07",
    "\x1b",
    "\u00a0",  # no-break space
    "\u200b",  # zero-width space
    "\u200f",  # right-to-left mark
    ",",
    ", ",
    ":",
    ";",
    ".",
    "...",
    "!!",
    "?",
    "*",
    "#",
    "/",
    "(",
    ")",
    "« ",
    " »",
    '"',
    "،",  # Arabic comma
    "؟",  # Arabic question mark
    "🔥",
    "🚨",
    " 🙂 ",
    "👮🏽\u200d♂️",
    "🇨🇩",
]
ACCENTED = {
    "a": "àâä",
    "e": "éèêë",
    "i": "îï",
    "o": "ôö",
    "u": "ùûü",
    "c": "ç",
    "A": "ÀÂ",
    "E": "ÉÈÊ",
    "I": "ÎÏ",
    "O": "Ô",
    "U": "ÛÜ",
}
ARABIC_MARKS = "\u064b\u064e\u064f\u0650\u0651\u0652\u0640"  # harakat, shadda, sukun, tatweel


@st.composite
def typed(draw, word: str) -> str:
    """`word` as typed on a phone: each letter in any case, some with accents (Latin) or
    vowel marks (Arabic)."""
    out = []
    for ch in word:
        choice = draw(st.integers(min_value=0, max_value=5))
        if ch in ACCENTED and choice == 0:
            ch = draw(st.sampled_from(ACCENTED[ch]))
        elif choice in (1, 2):
            ch = ch.upper()
        elif choice == 3:
            ch = ch.lower()
        out.append(ch)
        if "\u0621" <= ch <= "\u064a" and choice == 4:
            out.append(draw(st.sampled_from(ARABIC_MARKS)))
    return "".join(out)


def _noise(min_size=1):
    return st.lists(st.sampled_from(NOISE), min_size=min_size, max_size=3).map("".join)


pcode_like = st.from_regex(r"\A[A-Za-z]{2}[0-9]{1,13}[A-Za-z0-9]{0,3}\Z") | st.from_regex(
    r"\A[0-9]{1,15}\Z"
)
word = st.one_of(
    st.sampled_from(VOCABULARY).flatmap(typed),
    st.sampled_from(PLACE_WORDS).flatmap(typed),
    pcode_like,
    st.text(max_size=12),
    st.text(st.characters(codec="utf-8", categories=["L", "M", "N"]), max_size=10),
)
soup = st.lists(st.tuples(word, _noise()), max_size=25).map(
    lambda parts: "".join(w + n for w, n in parts)
)
# Long texts: a soup repeated up to well past the limit, or one long run of anything.
long_text = st.one_of(
    st.tuples(soup, st.integers(min_value=1, max_value=400)).map(lambda pair: pair[0] * pair[1]),
    st.text(min_size=PARSE_LIMIT - 50, max_size=PARSE_LIMIT + 50),
)
texts = st.one_of(
    st.text(),
    st.text(st.characters(codec="utf-8")),  # every plane, surrogates excluded
    st.text(st.characters(min_codepoint=0, max_codepoint=0x1F)),  # control characters only
    soup,
    long_text,
)


# The parser --------------------------------------------------------------------------------------


def _check_parsed(parsed: ParsedSMS, text: str):
    source = text[:PARSE_LIMIT]
    assert isinstance(parsed, ParsedSMS)
    assert parsed.text == text  # as received, untouched
    assert parsed.language in (*LANGUAGES, "")
    assert parsed.threat in Threat.values
    assert parsed.level_code in (None, "critical")
    assert parsed.structured == bool(parsed.keyword)
    assert isinstance(parsed.recognised, bool) and isinstance(parsed.blank, bool)
    # Everything it quotes is a piece of what was read, as typed.
    for piece in (parsed.keyword, parsed.threat_text, parsed.place_text):
        assert piece in source
    assert bool(parsed.threat_text) == (parsed.threat != Threat.OTHER)
    for candidate in (*parsed.place_candidates, *parsed.other_candidates):
        assert candidate and candidate in source
    assert parsed.place_text == (parsed.place_candidates[0] if parsed.place_candidates else "")
    lengths = [len(candidate) for candidate in parsed.place_candidates]
    assert lengths == sorted(lengths, reverse=True)
    assert len(set(parsed.other_candidates)) == len(parsed.other_candidates)
    if not any(ch.isalpha() for ch in source):
        assert parsed.blank


@PURE
@given(text=texts)
def test_parsing_any_text_keeps_every_field_in_its_domain(text):
    _check_parsed(parse_sms(text), text)


@PURE
@given(text=texts, hints=st.lists(st.sampled_from([*LANGUAGES, "xx", ""]), max_size=3))
def test_parsing_is_deterministic(text, hints):
    first = parse_sms(text, hints)
    assert parse_sms(text, hints) == first
    assert parse_sms(str(text), list(hints)) == first  # a copy of the same input


@PURE
@given(text=long_text)
def test_only_the_first_2000_characters_are_read(text):
    assume(len(text) > PARSE_LIMIT)
    full, cut = parse_sms(text), parse_sms(text[:PARSE_LIMIT])
    assert full.text == text
    assert full == ParsedSMS(**{**cut.__dict__, "text": text})


@PURE
@given(text=texts)
def test_split_gives_ordered_pieces_of_the_text(text):
    end = 0
    for chunk in split(text):
        assert end <= chunk.start < chunk.end <= len(text)
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.words and all(chunk.words)
        end = chunk.end


@PURE
@given(value=st.one_of(st.none(), st.integers(), st.binary(), st.lists(st.text())))
def test_a_text_that_is_not_a_string_reads_as_blank(value):
    parsed = parse_sms(value)
    assert parsed.blank and not parsed.structured and parsed.threat == Threat.OTHER


# The taught code, under noise ------------------------------------------------------------------


def _threat_words():
    """(word as written in the table, Threat) for every threat word of every language."""
    return sorted(
        (_bare(word), Threat(threat))
        for threat, by_language in THREAT_WORDS.items()
        for words in by_language.values()
        for word in words
    )


KEYWORD_LIST = sorted({word for words in KEYWORDS.values() for word in words})
# Place as written -> the P-code of the area it names in the test world's mission.
PLACES = {
    "Beni": "CD61010101001",
    "Butembo": "CD61020101001",
    "Bunia": "CD54010101001",
    "Ituri": "CD54",
    "North Kivu": "CD61",
    "Nord-Kivu": "CD61",
    "Territoire de Beni": "CD6101",
    "بيني": "CD61010101001",
    "CD61010101001": "CD61010101001",
    "cd61020101001": "CD61020101001",
    "CD5401": "CD5401",
}
LEVEL_LIST = sorted(
    {word for words in LEVEL_WORDS.values() for word in words}
    - {word.casefold() for words in KEYWORDS.values() for word in words}
)


@st.composite
def coded(draw):
    """``[noise][LEVEL ]KEYWORD place threat[ noise and anything]``, as (text, place, threat,
    level word or "")."""
    keyword = draw(st.sampled_from(KEYWORD_LIST).flatmap(typed))
    place = draw(st.sampled_from(sorted(PLACES)))
    threat_word, threat = draw(st.sampled_from(_threat_words()))
    level = draw(st.one_of(st.just(""), st.sampled_from(LEVEL_LIST).flatmap(typed)))
    # Before the keyword: nothing that reads as a word; between words: separators; after the
    # threat: anything at all, once separated from it.
    lead = draw(_noise(min_size=0))
    gaps = [draw(_noise()) for _ in range(3)]
    tail = draw(st.one_of(st.just(""), soup, st.text(max_size=40)))
    typed_place = place if place.startswith(("CD", "cd")) else draw(typed(place))
    text = (
        lead
        + (level + gaps[0] if level else "")
        + keyword
        + gaps[1]
        + typed_place
        + gaps[2]
        + draw(typed(threat_word))
        + (draw(_noise()) + tail if tail else "")
    )
    return text, place, threat, level


@PURE
@given(case=coded())
def test_the_taught_code_is_read_whatever_the_case_accents_and_noise(case):
    text, place, threat, level = case
    parsed = parse_sms(text)
    _check_parsed(parsed, text)
    assert parsed.structured, text
    assert parsed.threat == threat, (text, parsed.threat)
    if level:
        assert parsed.level_code == "critical"
    assert normalise(fold(parsed.place_text)) == normalise(fold(place)), (text, parsed.place_text)


@WITH_WORLD
@given(case=coded())
def test_the_taught_code_is_placed_whatever_the_case_accents_and_noise(world, case):
    text, place, threat, _level = case
    understood = interpret(world.mission, text)
    _valid(understood)
    assert understood.area is not None, text
    assert understood.area.pcode == PLACES[place], (text, understood.area.pcode)
    assert understood.place_method in (Method.NAME, Method.PCODE), text
    assert understood.threat == threat, text
    assert understood.structured


# The place resolver ----------------------------------------------------------------------------


def _valid_placement(placement: Placement, mission):
    assert isinstance(placement, Placement)
    assert placement.method in Method.values
    assert 0 <= placement.confidence <= 1
    assert (placement.area is None) == (placement.method == Method.NONE)
    if placement.area is not None:
        assert placement.area.mission_id == mission.pk  # never a place of another mission


candidates = st.lists(st.one_of(word, texts, st.none(), st.integers()), max_size=6)


@WITH_WORLD
@given(words=candidates, more=candidates, with_contact=st.booleans())
def test_resolving_any_candidates_never_fails_and_stays_in_the_mission(
    world, words, more, with_contact
):
    contact = _contact(world) if with_contact else None
    for mission in (world.mission, world.other_mission):
        placement = resolve_place(mission, words, contact, more=more)
        _valid_placement(placement, mission)
        again = resolve_place(mission, list(words), contact, more=list(more))
        assert (again.area, again.method, again.confidence, again.text) == (
            placement.area,
            placement.method,
            placement.confidence,
            placement.text,
        )


@WITH_WORLD
@given(data=st.data())
def test_a_p_code_is_found_whatever_its_case_and_separators(world, data):
    area = data.draw(st.sampled_from(list(Area.objects.filter(mission=world.mission))))
    pcode = "".join(
        data.draw(st.sampled_from([ch.upper(), ch.lower()]))
        + data.draw(st.sampled_from(["", "", "", " ", "-"]))
        for ch in area.pcode
    )
    placement = resolve_place(world.mission, [pcode])
    assert (placement.area, placement.method, placement.confidence) == (area, Method.PCODE, 1.0)


# Understanding: the whole path the intake takes ----------------------------------------------


def _valid(understood: Understanding):
    assert isinstance(understood, Understanding)
    assert understood.threat in Threat.values
    assert understood.place_method in Method.values
    assert understood.language in (*LANGUAGES, "")
    assert understood.level_code in (None, "critical")
    assert 0 <= understood.place_confidence <= 1
    assert set(understood.review_reasons) <= {"unreadable", "threat", "place"}
    assert (understood.area is None) == (understood.place_method == Method.NONE)


def _contact(world):
    contact = Contact.objects.filter(mission=world.mission).first()
    if contact is None:
        contact = Contact.objects.create(
            mission=world.mission, code="NK-BEN-001", home_locality=world.beni, language="sw"
        )
    return contact


@WITH_WORLD
@given(text=texts, with_contact=st.booleans())
def test_understanding_never_fails_and_answers_the_same_twice(world, caplog, text, with_contact):
    contact = _contact(world) if with_contact else None
    caplog.clear()
    for mission in (world.mission, world.other_mission, None):
        # `interpret` is `understand` without its safety net: a bug raises here.
        understood = interpret(mission, text, contact)
        _valid(understood)
        assert understand(mission, text, contact) == understood
        if understood.area is not None:
            assert understood.area.mission_id == mission.pk
    assert "not understood" not in caplog.text


@pytest.mark.parametrize(
    "text",
    ["\x00" * 3000, "ALERTE\x00Beni\x00attaque " * 120, "🔥" * 2500, "ا" * 2001],
    ids=["nul", "code-repeated", "emoji", "arabic-letter"],
)
def test_understanding_extreme_texts(world, text):
    _valid(interpret(world.mission, text))
