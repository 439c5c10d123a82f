"""Reading alert SMS in French, English, Swahili, Lingala, Sango and Arabic (no database)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiungo.alerts.parsing import (
    COMMON_WORDS,
    KEYWORDS,
    LANGUAGES,
    LEVEL_WORDS,
    THREAT_WORDS,
    parse_sms,
    split,
)
from kiungo.alerts.taxonomy import Threat

# Structured codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, language, keyword, place, threat",
    [
        ("ALERTE BENI attaque hommes armés", "fr", "ALERTE", "BENI", Threat.ATTACK),
        ("ALERT Butembo clash heavy gunfire", "en", "ALERT", "Butembo", Threat.CLASH),
        ("HATARI Oicha shambulio watu wenye silaha", "sw", "HATARI", "Oicha", Threat.ATTACK),
        ("LIKAMA Beni bitumba", "ln", "LIKAMA", "Beni", Threat.CLASH),
        ("KEBA Bunia bayibi bayibaki bilei", "ln", "KEBA", "Bunia", Threat.LOOTING),
        ("BELA Kaga-Bandoro bîrä", "sg", "BELA", "Kaga-Bandoro", Threat.CLASH),
        ("SIONI Bambari azo a kpë", "sg", "SIONI", "Bambari", Threat.DISPLACEMENT),
        ("إنذار ملكال هجوم مسلح", "ar", "إنذار", "ملكال", Threat.ATTACK),
        ("تنبيه جوبا اشتباكات", "ar", "تنبيه", "جوبا", Threat.CLASH),
        ("khatar Juba hujum", "ar", "khatar", "Juba", Threat.ATTACK),
        ("TAHADHARI Mangina mapigano makali", "sw", "TAHADHARI", "Mangina", Threat.CLASH),
        ("EMERGENCY Bor looting of the market", "en", "EMERGENCY", "Bor", Threat.LOOTING),
    ],
)
def test_structured_codes_in_six_languages(text, language, keyword, place, threat):
    parsed = parse_sms(text)
    assert parsed.structured
    assert parsed.keyword == keyword
    assert parsed.language == language
    assert parsed.place_text == place
    assert parsed.place_candidates[-1] == place.split()[0] or parsed.place_candidates == (place,)
    assert parsed.threat == threat


def test_a_place_of_several_words_is_offered_longest_first():
    parsed = parse_sms("ALERTE Kaga Bandoro pillage du marché")
    assert parsed.place_candidates == ("Kaga Bandoro", "Kaga")
    parsed = parse_sms("ALERTE Mont Ngafula enlèvement")
    assert parsed.place_candidates == ("Mont Ngafula", "Mont")
    parsed = parse_sms("ALERTE Territoire de Beni massacre")
    assert parsed.place_candidates == ("Territoire de Beni", "Territoire")
    assert parse_sms("ALERTE Beni de nuit").place_text == "Beni"  # no dangling "de"


def test_place_words_stop_at_numbers_threats_and_common_words():
    assert parse_sms("ALERTE Beni 5 morts attaque").place_candidates == ("Beni",)
    assert parse_sms("ALERTE Beni hommes armés").place_candidates == ("Beni",)
    assert parse_sms("ALERTE à Beni: attaque").place_candidates == ("Beni",)
    assert parse_sms("ALERT in Butembo shooting").place_candidates == ("Butembo",)
    assert parse_sms("HATARI huko Oicha").place_candidates == ("Oicha",)


def test_a_p_code_is_a_place_word():
    parsed = parse_sms("ALERTE CD61010101001 attaque")
    assert parsed.place_candidates == ("CD61010101001",)
    assert "CD61010101001" in parse_sms("attaque CD61010101001").other_candidates


def test_place_written_after_the_threat_is_still_a_candidate():
    parsed = parse_sms("ALERTE attaque à Beni")
    assert parsed.structured and parsed.place_candidates == ()
    assert parsed.threat == Threat.ATTACK
    assert parsed.other_candidates == ("Beni",)


@pytest.mark.parametrize(
    "text, keyword",
    [
        ("alerte Beni attaque", "alerte"),
        ("Alerte, Beni, attaque", "Alerte"),
        ("*ALERTE*: Beni attaque", "ALERTE"),
        ("#ALERTE!!! Beni attaque", "ALERTE"),
        ("« ALERTE » Beni attaque", "ALERTE"),
        ("ALÉRTE Beni attaque", "ALÉRTE"),
        ("ALLERTE Beni attaque", "ALLERTE"),
        ("ALRTE Beni attaque", "ALRTE"),
        ("ALERTTE Beni attaque", "ALERTTE"),
        ("HATAR Beni shambulio", "HATAR"),
        ("hatarii Beni shambulio", "hatarii"),
        ("Alrt Beni attack", "Alrt"),
        ("  \n ALERTE\tBeni attaque", "ALERTE"),
        ("URGENT ALERTE Beni attaque", "ALERTE"),  # a level word may come first
        ("ALERTE:Beni;attaque", "ALERTE"),
    ],
)
def test_keywords_tolerate_case_accents_punctuation_and_slips(text, keyword):
    parsed = parse_sms(text)
    assert parsed.structured
    assert parsed.keyword == keyword
    assert parsed.place_text == "Beni"


@pytest.mark.parametrize(
    "text",
    [
        "Aller à Beni demain",
        "ALORS il y a des tirs à Beni",
        "Halte aux violences à Beni",
        "Allez voir à Beni",
        "Salut, des tirs à Beni",
        "Alertez la MONUSCO: tirs à Beni",  # a verb, not the code
        "Hata Beni kuna mapigano",  # Swahili "even", one letter from HATARI's slip
        "Kebe Beni",
        "Bella Beni",
        "Beni attaque",
        "Emergence d'un groupe armé à Beni",
        "Albert a été tué à Beni",  # a name one letter from ALERT
    ],
)
def test_ordinary_words_are_not_keywords(text):
    parsed = parse_sms(text)
    assert not parsed.structured
    assert parsed.keyword == ""


# Threats ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words, threat",
    [
        # French
        ("attaque des hommes armés", Threat.ATTACK),
        ("ils ont attaqué le village", Threat.ATTACK),
        ("massacre de civils", Threat.ATTACK),
        ("affrontements entre groupes armés", Threat.CLASH),
        ("combats violents", Threat.CLASH),
        ("coups de feu entendus", Threat.CLASH),
        ("enlèvement de 5 personnes", Threat.ABDUCTION),
        ("kidnapping du chef", Threat.ABDUCTION),
        ("viol de deux femmes", Threat.SEXUAL_VIOLENCE),
        ("violences sexuelles signalées", Threat.SEXUAL_VIOLENCE),
        ("explosion au marché", Threat.EXPLOSION),
        ("une bombe sur la route", Threat.EXPLOSION),
        ("engin explosif sur la route", Threat.EXPLOSION),
        ("pillage des boutiques", Threat.LOOTING),
        ("maisons incendiées", Threat.LOOTING),
        ("déplacement de la population", Threat.DISPLACEMENT),
        ("les gens fuient", Threat.DISPLACEMENT),
        ("menace d'attaque", Threat.THREAT),
        ("rumeur d'incursion", Threat.THREAT),
        # English
        ("attack on the village", Threat.ATTACK),
        ("armed men killed three farmers", Threat.ATTACK),
        ("clash between militias", Threat.CLASH),
        ("heavy gunfire", Threat.CLASH),
        ("abduction of children", Threat.ABDUCTION),
        ("two women kidnapped", Threat.ABDUCTION),
        ("rape reported", Threat.SEXUAL_VIOLENCE),
        ("sexual violence against girls", Threat.SEXUAL_VIOLENCE),
        ("explosion near the bridge", Threat.EXPLOSION),
        ("landmine on the road", Threat.EXPLOSION),
        ("IED found", Threat.EXPLOSION),
        ("looting of the market", Threat.LOOTING),
        ("displacement of families", Threat.DISPLACEMENT),
        ("people fleeing to the forest", Threat.DISPLACEMENT),
        ("threat against the school", Threat.THREAT),
        ("rumour of an attack", Threat.THREAT),
        # Swahili
        ("shambulio la watu wenye silaha", Threat.ATTACK),
        ("walishambulia kijiji", Threat.ATTACK),
        ("mapigano makali", Threat.CLASH),
        ("utekaji wa watoto", Threat.ABDUCTION),
        ("wanawake wamebakwa", Threat.SEXUAL_VIOLENCE),
        ("ubakaji", Threat.SEXUAL_VIOLENCE),
        ("mlipuko sokoni", Threat.EXPLOSION),
        ("uporaji wa mali", Threat.LOOTING),
        ("wakimbizi wengi", Threat.DISPLACEMENT),
        ("watu wanakimbia", Threat.DISPLACEMENT),
        ("tishio la waasi", Threat.THREAT),
        # Lingala
        ("bitumba makasi", Threat.CLASH),
        ("babomi bato", Threat.ATTACK),
        ("bayibi bayibaki", Threat.LOOTING),
        ("bato bakimi", Threat.DISPLACEMENT),
        # Arabic, in Arabic letters and in Juba Arabic's Latin ones
        ("هجوم مسلح", Threat.ATTACK),
        ("الهجوم على القرية", Threat.ATTACK),  # with the article
        ("اشتباكات عنيفة", Threat.CLASH),
        ("اختطاف اطفال", Threat.ABDUCTION),
        ("اغتصاب", Threat.SEXUAL_VIOLENCE),
        ("انفجار لغم", Threat.EXPLOSION),
        ("نهب السوق", Threat.LOOTING),
        ("نزوح السكان", Threat.DISPLACEMENT),
        ("تهديد", Threat.THREAT),
        ("hujum fi gariya", Threat.ATTACK),
        # Sango
        ("bîrä", Threat.CLASH),
        ("azo a kpë", Threat.DISPLACEMENT),
    ],
)
def test_threat_words_map_to_the_taxonomy(words, threat):
    assert parse_sms(words).threat == threat
    assert parse_sms(f"ALERTE Beni {words}").threat == threat


@pytest.mark.parametrize(
    "words, threat",
    [
        ("attaqe", Threat.ATTACK),
        ("affrontement", Threat.CLASH),
        ("afrontements", Threat.CLASH),
        ("enlevements", Threat.ABDUCTION),
        ("kidnaping", Threat.ABDUCTION),
        ("explossion", Threat.EXPLOSION),
        ("pilage", Threat.LOOTING),
        ("deplacement", Threat.DISPLACEMENT),
        ("shambulo", Threat.ATTACK),
        ("ATTAQUE", Threat.ATTACK),
        ("Enlèvement", Threat.ABDUCTION),
    ],
)
def test_threat_words_tolerate_slips_and_case(words, threat):
    assert parse_sms(f"ALERTE Beni {words}").threat == threat


def test_every_threat_has_words_in_french_and_english():
    for threat in Threat:
        if threat == Threat.OTHER:
            continue
        assert THREAT_WORDS[threat]["fr"] and THREAT_WORDS[threat]["en"], threat


def test_no_threat_word_is_other():
    parsed = parse_sms("ALERTE Beni il se passe quelque chose")
    assert parsed.threat == Threat.OTHER
    assert parsed.threat_text == ""


def test_threat_is_looked_for_after_the_place_then_anywhere():
    parsed = parse_sms("ALERTE Beni attaque, les gens fuient")
    assert parsed.threat == Threat.ATTACK
    assert parsed.threat_text == "attaque"
    parsed = parse_sms("Des coups de feu à Beni")
    assert parsed.threat == Threat.CLASH
    assert parsed.threat_text == "coups de feu"


@pytest.mark.parametrize(
    "text",
    [
        "violent orage à Beni",  # not viol
        "violence verbale au marché",
        "robe violette",
        "attente au marché",  # not attaque
        "le village de Beni",  # one letter from pillage
        "theater in Butembo",  # one letter from a form of threat
        "réunion de paix à Beni",
        "bonne nouvelle",
    ],
)
def test_ordinary_words_are_not_threats(text):
    assert parse_sms(text).threat == Threat.OTHER


# Levels ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "URGENT ALERTE Beni attaque",
        "ALERTE Beni attaque urgent",
        "ALERTE URGENTE Beni attaque",
        "Urgence: attaque à Beni",
        "SOS Beni",
        "sos! tirs à Beni",
        "HATARI Oicha shambulio haraka",
        "DHARURA Oicha",
        "إنذار ملكال عاجل",
        "LIKAMA Beni bitumba noki noki",
        "EMERGENCY Bor",
        "URGENSE Beni attaque",  # a slip of a keyword that is also a level word
    ],
)
def test_level_words_make_an_alert_critical(text):
    assert parse_sms(text).level_code == "critical"


def test_no_level_word_no_level():
    assert parse_sms("ALERTE Beni attaque").level_code is None
    assert parse_sms("les gens fuient").level_code is None
    # Urgency words are not place words.
    assert parse_sms("ALERTE URGENT Beni attaque").place_text == "Beni"


# Free text -------------------------------------------------------------------------------------


def test_free_text_finds_threat_places_and_language():
    parsed = parse_sms("Il y a eu une attaque à Butembo cette nuit, les gens fuient vers Beni")
    assert not parsed.structured and parsed.keyword == ""
    assert parsed.threat == Threat.ATTACK
    assert parsed.language == "fr"
    assert parsed.place_candidates == ()
    assert parsed.place_text == ""
    assert "Butembo" in parsed.other_candidates and "Beni" in parsed.other_candidates
    assert parsed.other_candidates.index("Butembo") < parsed.other_candidates.index("Beni")
    # Vocabulary words are never offered as places.
    assert not {"attaque", "les", "cette", "fuient"} & set(parsed.other_candidates)


def test_free_text_windows_are_longest_first():
    parsed = parse_sms("tirs près de Kaga Bandoro ce matin")
    windows = parsed.other_candidates
    assert windows.index("Kaga Bandoro") < windows.index("Kaga")
    assert all(len(window.split()) <= 3 for window in windows)


@pytest.mark.parametrize(
    "text, language",
    [
        ("Des hommes armés dans le village", "fr"),
        ("Armed men in the village, people are afraid", "en"),
        ("Watu wenye silaha katika kijiji", "sw"),
        ("Bato mingi na mboka", "ln"),
        ("Azo ti kodro", "sg"),
        ("مسلحين في القرية", "ar"),
        ("السلام عليكم", "ar"),  # no known word: the script tells
        ("Beni Butembo", ""),
    ],
)
def test_language_of_free_text(text, language):
    assert parse_sms(text).language == language


def test_a_shared_keyword_takes_the_language_of_the_other_words_or_the_hints():
    assert parse_sms("SOS Beni attaque des hommes armés").language == "fr"
    assert parse_sms("SOS Beni attack by armed men").language == "en"
    assert parse_sms("SOS Beni").language == "fr"  # tie: French before English by default
    assert parse_sms("SOS Beni", languages=["en", "fr"]).language == "en"


def test_arabic_script_with_diacritics_and_letter_variants():
    parsed = parse_sms("إِنْذَار بيني هُجُوم")
    assert parsed.structured and parsed.keyword == "إِنْذَار"
    assert parsed.place_text == "بيني"
    assert parsed.threat == Threat.ATTACK
    assert parse_sms("انذار ملکال").place_text == "ملکال"  # hamza left out, Persian kaf


def test_original_text_is_kept_untouched():
    text = "  *ALERTE*: Béni — attaque!! "
    parsed = parse_sms(text)
    assert parsed.text is text
    assert parsed.place_text == "Béni"
    assert parsed.keyword == "ALERTE"


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂🙂", "!!!???", "\x00\x01\x02", "12345", "\u200f"])
def test_blank_texts(text):
    parsed = parse_sms(text)
    assert parsed.blank
    assert parsed.threat == Threat.OTHER
    assert parsed.place_candidates == () and parsed.other_candidates == ()


def test_garbage_is_not_recognised():
    parsed = parse_sms("asdkjh qwe zxcv")
    assert not parsed.blank and not parsed.recognised
    assert parsed.language == ""


def test_long_text_is_read_up_to_the_limit():
    parsed = parse_sms("ALERTE Beni attaque " + "bla " * 5000)
    assert parsed.structured and parsed.threat == Threat.ATTACK
    assert len(parsed.other_candidates) < 500


def test_split_keeps_hyphens_and_apostrophes_inside_words():
    chunks = split("N'Djamena, Kaga-Bandoro; 'Beni'")
    assert [chunk.text for chunk in chunks] == ["N'Djamena", "Kaga-Bandoro", "Beni"]
    assert chunks[1].words == ("kaga", "bandoro")


# Properties ------------------------------------------------------------------------------------

VOCABULARY_WORDS = sorted(
    {word for words in KEYWORDS.values() for word in words}
    | {word for words in LEVEL_WORDS.values() for word in words}
    | {
        word.strip("*")
        for by_language in THREAT_WORDS.values()
        for words in by_language.values()
        for word in words
    }
    | {word for words in COMMON_WORDS.values() for word in words}
    | {"Beni", "Butembo", "Kaga-Bandoro", "Mont Ngafula", "ملكال", "بيني", "CD61010101001"}
)
PUNCTUATION = st.sampled_from([" ", "  ", ", ", ": ", "*", "!", "\n", "-", "'", "،", "؟ "])


def _check(parsed, text):
    assert parsed.text == text
    assert parsed.threat in Threat.values
    assert parsed.language in (*LANGUAGES, "")
    assert parsed.level_code in (None, "critical")
    assert parsed.structured == bool(parsed.keyword)
    assert parsed.keyword == "" or parsed.keyword in text
    assert parsed.place_text == "" or parsed.place_text in text
    for candidate in (*parsed.place_candidates, *parsed.other_candidates):
        assert candidate and candidate in text and len(split(candidate)) <= 3


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parse_never_fails_on_any_text(text):
    _check(parse_sms(text), text)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(VOCABULARY_WORDS), PUNCTUATION, st.booleans()), max_size=12)
)
def test_parse_never_fails_on_vocabulary_soup(parts):
    text = "".join((word.upper() if upper else word) + sep for word, sep, upper in parts)
    _check(parse_sms(text), text)
