"""Typed text is isolated in the direction most of its letters are written in."""

from __future__ import annotations

import pytest
from markupsafe import Markup

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
