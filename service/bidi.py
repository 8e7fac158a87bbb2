"""Typed text (names, feedback) kept in its own direction inside a page or a sentence."""

from __future__ import annotations

import unicodedata

from markupsafe import Markup, escape


def direction(text: str) -> str:
    """Gets the direction most of a text's letters are written in: "rtl", "ltr" or "auto"."""
    right = left = 0
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            right += 1
        elif kind == "L":
            left += 1
    if not right and not left:
        return "auto"
    return "rtl" if right > left else "ltr"


def isolate(text: object) -> Markup:
    """Wraps typed text in a <bdi> with its own direction, escaped.

    By the majority of its letters, not the first one (the browser's dir="auto"): "د. Ines
    Mansouri" is a Latin name with an Arabic title and reads left to right, on every page;
    French feedback quoted in an Arabic sentence keeps its closing period at its end.
    """
    if text is None or text == "":
        return Markup("")
    value = escape(text)
    # Highlighted search results arrive as Markup: their tags are not letters.
    letters = value.striptags() if isinstance(text, Markup) else str(text)
    return Markup('<bdi dir="%s">%s</bdi>') % (direction(letters), value)
