"""Translations: gettext catalogues (Babel .po files in web/translations), one per locale."""

from __future__ import annotations

import gettext
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "web" / "translations"
UI_LOCALES = ("en", "fr")
RTL_LOCALES = frozenset({"ar"})
DEFAULT_LOCALE = "en"

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


@cache
def translations_for(locale: str) -> gettext.NullTranslations:
    """Loads a locale's catalogue, compiled in memory from its .po file."""
    po_path = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext_(message: str) -> str:
    """Translates a message into the current request's locale."""
    return translations_for(current_locale.get()).gettext(message)


def ngettext_(singular: str, plural: str, n: int) -> str:
    """Translates a message with a plural into the current request's locale."""
    return translations_for(current_locale.get()).ngettext(singular, plural, n)


def negotiate_locale(*candidates: str | None, accept_language: str = "") -> str:
    """Picks the first supported locale among explicit choices, then the Accept-Language header."""
    for candidate in candidates:
        if candidate in UI_LOCALES:
            return candidate
    for part in accept_language.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in UI_LOCALES:
            return code
    return DEFAULT_LOCALE
