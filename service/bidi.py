"""Typed text (names, feedback) kept in its own direction inside a page or a sentence."""

from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup, escape

# What markup adds to typed text: tags (a search's <mark>) and the entities `escape` writes.
_MARKUP = re.compile(r"<[^>]*>|&(?:amp|lt|gt|#39|#34|quot);")
_ASCII_LETTER = re.compile(r"[A-Za-z]")


def direction(text: str) -> str:
    """Gets the direction most of a text's letters are written in: "rtl", "ltr" or "auto"."""
    if text.isascii():
        # Most typed text: its letters, if any, are all left-to-right (bidi class L), found
        # without a Python step per character.
        return "ltr" if _ASCII_LETTER.search(text) else "auto"
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
    letters = str(text)
    if isinstance(text, Markup):
        letters = _MARKUP.sub(" ", letters) if letters.isascii() else value.striptags()
    return Markup('<bdi dir="%s">%s</bdi>') % (direction(letters), value)
