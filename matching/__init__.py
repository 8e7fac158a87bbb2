"""Homeward matching: text -> vectors -> ranked, explained candidates. Never imports service/.

Records, constraints and metrics import instantly; the encoder and the matcher (which pull in
torch and sentence-transformers) load on first attribute access.
"""

from importlib import import_module
from typing import Any

from matching.constraints import MatchPolicy, working_overlap_hours
from matching.records import (
    Candidate,
    ExpertRecord,
    Explanation,
    NeedRecord,
    Phrase,
    SkillMatch,
)
from matching.texts import lexical_query_text

_LAZY = {
    "DEFAULT_ENCODER": "matching.encoders",
    "Encoder": "matching.encoders",
    "content_hash": "matching.encoders",
    "load_encoder": "matching.encoders",
    "LexicalScorer": "matching.matcher",
    "Matcher": "matching.matcher",
    "StoredVector": "matching.matcher",
    "FusionWeights": "matching.fusion",
    "detect_language": "matching.fusion",
    "VectorIndex": "matching.index",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'matching' has no attribute {name!r}")


__all__ = [
    "Candidate",
    "ExpertRecord",
    "Explanation",
    "MatchPolicy",
    "NeedRecord",
    "Phrase",
    "SkillMatch",
    "lexical_query_text",
    "working_overlap_hours",
    *_LAZY,
]
