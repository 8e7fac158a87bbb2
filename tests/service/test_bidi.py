"""Typed text is isolated in the direction most of its letters are written in."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup, escape

from service.bidi import direction, isolate


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("د. Ines Mansouri", "ltr"),  # an Arabic title before a Latin name
        ("Dr. ليلى بن عمر", "rtl"),
        ("Très bonne collaboration, merci.", "ltr"),
        ("المركز الاستشفائي الجامعي الحسن الثاني بفاس", "rtl"),
        ("+33 6 12 34 56 78", "auto"),
        ("—", "auto"),
    ],
)
def test_direction_follows_most_letters(typed: str, expected: str) -> None:
    assert direction(typed) == expected


def test_isolate_escapes_and_keeps_highlights_out_of_the_count() -> None:
    assert isolate("د. <b>Ines</b>") == '<bdi dir="ltr">د. &lt;b&gt;Ines&lt;/b&gt;</bdi>'
    highlighted = Markup("<mark>علم</mark> الأوبئة")
    assert isolate(highlighted) == '<bdi dir="rtl"><mark>علم</mark> الأوبئة</bdi>'
    assert isolate("") == "" and isolate(None) == ""


def _letter_count_direction(text: str) -> str:
    """The rule, one character at a time (what the fast paths must agree with)."""
    right = sum(unicodedata.bidirectional(c) in ("R", "AL") for c in text)
    left = sum(unicodedata.bidirectional(c) == "L" for c in text)
    if not right and not left:
        return "auto"
    return "rtl" if right > left else "ltr"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80) | st.text(max_size=80))
def test_direction_agrees_with_counting_every_letter(typed: str) -> None:
    assert direction(typed) == _letter_count_direction(typed)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=30), st.booleans()), max_size=6))
def test_a_highlighted_text_reads_in_the_direction_of_its_words(
    parts: list[tuple[str, bool]],
) -> None:
    # As a search returns it: the typed text escaped, some words wrapped in <mark>.
    marked = Markup("").join(
        Markup("<mark>%s</mark>") % part if mark else escape(part) for part, mark in parts
    )
    typed = "".join(part for part, _ in parts)
    expected = Markup('<bdi dir="%s">%s</bdi>') % (_letter_count_direction(typed), marked)
    assert isolate(marked) == (expected if marked else "")
