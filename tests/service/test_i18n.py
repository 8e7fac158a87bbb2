"""The locale's conventions, decided once in service/i18n.py: which CLDR locale each interface
language formats with, plural forms for fractions, words in their context."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from babel import Locale

from service.i18n import (
    cldr_locale,
    country_name,
    country_names,
    current_locale,
    label,
    lang_tag,
    pgettext_,
    plural_count,
    translate_message,
)
from service.pages import reasons
from service.templating import templates


@pytest.fixture
def reading_in() -> Iterator[object]:
    tokens = []

    def set_locale(locale: str) -> None:
        tokens.append(current_locale.set(locale))

    yield set_locale
    for token in reversed(tokens):
        current_locale.reset(token)


def test_portuguese_formats_as_portugal_and_lusophone_africa_do() -> None:
    assert cldr_locale("pt") == "pt_PT"
    assert [cldr_locale(code) for code in ("en", "fr", "es", "ar")] == ["en", "fr", "es", "ar"]
    assert country_name("KE", "pt") == "Quénia" and country_name("IR", "pt") == "Irão"


def test_each_language_is_tagged_as_bcp_47_writes_it() -> None:
    """European Portuguese is pt-PT (a hyphen, not CLDR's underscore); the others as they are."""
    assert {code: lang_tag(code) for code in ("en", "fr", "es", "pt", "ar")} == {
        "en": "en",
        "fr": "fr",
        "es": "es",
        "pt": "pt-PT",
        "ar": "ar",
    }


@pytest.mark.parametrize(
    ("locale", "number", "share", "day"),
    [
        ("en", "12,345.5", "50%", "Dec 1, 2026"),
        ("fr", "12\u202f345,5", "50\xa0%", "1 déc. 2026"),
        ("es", "12.345,5", "50\xa0%", "1 dic 2026"),
        ("pt", "12\xa0345,5", "50%", "01/12/2026"),  # not Brazil's 12.345,5 and 1 de dez. de 2026
    ],
)
def test_numbers_percentages_and_dates_follow_the_readers_conventions(
    reading_in: object, locale: str, number: str, share: str, day: str
) -> None:
    reading_in(locale)  # type: ignore[operator]
    filters = templates.env.filters
    assert filters["number"](12345.5) == number
    assert filters["percent"](0.5) == share
    assert filters["date"](date(2026, 12, 1)) == day


def _category(value: float, locale: str) -> str:
    return str(Locale.parse(cldr_locale(locale)).plural_form(value))


@pytest.mark.parametrize(
    ("locale", "value", "category"),
    [
        ("ar", 1.5, "other"),
        ("ar", 3, "few"),
        ("ar", 11, "many"),
        ("ar", 2.0, "two"),
        ("fr", 1.5, "one"),
        ("pt", 1.5, "other"),
        ("pt", 0, "other"),
        ("es", 0.5, "other"),
        ("en", 1.5, "other"),
    ],
)
def test_a_count_picks_the_plural_form_cldr_gives_it_fractions_too(
    locale: str, value: float, category: str
) -> None:
    count = plural_count(value, locale)
    assert isinstance(count, int)
    assert _category(value, locale) == category == _category(count, locale)


def test_the_matchers_hours_agree_with_their_number_in_arabic(reading_in: object) -> None:
    reading_in("ar")  # type: ignore[operator]
    assert reasons.overlap_reason({"overlap_hours": 3}) == (
        "\u20683\u2069 ساعات يوميًا ضمن ساعات عمل المؤسسة"
    )
    assert reasons.overlap_reason({"overlap_hours": 11}) == (
        "\u206811\u2069 ساعة يوميًا ضمن ساعات عمل المؤسسة"
    )
    # 1.5 h is "other" in Arabic: not the "one hour" form the whole part would pick.
    assert reasons.overlap_reason({"overlap_hours": 1.5}) == (
        "\u20681.5\u2069 ساعة يوميًا ضمن ساعات عمل المؤسسة"
    )
    assert reasons.hours_reason({"free_hours": 2, "needed_hours": 4}) == (
        "متاح ساعتين (\u20682\u2069) أسبوعيًا من \u20684\u2069 مطلوبة"
    )
    days = {"window_days": 5, "covered_days": 3, "window_start": "2026-12-01"}
    assert "من \u20685\u2069 أيام" in str(
        reasons.dates_reason({**days, "window_end": "2026-12-05"})
    )


def test_the_matchers_hours_read_as_portuguese_writes_them(reading_in: object) -> None:
    reading_in("pt")  # type: ignore[operator]
    assert reasons.overlap_reason({"overlap_hours": 1.5}) == (
        "1,5 h por dia dentro do horário de trabalho da instituição"
    )
    assert reasons.hours_reason({"free_hours": 1, "needed_hours": 4}) == (
        "1 h/semana livre das 4 necessárias"
    )
    assert reasons.hours_reason({"free_hours": 2.5, "needed_hours": 4}) == (
        "2,5 h/semana livres das 4 necessárias"
    )
    assert reasons.skill_reasons({"covered_skills": [], "missing_skills": ["a"]}) == [
        "Não cobre a competência pedida (1)"
    ]


@pytest.mark.parametrize(
    ("locale", "engagement_active", "expert_active", "need_open"),
    [
        ("es", "Activa", "Activo", "Abierta"),
        ("pt", "Ativa", "Ativo", "Em aberto"),
        ("fr", "Actif", "Actif", "Ouvert"),
    ],
)
def test_a_label_is_said_in_its_kinds_context(
    reading_in: object,
    locale: str,
    engagement_active: str,
    expert_active: str,
    need_open: str,
) -> None:
    reading_in(locale)  # type: ignore[operator]
    assert label("engagement_status", "active") == engagement_active
    assert pgettext_("expert", "Active") == expert_active
    assert label("need_status", "open") == need_open


def test_a_sector_and_a_kind_of_institution_are_two_words(reading_in: object) -> None:
    reading_in("es")  # type: ignore[operator]
    assert label("sector", "business") == "Negocios"
    assert label("institution_type", "business") == "Empresa"
    assert label("sector", "education") == "Educación"
    assert pgettext_("expert's background", "Education") == "Formación"


@pytest.mark.parametrize(
    ("locale", "n", "said"),
    [
        ("ar", 3, "استخدم 3 أحرف على الأقل."),
        ("ar", 12, "استخدم 12 حرفًا على الأقل."),
        ("fr", 3, "Utilisez au moins 3 caractères."),
        ("en", 3, "Use at least 3 characters."),
    ],
)
def test_a_length_error_agrees_with_its_number(
    reading_in: object, locale: str, n: int, said: str
) -> None:
    reading_in(locale)  # type: ignore[operator]
    assert translate_message(f"String should have at least {n} characters") == said
    required = translate_message("String should have at least 1 character")
    assert required == translate_message("This field is required.")


@pytest.mark.parametrize("locale", ["en", "fr", "ar"])
def test_the_country_list_offers_places_people_live_in(locale: str) -> None:
    codes = {code for code, _ in country_names(locale)}
    assert codes >= {"SN", "MA", "DZ", "PS", "XK", "EH", "RE", "PN"}
    for not_lived_in in ("AQ", "BV", "HM", "CP", "DG", "EA", "IC", "QO", "TA", "UM", "ZZ", "EU"):
        assert not_lived_in not in codes
    # A row stored with a code no longer offered still shows its name.
    assert country_name("AQ", locale) == Locale.parse(locale).territories["AQ"]
