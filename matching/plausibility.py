"""Whether a search text looks like language at all, before it is searched by meaning.

Every text has nearest neighbours by meaning, gibberish included, and a relevant text in
another language sits about as close as gibberish does, so a cosine floor alone cannot tell
them apart (docs/search.md, "Gibberish has no meaning"). e5's own tokenizer can: its
SentencePiece unigram model gives each piece a log-probability, and a real word, in any of the
languages it was trained on, segments into a few probable pieces ("épidémiologie": ▁ép idé mi
ologie, -3.5 a character), a random string into many improbable ones ("xqzzkw": ▁x q zz kw,
-7.2 a character).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from matching.e5vocab import tokenizer

# A word's score: its best segmentation's log-probability per character, lower-cased (acronyms
# typed in capitals segment worse than the same letters in lower case), the characters counted
# up to WORD_CHARS (a 300-letter "word" is not one: its whole log-probability spreads over 20).
WORD_CHARS = 20
# Words this short are not judged: acronyms (PCR, SIG, IoT, WASH, SPSS) segment as badly as
# random letters do, and a short word is no evidence either way.
SHORT_WORD = 4
# The score a word must reach for the text to be searched by meaning (a text is plausible when
# one of its words is short or reaches it), chosen on bench/search_quality.py's tuning half
# (`--plausibility`, docs/search.md "Gibberish has no meaning"): no real tuning query (titles,
# headlines; the lowest, "demógrafo/demógrafa", -3.93) and at most 0.5 % of the needs' real words
# as one-word queries (rare words: "revêt" -5.38, "sûreté" -4.73) rejected.
PLAUSIBLE_SCORE = -4.29
_WORD = re.compile(r"\w+")


# Words with a letter outside the Latin script are not judged either: the score was chosen on
# English, French and Spanish only, and common Arabic words score as low as random Latin letters
# ("ممرضة", a nurse, -6.3; "xqzzkw" -7.2), where meaning is all an Arabic query has to reach
# English profiles.
def _latin(word: str) -> bool:
    """Whether every letter of a word is a Latin one (accented or not)."""
    return all(not c.isalpha() or unicodedata.name(c, "").startswith("LATIN") for c in word)


@lru_cache(maxsize=8192)
def word_score(word: str) -> float:
    """Gets a word's log-probability per character under e5's tokenizer (0: a word not judged,
    short or not in Latin letters)."""
    if len(word) <= SHORT_WORD or not _latin(word):
        return 0.0
    folded = word.casefold()
    return tokenizer().segment(folded)[1] / min(len(folded), WORD_CHARS)


def text_score(text: str) -> float:
    """Gets a text's plausibility: the best score of its words (0.0 without a word)."""
    return max((word_score(w) for w in _WORD.findall(text)), default=0.0)


def plausible(text: str) -> bool:
    """Whether a text looks enough like language to be searched by meaning (its first word
    that does ends the look: a few milliseconds at most)."""
    words = _WORD.findall(text)
    return not words or any(word_score(w) >= PLAUSIBLE_SCORE for w in words)
