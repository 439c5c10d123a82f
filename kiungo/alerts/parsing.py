"""Reading an alert SMS: keyword, place words, threat, urgency and language. Pure: no database.

Community contacts are taught a code, ``<KEYWORD> <place> <what happened...>``, for instance
``ALERTE Beni attaque hommes armés`` or ``HATARI Oicha shambulio``; many still write freely.
`parse_sms` reads both, from a folded copy (`kiungo.lib.text.fold`: no case, accents or
punctuation); the original text is never changed. It finds:

- the keyword, when the message starts with one (a level word such as URGENT may come first),
  tolerating small misspellings (ALLERTE, ALRTE, HATAR);
- the place words that follow it, up to three (``Kaga Bandoro``, ``Mont Ngafula``), as
  candidates for `kiungo.alerts.placing.resolve_place`, longest first, plus every other one- to
  three-word window of the text, in case the place was written elsewhere;
- the first threat word, mapped to the taxonomy (light tolerance: plural and verb forms
  through stems, one-letter slips in longer words);
- whether the text asks for urgency (URGENT, SOS, haraka, عاجل...);
- the language, from the words recognised (or the script, for Arabic).

All the vocabulary is in the tables below (`KEYWORDS`, `LEVEL_WORDS`, `THREAT_WORDS`,
`COMMON_WORDS`): a mission extends them there. Words are written naturally (accents, Arabic
hamza) and folded when the module loads. A trailing ``*`` makes a stem (``attaqu*``: attaque,
attaqués, attaquent), ``*...*`` a stem found inside a word (Swahili verbs carry prefixes:
``*shambul*`` reads walishambulia), and spaces a phrase (``coups de feu``).
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from kiungo.alerts.taxonomy import Threat
from kiungo.lib.text import fold

LANGUAGES = ("fr", "en", "sw", "ln", "sg", "ar")

PARSE_LIMIT = 2000  # characters read; intake keeps no more of a message either
WINDOW_CHUNKS = 80  # words of free text searched for a place
MAX_PLACE_WORDS = 3

# Keywords that open a structured alert, per language. Missions teach one or two of these; the
# others are there because people use them anyway.
# fmt: off
KEYWORDS: dict[str, tuple[str, ...]] = {
    "fr": ("ALERTE", "URGENCE", "SOS"),
    "en": ("ALERT", "EMERGENCY", "SOS"),
    "sw": ("HATARI", "TAHADHARI", "DHARURA"),  # danger, caution, emergency
    "ln": ("LIKAMA", "KEBA", "LISUNGI"),  # danger/misfortune, watch out!, help
    # Sango has no established alert keyword, and in the CAR most people text the French ALERTE.
    # SIONI ("bad, evil", sïönî) and KPALE ("problem", kpälë) are Sango words; BELA is only a
    # code convention a mission may choose to teach (no meaning claimed). To be confirmed with
    # the mission's Sango-speaking community liaison assistants.
    "sg": ("SIONI", "KPALE", "BELA"),
    # Standard Arabic (warning, alert, danger, emergency), then Juba Arabic in Latin letters
    # (khatar "danger", inzar "warning": spellings vary; a mission should add the ones it sees).
    "ar": ("إنذار", "تنبيه", "خطر", "طوارئ", "khatar", "inzar"),
}

# Words that make an alert "critical" wherever they appear.
LEVEL_WORDS: dict[str, tuple[str, ...]] = {
    "fr": ("urgent", "urgente", "urgents", "urgentes", "urgence", "sos"),
    "en": ("urgent", "urgently", "emergency", "sos", "asap"),
    "sw": ("haraka", "dharura", "upesi"),
    "ln": ("noki",),  # "noki noki": quickly
    "sg": ("hïo",),  # quickly (to be confirmed)
    "ar": ("عاجل", "طوارئ", "ajil", "3ajil"),
}

# Threat words per taxonomy value and language. French and English are the reference; the
# Swahili, Lingala, Sango and Arabic lists are a careful start, to be reviewed by speakers
# (Lingala and Sango above all: most of their entries are marked "to confirm").
THREAT_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    Threat.ATTACK: {
        "fr": ("attaqu*", "assassin*", "massacr*", "meurtre*", "tuerie*", "tué", "tués", "tuée",
               "tuées", "incursion*", "agression*", "embuscade*"),
        "en": ("attack*", "kill", "killed", "killing*", "massacre*", "murder*", "raid", "raids",
               "raided", "ambush*", "assault", "assaulted"),
        "sw": ("shambulio", "mashambulizi", "shambulizi", "*shambul*", "mauaji", "kuua", "wameua",
               "waliua", "wameuawa", "waliuawa", "*vamia*", "*vamiwa*"),
        "ln": ("koboma", "bobomi", "babomi", "babomaki", "kobundela"),  # kill...; to confirm
        "sg": ("fâ zo", "afâ azo"),  # "kill people"; to confirm
        "ar": ("هجوم", "هجمات", "قتل", "مقتل", "مجزرة", "hujum", "hujuum"),
    },
    Threat.CLASH: {
        "fr": ("affront*", "combat*", "tir", "tirs", "fusillade*", "accrochage*", "bataille*",
               "guerre", "coups de feu", "coup de feu", "échange* de tirs"),
        "en": ("clash*", "fighting", "fight", "fights", "gunfire", "gunshot*", "shooting*",
               "shots", "firefight*", "battle*", "crossfire", "skirmish*", "exchange of fire"),
        "sw": ("mapigano", "mapambano", "vita", "risasi", "milio ya risasi"),
        "ln": ("bitumba", "etumba", "kobunda", "babundi", "masasi"),  # war, battle, fight, bullets
        "sg": ("bîrä",),  # war
        "ar": ("اشتباك*", "قتال", "معارك", "معركة", "إطلاق نار", "ishtibak", "gital", "kital"),
    },
    Threat.ABDUCTION: {
        "fr": ("enlev*", "enlèv*", "kidnap*", "rapt", "rapts", "otage*", "séquestr*"),
        "en": ("abduct*", "kidnap*", "hostage*"),
        "sw": ("utekaji", "kuteka", "wameteka", "waliteka", "*tekwa*", "teka nyara"),
        "ln": ("kokanga bato", "bakangi bato", "bakangaki bato"),  # "seize people"; to confirm
        "sg": ("gbû azo", "agbû azo"),  # "seize people"; to confirm
        "ar": ("خطف", "اختطاف", "مخطوف*", "khatf", "khatif", "khutuf"),
    },
    Threat.SEXUAL_VIOLENCE: {
        "fr": ("viol", "viols", "violé", "violée", "violés", "violées", "violer",
               "violence* sexuel*", "abus sexuel*", "vbg", "vsbg"),
        "en": ("rape", "raped", "rapes", "raping", "rapist*", "sexual violence",
               "sexual assault*", "sexual abuse", "gbv", "sgbv"),
        "sw": ("ubakaji", "kubaka", "wamebaka", "walibaka", "kubakwa", "wamebakwa", "walibakwa",
               "amebakwa", "alibakwa"),  # not *bakwa*: Bakwa and Bakwanga are DR Congo towns
        "ln": ("kobebisa basi", "kobebisa mwasi"),  # "spoil women", a euphemism; to confirm
        "sg": ("viol",),  # the French word is used
        "ar": ("اغتصاب", "ightisab"),
    },
    Threat.EXPLOSION: {
        "fr": ("explos*", "bombe*", "bombard*", "mine", "mines", "obus", "roquette*",
               "grenade*", "mortier*", "eei", "engin* explosi*"),
        "en": ("explos*", "bomb", "bombs", "bombing*", "bombed", "landmine*", "mine", "mines",
               "ied", "ieds", "grenade*", "mortar*", "rocket*", "shelling", "uxo"),
        "sw": ("mlipuko", "milipuko", "*lipuk*", "bomu", "mabomu", "guruneti"),
        "ln": ("bombe", "mine"),
        "sg": ("bombe",),
        "ar": ("انفجار", "تفجير", "قنبلة", "قنابل", "لغم", "ألغام", "عبوة ناسفة", "infijar"),
    },
    Threat.LOOTING: {
        "fr": ("pillag*", "pillé", "pillés", "pillée", "pillées", "piller", "pillent", "vol",
               "vols", "volé", "volés", "volée", "volées", "incendi*", "brûl*", "racket*",
               "extorsion*", "cambriol*"),
        "en": ("loot*", "pillag*", "theft", "stolen", "stole", "robbery", "robbed", "arson",
               "burned", "burnt", "torched", "extortion"),
        "sw": ("uporaji", "kupora", "wamepora", "walipora", "*porwa*", "wizi", "kuiba",
               "wameiba", "waliiba", "unyang'anyi", "kuchoma", "wamechoma", "walichoma"),
        "ln": ("koyiba", "bayibi", "bayibaki", "boyibi"),  # steal, thieves, theft
        "sg": ("nzï", "anzï"),  # steal
        "ar": ("نهب", "سلب", "سرقة", "حرق", "nahab", "nihib"),
    },
    Threat.DISPLACEMENT: {
        "fr": ("déplac*", "fuite", "fuient", "fuir", "fui", "fuyant*", "réfugi*", "exode"),
        "en": ("displace*", "flee", "fleeing", "fled", "refugee*", "idp", "idps", "exodus",
               "evacuat*"),
        "sw": ("wakimbizi", "mkimbizi", "*kimbi*", "kuhama", "wamehama", "wanahama"),
        "ln": ("kokima", "bakimi", "bakimaki"),  # flee, they fled
        "sg": ("kpë", "akpë"),  # flee
        "ar": ("نزوح", "نازح*", "فرار", "هروب", "لاجئ*", "nuzuh"),
    },
    Threat.THREAT: {
        "fr": ("menac*", "rumeur*", "intimid*", "tract", "tracts"),
        "en": ("threat*", "rumour*", "rumor*", "intimidat*"),
        "sw": ("tishio", "vitisho", "*tishi*", "uvumi"),
        "ln": ("kobangisa",),  # frighten (not bobangisi: one letter from the town Bobangi)
        "sg": ("menace",),  # the French word is used
        "ar": ("تهديد", "تهديدات", "إشاعة", "شائعة", "tahdid"),
    },
}

# Frequent words that tell the language (and are never place names on their own).
COMMON_WORDS: dict[str, tuple[str, ...]] = {
    "fr": ("les", "des", "dans", "sont", "ont", "avec", "pour", "hommes", "armés", "personnes",
           "morts", "blessés", "gens", "nuit", "cette", "nous", "ils", "est", "une", "par",
           "sur", "maintenant", "ici", "très", "militaires", "rebelles", "plusieurs", "depuis",
           "vers", "près", "quartier", "aux", "leur", "contre", "il", "y", "a", "le", "la", "du",
           "de", "et", "au", "un", "en", "à", "eu", "été", "ce", "ces", "qui", "que", "pas",
           "tous", "tout", "se", "nos", "notre", "encore", "beaucoup"),
    "en": ("the", "and", "are", "were", "was", "with", "this", "there", "have", "has", "from",
           "near", "people", "men", "armed", "dead", "wounded", "night", "many", "now",
           "soldiers", "rebels", "heavy", "of", "in", "at", "is", "they", "our", "had", "been",
           "some", "again", "here", "help"),
    "sw": ("watu", "kuna", "katika", "wenye", "silaha", "kijiji", "usiku", "wengi", "sasa",
           "hapa", "wamekufa", "askari", "waasi", "leo", "jana", "hii", "huko", "kwa", "wa",
           "ya", "na"),
    "ln": ("bato", "mingi", "awa", "lelo", "lobi", "basoda", "mboka", "bazali", "na", "ya"),
    "sg": ("azo", "zo", "ti", "kodro", "ape", "lâsô", "ala", "mbi", "yeke", "ndo", "na"),
    "ar": ("في", "على", "من", "مسلح", "مسلحين", "مسلحة", "الآن", "قرية", "ناس", "fi", "nas"),
}

# Words between a keyword and the place ("ALERTE à Beni"), or joining a place's words.
PLACE_LEAD = frozenset(fold(word) for word in (
    "à", "a", "au", "aux", "dans", "vers", "sur", "près", "de", "at", "in", "near", "on", "kwa",
    "huko", "katika", "karibu", "o", "na", "في", "قرب",
))
PLACE_JOIN = frozenset(fold(word) for word in ("de", "du", "des", "la", "le", "les", "d", "l"))

# Words one letter away from a keyword that are ordinary words or names: never keywords.
NOT_KEYWORDS = (
    "alertez", "alerter", "alerté", "alertée", "alertons", "émergence", "albert", "alberte",
    "sion",
)
# fmt: on

KEYWORD_CUTOFF = 85  # rapidfuzz ratio: ALLERTE 92, ALRTE 91, HATAR 91, ALRT 89; ALLER 80, HALTE 73
THREAT_CUTOFF = 88  # pilage 92, attaqe 92, explossion 95; village 86 (pillage), theater 86
FUZZY_MIN_LENGTH = 5  # keywords this short must be exact (SOS, KEBA); words typed may be 4 long
THREAT_FUZZY_MIN_LENGTH = 6  # shorter threat words must be exact or a stem's (tir, vol, viol)
STEM_ENDINGS = ("", "e", "es", "s", "ement", "ements", "ing", "ed")

_ARABIC_RANGES = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF))
_ARABIC_LETTERS = str.maketrans({"ة": "ه", "ى": "ي", "ی": "ي", "ک": "ك", "ـ": None})
_ARABIC_PREFIXES = ("وال", "بال", "فال", "لل", "ال", "و", "ب", "ف")
_JOINERS = "-'’"
_PCODE_LIKE = re.compile(r"[A-Za-z]{2}[0-9][0-9A-Za-z]*")


def normalise(word: str) -> str:
    """A folded word in the form the vocabulary is compared in (Arabic letter variants merged)."""
    return word.translate(_ARABIC_LETTERS)


def is_arabic(text: str) -> bool:
    return any(low <= ord(ch) <= high for ch in text for low, high in _ARABIC_RANGES)


# Compiled vocabulary --------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    kind: str  # "keyword", "level", "threat", "common"
    value: str  # the Threat value for threats, "critical" for levels, else the folded word
    language: str


@dataclass(frozen=True)
class _Pattern:
    text: str  # folded
    mode: str  # "exact", "prefix", "infix"

    def matches(self, word: str) -> bool:
        if self.mode == "exact":
            return word == self.text
        if self.mode == "prefix":
            return word.startswith(self.text)
        return self.text in word


def _pattern(raw: str) -> _Pattern:
    text = normalise(fold(raw.strip("*")))
    if raw.startswith("*") and raw.endswith("*"):
        return _Pattern(text, "infix")
    if raw.endswith("*"):
        return _Pattern(text, "prefix")
    return _Pattern(text, "exact")


class _Vocabulary:
    def __init__(self):
        self.exact: dict[str, list[Entry]] = {}
        self.stems: list[tuple[_Pattern, Entry]] = []
        self.phrases: list[tuple[tuple[_Pattern, ...], Entry]] = []
        self.keywords: dict[str, list[str]] = {}  # folded keyword -> languages
        self.threat_words: list[str] = []  # exact threat words for fuzzy matching
        self.threat_entries: dict[str, list[Entry]] = {}
        for language, words in KEYWORDS.items():
            for word in words:
                key = normalise(fold(word))
                self.keywords.setdefault(key, []).append(language)
                self._add(word, Entry("keyword", key, language))
        for language, words in LEVEL_WORDS.items():
            for word in words:
                self._add(word, Entry("level", "critical", language))
        for threat, by_language in THREAT_WORDS.items():
            for language, words in by_language.items():
                for word in words:
                    self._add(word, Entry("threat", str(threat), language))
        for language, words in COMMON_WORDS.items():
            for word in words:
                self._add(word, Entry("common", normalise(fold(word)), language))
        self.keyword_list = list(self.keywords)
        self.not_keywords = {normalise(fold(word)) for word in NOT_KEYWORDS}
        # Stems as two regular expressions (longest first), phrases by their first word.
        self.stem_entries: dict[tuple[str, str], list[Entry]] = {}
        for pattern, entry in self.stems:
            self.stem_entries.setdefault((pattern.mode, pattern.text), []).append(entry)
        self.prefix_re = self._alternation("prefix")
        self.infix_re = self._alternation("infix")
        self.phrases_by_first: dict[str, list] = {}
        self.loose_phrases = []
        for patterns, entry in self.phrases:
            if patterns[0].mode == "exact":
                self.phrases_by_first.setdefault(patterns[0].text, []).append((patterns, entry))
            else:
                self.loose_phrases.append((patterns, entry))
        self.lookup = lru_cache(maxsize=20_000)(self._lookup)
        self.close_threat = lru_cache(maxsize=20_000)(self._close_threat)

    def _alternation(self, mode: str) -> re.Pattern | None:
        stems = sorted((text for kind, text in self.stem_entries if kind == mode), key=len)
        if not stems:
            return None
        return re.compile("|".join(re.escape(stem) for stem in reversed(stems)))

    def phrases_at(self, word: str) -> list:
        loose = [item for item in self.loose_phrases if item[0][0].matches(word)]
        return self.phrases_by_first.get(word, []) + loose

    def _add(self, raw: str, entry: Entry):
        patterns = []
        for part in raw.split():
            words = fold(part.strip("*")).split()
            if len(words) == 1:
                patterns.append(_pattern(part))
            else:  # unyang'anyi: a message's words are split there too, so a phrase
                patterns += [_Pattern(normalise(word), "exact") for word in words]
        patterns = tuple(patterns)
        if len(patterns) > 1:
            self.phrases.append((patterns, entry))
        elif patterns[0].mode == "exact":
            self.exact.setdefault(patterns[0].text, []).append(entry)
            if entry.kind == "threat" and len(patterns[0].text) >= THREAT_FUZZY_MIN_LENGTH:
                self._add_close(patterns[0].text, entry)
        else:
            self.stems.append((patterns[0], entry))
            if entry.kind == "threat" and patterns[0].mode == "prefix":
                # Slips are compared with whole words: a stem's usual endings make them.
                for ending in STEM_ENDINGS:
                    if len(patterns[0].text + ending) >= THREAT_FUZZY_MIN_LENGTH:
                        self._add_close(patterns[0].text + ending, entry)

    def _add_close(self, word: str, entry: Entry):
        if is_arabic(word):
            return
        if word not in self.threat_entries:
            self.threat_words.append(word)
        self.threat_entries.setdefault(word, []).append(entry)

    def _lookup(self, word: str) -> tuple[Entry, ...]:
        """Entries for one folded word: exact, Arabic without its clitics, then stems."""
        found = self.exact.get(word)
        if found:
            return tuple(found)
        if is_arabic(word):
            for prefix in _ARABIC_PREFIXES:
                if word.startswith(prefix) and len(word) - len(prefix) >= 3:
                    found = self.exact.get(word[len(prefix) :])
                    if found:
                        return tuple(found)
        entries = []
        match = self.prefix_re.match(word) if self.prefix_re else None
        if match:
            entries += self.stem_entries["prefix", match.group()]
        match = self.infix_re.search(word) if self.infix_re else None
        if match:
            entries += self.stem_entries["infix", match.group()]
        return tuple(entries)

    def _close_threat(self, word: str) -> tuple[Entry, ...]:
        if len(word) < THREAT_FUZZY_MIN_LENGTH or is_arabic(word):
            return ()
        best = process.extractOne(
            word, self.threat_words, scorer=fuzz.ratio, score_cutoff=THREAT_CUTOFF
        )
        return tuple(self.threat_entries[best[0]]) if best else ()

    def keyword(self, word: str) -> tuple[str, list[str]] | None:
        """(folded keyword, its languages) when `word` is a keyword or a slip of one."""
        if word in self.keywords:
            return word, self.keywords[word]
        if len(word) < FUZZY_MIN_LENGTH - 1 or word in self.not_keywords:
            return None
        best = process.extractOne(
            word, self.keyword_list, scorer=fuzz.ratio, score_cutoff=KEYWORD_CUTOFF
        )
        if best is None or len(best[0]) < FUZZY_MIN_LENGTH:
            return None
        return best[0], self.keywords[best[0]]


VOCABULARY = _Vocabulary()


def reload_vocabulary() -> None:
    """Recompile after a mission changed the tables above (tests, settings hooks)."""
    global VOCABULARY
    VOCABULARY = _Vocabulary()


# Splitting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """A run of letters and digits (with inner hyphens and apostrophes), as typed and folded."""

    start: int
    end: int
    text: str
    words: tuple[str, ...]  # folded and normalised


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in _JOINERS or unicodedata.category(ch)[0] == "M"


def split(text: str) -> list[Chunk]:
    chunks, start = [], None
    for index, ch in enumerate(text + " "):
        if _is_word_char(ch):
            if start is None:
                start = index
            continue
        if start is not None:
            begin, end = start, index
            # Nor a mark with no letter before it: the variation selector of an emoji (⚠️CD54).
            while begin < end and (
                text[begin] in _JOINERS or unicodedata.category(text[begin])[0] == "M"
            ):
                begin += 1
            while end > begin and text[end - 1] in _JOINERS:
                end -= 1
            # (normalised: a tatweel alone is no word at all)
            words = tuple(filter(None, (normalise(w) for w in fold(text[begin:end]).split())))
            if words:
                chunks.append(Chunk(begin, end, text[begin:end], words))
            start = None
    return chunks


# Parsing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedSMS:
    text: str  # as received, untouched
    language: str  # ISO 639-1 or "" when unknown
    keyword: str  # as typed, "" for free text
    structured: bool  # the message opens with a keyword
    threat: str  # a Threat value; Threat.OTHER when no threat word was found
    threat_text: str  # the threat word(s) as typed
    level_code: str | None  # "critical" or None
    place_text: str  # the place words after the keyword, as typed ("" if none)
    place_candidates: tuple[str, ...]  # from the place words after the keyword, longest first
    other_candidates: tuple[str, ...]  # every other window of the text, longest first
    recognised: bool  # some word of the vocabulary was found
    blank: bool  # nothing readable: no letter at all

    @property
    def readable(self) -> bool:
        return not self.blank


@dataclass
class _Hit:
    entry: Entry
    first: int  # word positions
    last: int


def _hits(words: Sequence[str]) -> list[_Hit | None]:
    """Per word position, the vocabulary entry starting there (phrases before single words)."""
    vocabulary = VOCABULARY
    found: list[_Hit | None] = [None] * len(words)
    index = 0
    while index < len(words):
        hit = None
        for patterns, entry in vocabulary.phrases_at(words[index]):
            size = len(patterns)
            if index + size <= len(words) and all(
                pattern.matches(words[index + offset]) for offset, pattern in enumerate(patterns)
            ):
                hit = _Hit(entry, index, index + size - 1)
                break
        if hit is None:
            entries = vocabulary.lookup(words[index]) or vocabulary.close_threat(words[index])
            if entries:
                # One word may be a keyword, a level and a threat at once: a threat counts
                # most here; `parse_sms` reads the other meanings from `lookup`.
                hit = _Hit(_best(entries), index, index)
        found[index] = hit
        index = hit.last + 1 if hit else index + 1
    return found


_RANK = {"threat": 0, "level": 1, "keyword": 2, "common": 3}


def _best(entries: Iterable[Entry]) -> Entry:
    return min(entries, key=lambda entry: _RANK[entry.kind])


def parse_sms(text: str, languages: Sequence[str] = ()) -> ParsedSMS:
    """Read `text`; `languages` (the contact's, then the mission's) settle a tie of languages."""
    text = text if isinstance(text, str) else ""
    source = text[:PARSE_LIMIT]
    chunks = split(source)
    words: list[str] = []
    owner: list[int] = []  # chunk index of each word
    for number, chunk in enumerate(chunks):
        words.extend(chunk.words)
        owner.extend([number] * len(chunk.words))
    hits = _hits(words)
    vocabulary = VOCABULARY

    chunk_kinds: list[set[str]] = [set() for _ in chunks]
    votes: dict[str, float] = {}
    level_code = None
    for position, word in enumerate(words):
        hit = hits[position]
        entries = [hit.entry] if hit and hit.last > hit.first else vocabulary.lookup(word)
        if hit and not entries:
            entries = [hit.entry]
        for entry in entries:
            for index in range(position, (hit.last if hit else position) + 1):
                chunk_kinds[owner[index]].add(entry.kind)
            weight = {"keyword": 3, "threat": 2, "level": 1, "common": 1}[entry.kind]
            votes[entry.language] = votes.get(entry.language, 0) + weight
            if entry.kind == "level" or (
                entry.kind == "keyword" and "critical" in _levels(entry.value)
            ):
                level_code = "critical"

    # The keyword: the first chunk, or the second after a level word ("URGENT ALERTE Beni").
    keyword, keyword_languages, position = "", [], 0
    for index in range(min(2, len(chunks))):
        found = vocabulary.keyword(" ".join(chunks[index].words))
        if found is not None:
            keyword, keyword_languages = chunks[index].text, found[1]
            position = index + 1
            if "critical" in _levels(found[0]):
                level_code = "critical"
            if "keyword" not in chunk_kinds[index]:  # a misspelling: count its language now
                for language in keyword_languages:
                    votes[language] = votes.get(language, 0) + 3
            chunk_kinds[index].add("keyword")
            break
        if "level" not in chunk_kinds[index]:
            break
    structured = bool(keyword)

    # The place words: after the keyword and any level word or preposition, up to the first
    # threat, level or number.
    place_chunks: list[int] = []
    if structured:
        index = position
        while index < len(chunks) and (
            chunk_kinds[index] & {"keyword", "level"} or _joined(chunks[index]) in PLACE_LEAD
        ):
            index += 1
        while index < len(chunks) and len(place_chunks) < MAX_PLACE_WORDS:
            chunk = chunks[index]
            if chunk_kinds[index] & {"keyword", "level", "threat"} or _number(chunk):
                break
            if "common" in chunk_kinds[index] and _joined(chunk) not in PLACE_JOIN:
                break
            place_chunks.append(index)
            index += 1
        while place_chunks and _joined(chunks[place_chunks[-1]]) in PLACE_JOIN:
            place_chunks.pop()
    place_candidates = tuple(
        _span(source, chunks, place_chunks[0], place_chunks[size - 1])
        for size in range(len(place_chunks), 0, -1)
        if _joined(chunks[place_chunks[size - 1]]) not in PLACE_JOIN
    )
    place_text = place_candidates[0] if place_candidates else ""

    # The threat: the first after the place words, else the first anywhere.
    threat, threat_text = Threat.OTHER, ""
    after = (
        owner.index(place_chunks[-1] + 1) if place_chunks and place_chunks[-1] + 1 in owner else 0
    )
    order = [*range(after, len(words)), *range(0, after)]
    for index in order:
        hit = hits[index]
        if hit is None or owner[hit.first] < position:
            continue
        if hit.entry.kind == "threat":
            threat = Threat(hit.entry.value)
            threat_text = _span(source, chunks, owner[hit.first], owner[hit.last])
            break
        entries = [entry for entry in vocabulary.lookup(words[index]) if entry.kind == "threat"]
        if entries:
            threat = Threat(entries[0].value)
            threat_text = chunks[owner[index]].text
            break

    other_candidates = _windows(source, chunks, chunk_kinds, exclude=set(place_chunks))
    language = _language(votes, keyword_languages, languages, source)
    return ParsedSMS(
        text=text,
        language=language,
        keyword=keyword,
        structured=structured,
        threat=str(threat),
        threat_text=threat_text,
        level_code=level_code,
        place_text=place_text,
        place_candidates=place_candidates,
        other_candidates=other_candidates,
        recognised=bool(votes) or structured,
        blank=not any(ch.isalpha() for ch in " ".join(words)),
    )


def _levels(folded_keyword: str) -> set[str]:
    return {
        entry.value for entry in VOCABULARY.exact.get(folded_keyword, ()) if entry.kind == "level"
    }


def _joined(chunk: Chunk) -> str:
    return " ".join(chunk.words)


def _number(chunk: Chunk) -> bool:
    return any(ch.isdigit() for ch in chunk.text) and not _PCODE_LIKE.fullmatch(chunk.text)


def _span(source: str, chunks: Sequence[Chunk], first: int, last: int) -> str:
    return source[chunks[first].start : chunks[last].end]


def _windows(
    source: str, chunks: Sequence[Chunk], kinds: Sequence[set[str]], exclude: set[int]
) -> tuple[str, ...]:
    """One- to three-chunk windows that may name a place, longest first, then in text order.

    A window holds no keyword, level or threat word and no number (a P-code is fine), and
    neither starts nor ends with a common word (``de`` may sit inside: Territoire de Beni).
    """
    limit = min(len(chunks), WINDOW_CHUNKS)
    usable = [
        index not in exclude
        and not kinds[index] & {"keyword", "level", "threat"}
        and not _number(chunks[index])
        for index in range(limit)
    ]
    common = [bool(kinds[index] & {"common"}) for index in range(limit)]
    seen, windows = set(), []
    for size in range(MAX_PLACE_WORDS, 0, -1):
        for first in range(0, limit - size + 1):
            last = first + size - 1
            if not all(usable[first : last + 1]) or common[first] or common[last]:
                continue
            if any(common[i] and _joined(chunks[i]) not in PLACE_JOIN for i in range(first, last)):
                continue
            window = _span(source, chunks, first, last)
            if window not in seen:
                seen.add(window)
                windows.append(window)
    return tuple(windows)


def _language(
    votes: dict[str, float], keyword_languages: Sequence[str], hints: Sequence[str], source: str
) -> str:
    if votes:
        preference = [*hints, *keyword_languages, *LANGUAGES]
        rank = {language: len(preference) - preference.index(language) for language in LANGUAGES}
        return max(votes, key=lambda language: (votes[language], rank.get(language, 0)))
    if is_arabic(source):
        return "ar"
    return ""
