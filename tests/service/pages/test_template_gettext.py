"""The templates' direct `_()`, `gettext()` and `ngettext()` render exactly what jinja2.ext's
new-style callables (which they replace, to spare two `Context.call`s a string) render."""

from __future__ import annotations

import pytest
from jinja2 import Environment

from service.i18n import current_locale, gettext_, ngettext_
from service.templating import _env

TEMPLATES = [
    "{{ _('Approve') }}",
    "{{ gettext('Reject') }}",
    "{{ _('Select %(name)s', name=who) }}",
    "{{ _('lives in %(country)s', country=who) }}",
    # `%%` becomes `%` even without variables, and beside them.
    "{{ _('100%% sure') }}",
    "{{ _('No single candidate covers every required skill: together, these experts cover "
    "%(team)s%% of them (the best single candidate covers %(single)s%%).', team=who, single=3) }}",
    "{{ ngettext('%(num)s week', '%(num)s weeks', 1) }}",
    "{{ ngettext('%(num)s week', '%(num)s weeks', 7) }}",
    "{{ ngettext('%(num)s week', '%(num)s weeks', n, num=who) }}",
    "{{ _('Select %(name)s', name=who)|length }}",
    "{% set t = _('Select %(name)s', name=who) %}{{ t ~ '<i>' }}",
]


def _reference(autoescape: bool) -> Environment:
    env = Environment(autoescape=autoescape, extensions=["jinja2.ext.i18n"])  # noqa: S701
    env.install_gettext_callables(gettext_, ngettext_, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update({k: v for k, v in _env.globals.items() if k not in env.globals})
    return env


@pytest.mark.parametrize("locale", ["en", "fr", "ar"])
@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("source", TEMPLATES)
def test_same_output_as_jinja_newstyle_gettext(locale: str, autoescape: bool, source: str) -> None:
    ours = _env.overlay(autoescape=autoescape)
    reset = current_locale.set(locale)
    try:
        context = {"who": "<b>Awa & Co</b>", "n": 3}
        expected = _reference(autoescape).from_string(source).render(context)
        assert ours.from_string(source).render(context) == expected
    finally:
        current_locale.reset(reset)


def test_translates_and_escapes_variables() -> None:
    reset = current_locale.set("fr")
    try:
        html = _env.from_string("{{ _('Select %(name)s', name=who) }}").render(who="<b>")
    finally:
        current_locale.reset(reset)
    assert html == "Sélectionner &lt;b&gt;"


def test_a_string_without_variables_keeps_each_languages_translation() -> None:
    # Such strings are made into markup once per language and kept: rendering them again, in
    # turn across languages, gives each language's own text every time.
    source = "{{ _('Approve') }}|{{ _('100%% sure') }}"
    for _ in range(2):
        for locale in ("en", "fr", "ar", "es"):
            reset = current_locale.set(locale)
            try:
                expected = _reference(True).from_string(source).render()
                assert _env.from_string(source).render() == expected
            finally:
                current_locale.reset(reset)
    reset = current_locale.set("fr")
    try:
        assert _env.from_string("{{ _('Approve') }}").render() == "Approuver"
    finally:
        current_locale.reset(reset)
