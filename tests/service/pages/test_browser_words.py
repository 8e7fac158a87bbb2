"""A session's browser named as its owner knows it, from real User-Agent headers."""

from __future__ import annotations

import pytest

from service.i18n import current_locale
from service.pages.browsers import browser_words

CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.6478.122 Mobile Safari/537.36"
)
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)
SAMSUNG = (
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36"
)
OPERA_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36 OPR/111.0.0.0"
)
CHROME_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    ("header", "said"),
    [
        (CHROME_ANDROID, "Chrome on Android"),
        (EDGE_WINDOWS, "Edge on Windows"),
        (SAFARI_MAC, "Safari on macOS"),
        (SAMSUNG, "Samsung Internet on Android"),
        (OPERA_LINUX, "Opera on Linux"),
        (CHROME_IPAD, "Chrome on iPad"),
        ("curl/8.5.0", "Unknown browser"),
        ("", "Unknown browser"),
        (None, "Unknown browser"),
    ],
)
def test_a_browser_is_named_as_people_know_it(header: str | None, said: str) -> None:
    assert browser_words(header) == said


@pytest.mark.parametrize(
    ("locale", "said"),
    [("fr", "Edge sur Windows"), ("es", "Edge en Windows"), ("pt", "Edge em Windows")],
)
def test_the_sentence_is_in_the_reader_language(locale: str, said: str) -> None:
    token = current_locale.set(locale)
    try:
        assert browser_words(EDGE_WINDOWS) == said
        assert "Mozilla" not in browser_words("Mozilla/5.0 (compatible)")
    finally:
        current_locale.reset(token)
