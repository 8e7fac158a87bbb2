"""A session's browser as its owner reads it ("Firefox on Windows"), from its User-Agent header.

The sessions table showed the raw header ("Mozilla/5.0 (Windows NT 10.0; Win64; x64)
AppleWebKit/537.36 ..."), which a person cannot read. Only the families people recognise are
named; the header stays in the cell's title for whoever wants it.
"""

from __future__ import annotations

import re

from service.i18n import gettext_

# Most specific first: Edge, Opera and Samsung Internet also say "Chrome"; Chrome says "Safari".
_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"\b(?:OPR|Opera)/")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/")),
    ("Chromium", re.compile(r"\bChromium/")),
    ("Chrome", re.compile(r"\b(?:Chrome|CriOS)/")),
    ("Safari", re.compile(r"\bVersion/[\d.]+.*\bSafari/")),
)
_SYSTEMS = (
    ("iPhone", re.compile(r"\biPhone\b")),
    ("iPad", re.compile(r"\biPad\b")),
    ("Android", re.compile(r"\bAndroid\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b")),
)


def _first(patterns: tuple[tuple[str, re.Pattern[str]], ...], header: str) -> str | None:
    return next((name for name, pattern in patterns if pattern.search(header)), None)


def browser_words(user_agent: str | None) -> str:
    """Names a session's browser and system in the reader's language, as far as known."""
    header = user_agent or ""
    browser, system = _first(_BROWSERS, header), _first(_SYSTEMS, header)
    if browser and system:
        return gettext_("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    if browser or system:
        return browser or system or ""
    return gettext_("Unknown browser")
