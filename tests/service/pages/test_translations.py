"""Every UI catalogue (French, Spanish, Arabic) has every string of the site, same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from service.i18n import DEFAULT_LOCALE, UI_LOCALES

ROOT = Path(__file__).resolve().parents[3]
TRANSLATED = [locale for locale in UI_LOCALES if locale != DEFAULT_LOCALE]
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "gettext_": None, "ngettext_": (1, 2), "flash": (3,)}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
HOW_TO_FIX = (
    "re-extract and update the catalogue (see docs/site.md, 'Translations'), "
    "then translate the new entries of web/translations/<locale>/LC_MESSAGES/messages.po"
)


def _extracted() -> set[str | tuple[str, ...]]:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    messages: set[str | tuple[str, ...]] = set()
    for _filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        messages.add(message if isinstance(message, str) else tuple(message))
    return messages


def _catalogue(locale: str = "fr") -> dict[str | tuple[str, ...], object]:
    po = ROOT / "web" / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return {
        (m.id if isinstance(m.id, str) else tuple(m.id)): m
        for m in catalog
        if m.id and "fuzzy" not in m.flags
    }


def test_every_ui_locale_has_a_catalogue() -> None:
    assert set(TRANSLATED) >= {"fr", "es", "ar"}


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_string_of_the_site_is_translated(locale: str) -> None:
    catalogue = _catalogue(locale)
    missing = []
    for message_id in sorted(_extracted(), key=str):
        entry = catalogue.get(message_id)
        strings = getattr(entry, "string", None)
        filled = all(strings) if isinstance(strings, tuple) else bool(strings)
        if not filled:
            missing.append(message_id)
    assert not missing, (
        f"{len(missing)} strings lack a {locale} translation; {HOW_TO_FIX}: {missing[:20]}"
    )


@pytest.mark.parametrize("locale", TRANSLATED)
def test_translations_keep_the_placeholders(locale: str) -> None:
    for message_id, entry in _catalogue(locale).items():
        source = message_id if isinstance(message_id, str) else message_id[-1]
        strings = entry.string  # type: ignore[attr-defined]
        for string in strings if isinstance(strings, tuple) else (strings,):
            assert set(PLACEHOLDER.findall(string)) <= set(PLACEHOLDER.findall(source)) | {"num"}, (
                message_id,
                string,
            )
            assert set(PLACEHOLDER.findall(source)) - {"num"} <= set(PLACEHOLDER.findall(string)), (
                message_id,
                string,
            )


@pytest.mark.parametrize("locale", [*TRANSLATED, "template"])
def test_no_catalogue_keeps_a_string_the_site_no_longer_says(locale: str) -> None:
    """An entry no string of the site uses is a translator's wasted work, and a reworded string's
    old entry hides that its new one is missing (a merge of two branches brought 26 back)."""
    if locale == "template":
        with (ROOT / "web" / "translations" / "messages.pot").open("rb") as handle:
            ids = {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_po(handle) if m.id}
    else:
        ids = set(_catalogue(locale))
    unused = sorted(ids - _extracted(), key=str)
    assert not unused, (
        f"{len(unused)} entries of {locale} are no longer used; {HOW_TO_FIX}: {unused[:20]}"
    )
