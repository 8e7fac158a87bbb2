"""Every UI catalogue (French, Spanish, Portuguese, Arabic) has every string of the site, same
placeholders, the plural forms of its locale; a number and its unit are said with a plural."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from service.i18n import DEFAULT_LOCALE, UI_LOCALES, cldr_locale

ROOT = Path(__file__).resolve().parents[3]
TRANSLATED = [locale for locale in UI_LOCALES if locale != DEFAULT_LOCALE]
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "N_": None,
    "NN_": (1, 2),
    "NP_": ((1, "c"), 2),
    "gettext_": None,
    "pgettext_": ((1, "c"), 2),
    "ngettext_": (1, 2),
    "flash": (3,),
}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
HOW_TO_FIX = (
    "re-extract and update the catalogue (see docs/site.md, 'Translations'), "
    "then translate the new entries of web/translations/<locale>/LC_MESSAGES/messages.po"
)


# A message is its context (None, or "email recipient" for pgettext's "To") and its id (a string,
# or a tuple with its plural): "To" of an email and "To" of a period are two messages.
MessageKey = tuple[str | None, str | tuple[str, ...]]


def _key(context: str | None, message_id: str | Iterable[str]) -> MessageKey:
    return (context, message_id if isinstance(message_id, str) else tuple(message_id))


def _extracted() -> set[MessageKey]:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    messages: set[MessageKey] = set()
    for _filename, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        messages.add(_key(context, message))
    return messages


def _catalogue(locale: str = "fr") -> dict[MessageKey, Message]:
    po = ROOT / "web" / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return {_key(m.context, m.id): m for m in catalog if m.id and "fuzzy" not in m.flags}


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
    for (_context, message_id), entry in _catalogue(locale).items():
        source = message_id if isinstance(message_id, str) else message_id[-1]
        strings = entry.string
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
            ids = {_key(m.context, m.id) for m in read_po(handle) if m.id}
    else:
        ids = set(_catalogue(locale))
    unused = sorted(ids - _extracted(), key=str)
    assert not unused, (
        f"{len(unused)} entries of {locale} are no longer used; {HOW_TO_FIX}: {unused[:20]}"
    )


@pytest.mark.parametrize("locale", TRANSLATED)
def test_plural_forms_are_those_of_the_locale_the_site_formats_with(locale: str) -> None:
    """Portuguese counts as Portugal does (0 horas; Brazil says 0 hora), Arabic in six forms;
    every plural entry fills each of them."""
    po = ROOT / "web" / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    expected = get_plural(cldr_locale(locale))
    assert (catalog.num_plurals, catalog.plural_expr) == (
        expected.num_plurals,
        expected.plural_expr,
    )
    for message in catalog:
        if isinstance(message.id, tuple):
            assert len(message.string) == expected.num_plurals, message.id


# A number followed by the unit it counts ("%(hours)s h/week", "%(days)s days"): the unit agrees
# with the number in most languages (Arabic: 3 ساعات, 11 ساعة), so only ngettext can say it.
COUNTED_UNIT = re.compile(
    r"%\(\w+\)s (?:h\b|hours?|days?|weeks?|months?|years?|experts?|needs?|skills?|rows?|"
    r"characters?|institutions?|proposals?|engagements?)"
)


def test_a_number_and_its_unit_are_said_with_a_plural() -> None:
    single = sorted(
        m for _context, m in _extracted() if isinstance(m, str) and COUNTED_UNIT.search(m)
    )
    assert not single, f"say these with ngettext / ngettext_ and the count: {single}"
