"""Splitting a typed list (skills, sectors, languages...) into its items."""

from __future__ import annotations

import re

# People separate items with the comma or semicolon of their script (Arabic has its own,
# U+060C and U+061B), or one per line; a field's help text says "commas" for all of them.
LIST_SEPARATORS = (",", "،", ";", "؛", "\n", "\r")
_ANY = re.compile("[" + re.escape("".join(LIST_SEPARATORS)) + "]")
_SEMICOLONS = re.compile("[;؛\n\r]")


def split_items(text: str, *, commas: bool = True) -> list[str]:
    """Splits text on every list separator (only semicolons and lines when commas=False);
    items are trimmed and empty ones dropped."""
    pattern = _ANY if commas else _SEMICOLONS
    return [item.strip() for item in pattern.split(text) if item.strip()]
