"""What a coordinator reads of a ranked proposal: its concerns, its label, how its rank was made.

Codes and values only; `service/pages/reasons.py` words them. The review card and the
side-by-side table read the same row, so they show the same concerns and the same label.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from matching.explain import STRENGTHS, MatchStrength, match_strength, strength_order
from matching.fusion import GOOD_SCORE, STRONG_SCORE

# What the reader must weigh before deciding, most pressing first.
OVER_COMMITTED = "over_committed"  # the hours already promised reach the hours declared
SHORT_HOURS = "short_hours"  # some free hours, fewer than the need's
SHORT_DATES = "short_dates"  # free for part of the need's dates only
NO_LANGUAGE = "no_language"  # speaks none of the languages the need accepts
MODE_PARTIAL = "mode_partial"  # one mode only, for a hybrid need
MODE_WIDENED = "mode_widened"  # another mode, proposed because the search was widened

# The best label a concern leaves: nobody who cannot take on the hours reads as more than a fair
# match, nobody short of hours or dates as more than a good one (docs/matching.md).
CONCERN_CAPS: dict[str, MatchStrength] = {
    OVER_COMMITTED: "fair",
    SHORT_HOURS: "good",
    SHORT_DATES: "good",
}

# The constraint adjustments of a score (matching/constraints.py), in the order they are told.
ADJUSTMENTS = ("capacity", "availability", "languages", "mode", "timezone", "country_tie")


def concerns(x: Mapping[str, Any]) -> list[str]:
    """Gets the concerns of an explanation (as `explanation_for_people` gives it), as codes."""
    facts: Mapping[str, Any] = x.get("facts") or {}
    found: list[str] = []
    free, needed = facts.get("free_hours"), facts.get("needed_hours")
    if isinstance(free, int | float):
        if free <= 0:
            found.append(OVER_COMMITTED)
        elif isinstance(needed, int | float) and free < needed:
            found.append(SHORT_HOURS)
    window, covered = facts.get("window_days"), facts.get("covered_days")
    if isinstance(window, int) and isinstance(covered, int) and covered < window:
        found.append(SHORT_DATES)
    if x.get("missing_languages") and not x.get("shared_languages"):
        found.append(NO_LANGUAGE)
    if facts.get("mode_fit") == "partial":
        found.append(MODE_PARTIAL)
    elif facts.get("mode_fit") == "widened":
        found.append(MODE_WIDENED)
    return found


def strength(score: float, x: Mapping[str, Any] | None = None) -> MatchStrength:
    """Gets a proposal's own strength: its score's band, capped by the skills asked it covers
    and by its concerns (`matching.explain.match_strength`, the one rule)."""
    x = x or {}
    covered = len(x.get("covered_skills") or [])
    missing = x.get("missing_skills") or []
    related = {str(s.get("required")) for s in x.get("related_skills") or []}
    caps = [CONCERN_CAPS[c] for c in concerns(x) if c in CONCERN_CAPS]
    return match_strength(
        score,
        asked=covered + len(missing),
        covered=covered,
        related=sum(1 for skill in missing if skill in related),
        cap=min(caps, key=STRENGTHS.index) if caps else "strong",
    )


def label_ranked_rows(rows: list[dict[str, Any]]) -> None:
    """Adds to each of a need's rows (ranked by score, best first) its `concerns` and its
    `strength`, and puts the rows in the order a person reads them: strongest label first, the
    score's order kept among equal labels (`matching.explain.strength_order`)."""
    for row in rows:
        row["concerns"] = concerns(row["explanation"])
        row["strength"] = strength(row["proposal"].score, row["explanation"])
    rows[:] = [rows[i] for i in strength_order([row["strength"] for row in rows])]


@dataclass(frozen=True)
class RankSummary:
    """How a rank was made, in codes: how close the profile reads, what lowered or raised it."""

    closeness: str  # far_closer, closer, somewhat_closer, not_closer
    lowered: tuple[str, ...]  # adjustment names that took from the score
    raised: tuple[str, ...]  # adjustment names that added to it


def rank_summary(components: Mapping[str, float]) -> RankSummary | None:
    """Summarises a proposal's score components for a person (None when none are stored)."""
    relevance = components.get("relevance")
    if not isinstance(relevance, int | float):
        return None
    closeness = (
        "far_closer"
        if relevance >= STRONG_SCORE
        else "closer"
        if relevance >= GOOD_SCORE
        else "somewhat_closer"
        if relevance > 0
        else "not_closer"
    )
    values = {name: components.get(name) for name in ADJUSTMENTS}
    return RankSummary(
        closeness,
        tuple(n for n, v in values.items() if isinstance(v, int | float) and v < 0),
        tuple(n for n, v in values.items() if isinstance(v, int | float) and v > 0),
    )
