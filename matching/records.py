"""Plain data in and out of the matcher: experts, needs, candidates and their explanations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

EngagementMode = Literal["remote", "mission", "hybrid"]
ENGAGEMENT_MODES: tuple[EngagementMode, ...] = ("remote", "mission", "hybrid")


@dataclass(slots=True)
class ExpertRecord:
    """What the matcher knows about one expert (no contact details: it never needs them)."""

    expert_id: str
    headline: str
    skills: list[str] = field(default_factory=list)
    bio: str = ""
    languages: list[str] = field(default_factory=list)  # ISO 639-1 codes
    modes: list[EngagementMode] = field(default_factory=lambda: ["remote"])
    country_ties: list[str] = field(default_factory=list)  # ISO 3166-1 alpha-2 codes
    timezone: str | None = None  # IANA name, e.g. "Europe/Paris"
    work_start_hour: int = 9  # local working day, [start, end)
    work_end_hour: int = 17
    available_from: date | None = None
    available_until: date | None = None
    hours_per_week: float | None = None  # declared capacity
    committed_hours_per_week: float = 0.0  # already promised to running engagements
    active: bool = True
    opted_out: bool = False
    availability_confirmed_on: date | None = None

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-serialisable dict."""
        out: dict[str, Any] = _jsonable(asdict(self))
        return out


@dataclass
class NeedRecord:
    """What the matcher knows about one need posted by an institution."""

    need_id: str
    title: str
    description: str = ""
    required_skills: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)  # working languages the expert must speak
    mode: EngagementMode = "remote"
    widen_modes: bool = False  # the coordinator accepts experts of other modes, ranked down
    country: str | None = None  # the institution's country
    timezone: str | None = None  # the institution's IANA time zone
    work_start_hour: int = 9
    work_end_hour: int = 17
    live_sessions: bool = False  # remote work needs real-time sessions (teaching, meetings)
    start: date | None = None
    end: date | None = None
    hours_per_week: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-serialisable dict."""
        out: dict[str, Any] = _jsonable(asdict(self))
        return out


@dataclass
class SkillMatch:
    """How one of the need's required skills is covered by the profile, if at all."""

    required: str
    matched: str | None  # the profile skill that covers it, verbatim
    similarity: float
    how: Literal["exact", "semantic", "related", "none"]


@dataclass
class Phrase:
    """A verbatim profile phrase (skill, headline or bio sentence) close to the need."""

    text: str
    source: Literal["headline", "skill", "bio"]
    similarity: float


@dataclass
class Explanation:
    """Facts a coordinator can check, built only from the two texts and structured fields."""

    covered_skills: list[SkillMatch] = field(default_factory=list)
    missing_skills: list[str] = field(default_factory=list)
    closest_phrases: list[Phrase] = field(default_factory=list)
    shared_languages: list[str] = field(default_factory=list)
    missing_languages: list[str] = field(default_factory=list)
    mode: str = ""
    availability: str = ""
    timezone: str = ""
    overlap_hours: float | None = None
    country_tie: bool = False
    notes: list[str] = field(default_factory=list)
    # Related but not covering: the closest profile skill of a missing one, when close.
    related_skills: list[SkillMatch] = field(default_factory=list)
    # Codes and values behind the sentences above, for pages to word in the reader's language
    # (see constraints.Assessment.facts).
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Candidate:
    """One ranked proposal: an expert for a need (or a need for an expert)."""

    expert_id: str
    need_id: str
    score: float
    components: dict[str, float]
    explanation: Explanation

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-serialisable dict."""
        out: dict[str, Any] = _jsonable(asdict(self))
        return out


def _jsonable(value: Any) -> Any:
    """Turns dates into ISO strings and floats into plain floats, recursively."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return float(value)
    return value
