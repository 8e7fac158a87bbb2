"""Grouping the same skill asked in several languages: greedy by frequency, deterministic."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from matching.skill_groups import MERGE_THRESHOLD, SkillGroup, group_skills, same_skill


def _unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_the_most_asked_label_names_the_group_and_its_variants_follow() -> None:
    counts = {"fundraising": 3, "levée de fonds": 5, "accounting": 2}
    vectors = {
        "fundraising": _unit(1, 0.1, 0),
        "levée de fonds": _unit(1, 0, 0),
        "accounting": _unit(0, 0, 1),
    }
    assert group_skills(counts, vectors) == [
        SkillGroup("levée de fonds", ("fundraising",)),
        SkillGroup("accounting"),
    ]


def test_a_chain_of_neighbours_does_not_merge_its_ends() -> None:
    # b is close to a, c is close to b but not to a: c founds its own group.
    angle = np.arccos(MERGE_THRESHOLD) * 0.9
    a, b, c = (_unit(np.cos(k * angle), np.sin(k * angle)) for k in range(3))
    groups = group_skills({"a": 3, "b": 2, "c": 1}, {"a": a, "b": b, "c": c})
    assert groups == [SkillGroup("a", ("b",)), SkillGroup("c")]


def test_a_skill_without_a_vector_stays_alone() -> None:
    groups = group_skills({"x": 2, "y": 1}, {"x": _unit(1, 0)})
    assert groups == [SkillGroup("x"), SkillGroup("y")]


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=12),
        st.tuples(st.integers(1, 9), st.integers(0, 3)),
        min_size=1,
        max_size=12,
    )
)
def test_every_label_lands_in_one_group_whatever_the_order(
    skills: dict[str, tuple[int, int]],
) -> None:
    axes = np.eye(4, dtype=np.float32)
    counts = {label: count for label, (count, _) in skills.items()}
    vectors = {label: axes[axis] for label, (_, axis) in skills.items()}
    groups = group_skills(counts, vectors)
    members = [m for g in groups for m in g.members]
    assert sorted(members) == sorted(counts)
    # Labels on the same axis (identical vectors) share one group, the others never do.
    for group in groups:
        assert len({skills[m][1] for m in group.members}) == 1
    assert len(groups) == len({axis for _, axis in skills.values()})
    reversed_counts = dict(reversed(list(counts.items())))
    assert group_skills(reversed_counts, vectors) == groups


def test_a_skill_is_covered_exactly_when_the_skills_gap_report_merges_it() -> None:
    """One rule: the explanation covers a skill asked by the profile skill the report would
    merge it with («épidémiologie» / "epidemiology", 0.79), and nothing the report keeps apart
    («surveillance épidémiologique» / "forensic pathology", 0.73)."""
    from matching.explain import match_skills
    from matching.records import SkillMatch

    def at(similarity: float) -> np.ndarray:
        return _unit(similarity, np.sqrt(1 - similarity**2), 0)

    vectors = {
        "épidémiologie": _unit(1, 0, 0),
        "surveillance épidémiologique": _unit(0, 0, 1),
        "epidemiology": at(0.79),
        "forensic pathology": _unit(0, np.sqrt(1 - 0.73**2), 0.73),
    }

    def encode(texts: object) -> np.ndarray:
        return np.stack([vectors[t] for t in texts])  # type: ignore[attr-defined]

    related: list[SkillMatch] = []
    covered, missing = match_skills(
        ["épidémiologie", "surveillance épidémiologique"],
        ["epidemiology", "forensic pathology"],
        encode,
        related=related,
    )
    assert [(m.required, m.matched) for m in covered] == [("épidémiologie", "epidemiology")]
    assert missing == ["surveillance épidémiologique"]
    assert [m.matched for m in related] == ["forensic pathology"]
    groups = group_skills(
        {"épidémiologie": 2, "epidemiology": 1, "surveillance épidémiologique": 1}, vectors
    )
    assert SkillGroup("épidémiologie", ("epidemiology",)) in groups
    assert same_skill(MERGE_THRESHOLD) and not same_skill(MERGE_THRESHOLD - 0.001)
