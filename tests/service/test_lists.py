"""Typed lists split on the comma or semicolon of any script, and on lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.lists import split_items
from tests.strategies import phrases

SEPARATORS = [",", "،", ";", "؛", "\n", "\r\n", ", ", " ، ", "؛ ", " ;\n"]


@given(
    items=st.lists(phrases(max_size=60), min_size=1, max_size=8),
    separators=st.lists(st.sampled_from(SEPARATORS), min_size=8, max_size=8),
    pad=st.sampled_from(["", " ", "  "]),
)
def test_items_come_back_whatever_the_separators(
    items: list[str], separators: list[str], pad: str
) -> None:
    typed = pad + "".join(
        item + (separators[i] if i < len(items) - 1 else "") for i, item in enumerate(items)
    )
    assert split_items(typed) == [item.strip() for item in items]


def test_empty_items_are_dropped() -> None:
    assert split_items(" ، ;; \n R ,") == ["R"]


def test_without_commas_only_semicolons_and_lines_separate() -> None:
    assert split_items("suivi, évaluation; R؛ SIG", commas=False) == [
        "suivi, évaluation",
        "R",
        "SIG",
    ]
