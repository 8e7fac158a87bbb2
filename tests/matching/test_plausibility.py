"""Whether a search text is language enough to be searched by meaning (e5's own tokenizer)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.plausibility import PLAUSIBLE_SCORE, SHORT_WORD, plausible, text_score, word_score


@pytest.mark.parametrize(
    "text",
    [
        "xqzzkw",
        "asdfghjkl qwerty",
        "a" * 300,
        "XQZZKW",
        "xqzvbnm kkrtpl",
        "zzzzzz",
    ],
)
def test_gibberish_is_not_plausible(text: str) -> None:
    assert not plausible(text)


@pytest.mark.parametrize(
    "text",
    [
        "épidémiologie",
        "ÉPIDÉMIOLOGIE",
        "علم الأوبئة",
        "طبيب أطفال",
        "hydrogéologie",
        "biostatistique",
        "bioestadística",
        "mécanique des sols",
        "ingénieure agronome",
        "Civil engineer",
        "pédiatre",
        "تفتيش الجسور",  # inspecting bridges
        "ممرضة",  # a nurse: not judged (no Latin letter), though it scores -6.3
        "محاسبة",  # accounting
        "levée de fonds",
        "demógrafo/demógrafa",  # the lowest real query of the benchmark's tuning half
        "Serigne Diallo",
        "Ziguinchor",
        "PCR",
        "SIG",
        "IoT",
        "WASH",
        "M&E",
        "COVID-19",
    ],
)
def test_real_queries_are_plausible(text: str) -> None:
    assert plausible(text)


def test_one_real_word_makes_a_text_plausible() -> None:
    assert plausible("xqzzkw épidémiologie")
    assert plausible("hydrologist asdfghjkl")


def test_a_short_word_is_not_judged() -> None:
    # Acronyms segment as badly as random letters: "qgis" alone would score under the floor.
    assert word_score("qgis") == 0.0 and len("qgis") <= SHORT_WORD
    assert word_score("xqzzk") < PLAUSIBLE_SCORE


def test_only_latin_words_are_judged() -> None:
    assert word_score("ممرضة") == 0.0 and word_score("Ziguinchor") < 0.0
    assert word_score("épidémiologie") < 0.0  # accented Latin letters are Latin


def test_a_text_without_words_is_left_to_the_search() -> None:
    assert text_score("") == 0.0 and plausible("+++ ---")


words = st.text(st.characters(categories=("Ll", "Lu", "Lo")), min_size=1, max_size=12)


@given(st.lists(words, min_size=1, max_size=4), st.lists(words, min_size=1, max_size=4))
def test_a_texts_score_is_its_best_words(left: list[str], right: list[str]) -> None:
    a, b = " ".join(left), " ".join(right)
    assert text_score(f"{a} {b}") == max(text_score(a), text_score(b))
    assert text_score(a) <= 0.0
