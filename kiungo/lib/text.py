"""Text normalisation for matching names typed on phones: case, accents, punctuation."""

import re
import unicodedata

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case, strip accents and punctuation, collapse spaces: 'Béni-Ville!' -> 'beni ville'.

    Letters of other scripts (Arabic, for instance) are kept, without their diacritics.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", stripped).strip()
