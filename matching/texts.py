"""What gets embedded: profile sections and need query sides (chosen on the dev benchmark)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from matching.records import ExpertRecord, NeedRecord

# Bump when the recipe below changes, so stored vectors are recomputed.
RECIPE_VERSION = "3"
# Every expert row holds one vector per section, side by side.
PROFILE_SECTIONS = ("document", "headline")
# Models that embed each section (None: every model of the encoder). The headline only feeds
# USE signals in the tuned weights, so the slower models skip it (a third less embedding time).
SECTION_MODELS: dict[str, tuple[str, ...] | None] = {"document": None, "headline": ("use",)}
# Every need is embedded once per side.
QUERY_SIDES = ("query", "title")
_WORD = re.compile(r"\w+", re.UNICODE)
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)


def profile_document_text(expert: ExpertRecord) -> str:
    """Whole profile in one text: headline, then skills, then bio (skipping a bio that repeats)."""
    parts = [expert.headline.strip()]
    if expert.skills:
        parts.append(", ".join(s.strip() for s in expert.skills if s.strip()))
    bio = expert.bio.strip()
    if bio and not _mostly_repeats(bio, " ".join(parts)):
        parts.append(bio)
    return ". ".join(p.rstrip(".") for p in parts if p)


def profile_public_text(expert: ExpertRecord) -> str:
    """What an institution may read of a profile, in one text: headline, then skills (no bio;
    embedded for the institutions' search index, which holds no bio either)."""
    parts = [expert.headline.strip()]
    if expert.skills:
        parts.append(", ".join(s.strip() for s in expert.skills if s.strip()))
    return ". ".join(p.rstrip(".") for p in parts if p)


def _mostly_repeats(text: str, known: str, share: float = 0.8) -> bool:
    """Tells whether most words of `text` already appear in `known`."""
    # A bio that only lists the skills again doubles embedding time for no new meaning.
    words = _WORD.findall(text.casefold())
    if not words:
        return True
    seen = set(_WORD.findall(known.casefold()))
    return sum(1 for w in words if w in seen) >= share * len(words)


def profile_section_texts(expert: ExpertRecord) -> tuple[str, ...]:
    """Texts embedded for an expert, in `PROFILE_SECTIONS` order."""
    headline = expert.headline.strip() or profile_document_text(expert)
    return (profile_document_text(expert), headline)


def need_query_text(need: NeedRecord) -> str:
    """Title and description together: the description alone lost nDCG on every track."""
    title, description = need.title.strip(), need.description.strip()
    if title and description:
        return f"{title}. {description}"
    return title or description


def need_side_texts(need: NeedRecord) -> tuple[str, ...]:
    """Texts embedded for a need, in `QUERY_SIDES` order."""
    return (need_query_text(need), need.title.strip() or need_query_text(need))


def need_search_text(title: str, skills: Sequence[str], description: str) -> str:
    """What a reader of the needs index may read of a need, in one text: title, required
    skills, then description (embedded for the semantic half of needs search)."""
    parts = [title.strip(), ", ".join(s.strip() for s in skills if s.strip()), description.strip()]
    return ". ".join(p.rstrip(".") for p in parts if p)


def lexical_query_text(need: NeedRecord) -> str:
    """Text to send to the keyword search backend (BM25)."""
    return need_query_text(need)


# Cached: skills and headlines repeat across profiles, and each explanation normalises every
# profile phrase (a re-matching job's explanations called it ~600 times).
@lru_cache(maxsize=65536)
def normalise_skill(text: str) -> str:
    """Casefolds, strips accents and punctuation and a plural -s, for exact matching."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = [w for w in _NOT_WORD.sub(" ", plain).split() if w]
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words)
