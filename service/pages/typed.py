"""Text people typed, as a page shows it: what an erasure replaced (stored as privacy.ERASED)
in the reader's language, and isolated by its own direction (bidi.isolate)."""

from __future__ import annotations

from markupsafe import Markup

from service.bidi import isolate
from service.core.privacy import ERASED
from service.i18n import gettext_


def shown(text: str) -> str:
    """The text with each erased piece named in the reader's language."""
    return text.replace(ERASED, gettext_(ERASED)) if ERASED in text else text


def isolated(text: object) -> Markup:
    """The text as shown, in a <bdi> with its own direction, escaped (the `isolate` filter)."""
    return isolate(shown(text) if isinstance(text, str) else text)
