"""A proposal's strength: its score's band, capped by the skills asked that the profile covers."""

from __future__ import annotations

from pathlib import Path

import pytest

from matching.explain import match_strength, strength_order
from matching.fusion import GOOD_SCORE, STRONG_SCORE


@pytest.mark.parametrize(
    ("score", "asked", "covered", "related", "strength"),
    [
        # No skill asked: the score alone.
        (9.96, 0, 0, 0, "strong"),
        (STRONG_SCORE, 0, 0, 0, "strong"),
        (GOOD_SCORE, 0, 0, 0, "good"),
        (2.99, 0, 0, 0, "fair"),
        # Every skill asked covered: the score alone.
        (9.96, 4, 4, 0, "strong"),
        (3.5, 2, 2, 0, "good"),
        (0.8, 2, 2, 0, "fair"),
        # Some covered: good at most.
        (9.96, 4, 3, 1, "good"),
        (1.2, 4, 1, 0, "fair"),
        # None covered, a similar one found: fair at most.
        (8.4, 4, 0, 2, "fair"),
        # None covered, nothing similar: weak, however close the text reads.
        (8.4, 4, 0, 0, "weak"),
        (3.1, 1, 0, 0, "weak"),
        (-0.7, 3, 0, 0, "weak"),
    ],
)
def test_the_skills_asked_cap_the_score_band(
    score: float, asked: int, covered: int, related: int, strength: str
) -> None:
    assert match_strength(score, asked=asked, covered=covered, related=related) == strength


@pytest.mark.parametrize(
    ("cap", "strength"),
    [("strong", "strong"), ("good", "good"), ("fair", "fair")],
)
def test_a_concern_caps_even_a_match_that_covers_every_skill(cap: str, strength: str) -> None:
    assert match_strength(9.2, asked=3, covered=3, cap=cap) == strength  # type: ignore[arg-type]
    assert match_strength(9.2, asked=0, covered=0, cap=cap) == strength  # type: ignore[arg-type]
    assert match_strength(9.2, asked=3, covered=0, cap=cap) == "weak"  # type: ignore[arg-type]


def test_labels_never_go_up_as_the_rank_goes_down() -> None:
    # The review page of the epidemiology need: ranks 3 and 4 weak above 5 and 6 fair.
    by_score = ["strong", "good", "weak", "weak", "fair", "fair", "weak"]
    order = strength_order(by_score)  # type: ignore[arg-type]
    assert order == [0, 1, 4, 5, 2, 3, 6]  # the score's order kept among equal labels
    shown = [by_score[i] for i in order]
    assert shown == ["strong", "good", "fair", "fair", "weak", "weak", "weak"]


def test_the_rule_lives_in_the_matching_library_which_knows_nothing_of_the_service() -> None:
    import matching.explain

    lines = Path(matching.explain.__file__).read_text(encoding="utf-8").splitlines()
    imported = {
        line.split()[1].split(".")[0] for line in lines if line.startswith(("import ", "from "))
    }
    assert "matching" in imported and "service" not in imported
