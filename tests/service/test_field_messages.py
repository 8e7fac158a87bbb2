"""The messages a person reads beside a field: a required text left empty says it is required
(whatever its minimum length), and every message is a sentence (capital, full stop) that the
catalogue translates into each language of the site."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import service.schemas
from service.i18n import CORE_MESSAGES, ERROR_MESSAGES, UI_LOCALES, current_locale
from service.i18n import translate_message as translate
from service.pages.forms import validate_form
from service.schemas.accounts import ExpertRegistration, InstitutionRegistration
from service.schemas.needs import NeedWrite


def _schemas() -> Iterator[type[BaseModel]]:
    for module_info in pkgutil.iter_modules(service.schemas.__path__):
        module = importlib.import_module(f"service.schemas.{module_info.name}")
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
            ):
                yield value


SCHEMAS = sorted(set(_schemas()), key=lambda model: model.__qualname__)
BLANKS = ("", "   ")


def _field_errors(model: type[BaseModel], data: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return list(exc.errors())
    return []


def _in(locale: str, message: str) -> str:
    token = current_locale.set(locale)
    try:
        return translate(message)
    finally:
        current_locale.reset(token)


@pytest.mark.parametrize("model", SCHEMAS, ids=lambda model: model.__qualname__)
def test_a_blank_text_is_required_never_too_short(model: type[BaseModel]) -> None:
    for name in model.model_fields:
        for blank in BLANKS:
            for error in _field_errors(model, {name: blank}):
                if tuple(error["loc"][:1]) == (name,):
                    assert error["type"] != "string_too_short", (model.__qualname__, name, error)


@pytest.mark.parametrize(
    ("model", "data", "field"),
    [
        (
            NeedWrite,
            {"title": "", "description": "Co-teach epidemiology", "mode": "remote"},
            "title",
        ),
        (
            NeedWrite,
            {"title": "Biostatistics", "description": " ", "mode": "remote"},
            "description",
        ),
        (
            ExpertRegistration,
            {"display_name": "", "email": "a@b.org", "password": "x" * 12},
            "display_name",
        ),
        (ExpertRegistration, {"display_name": "Awa", "email": "", "password": "x" * 12}, "email"),
        (
            ExpertRegistration,
            {"display_name": "Awa", "email": "a@b.org", "password": ""},
            "password",
        ),
        (InstitutionRegistration, {"institution_name": "  "}, "institution_name"),
    ],
)
def test_a_required_field_left_empty_says_so_in_every_language(
    model: type[BaseModel], data: dict[str, Any], field: str
) -> None:
    _, errors = validate_form(model, data)
    assert errors[field] == "This field is required."
    said = {locale: _in(locale, errors[field]) for locale in UI_LOCALES}
    assert said == {
        "en": "This field is required.",
        "fr": "Ce champ est obligatoire.",
        "es": "Este campo es obligatorio.",
        "pt": "Este campo é obrigatório.",
        "ar": "هذا الحقل مطلوب.",
    }


def test_a_text_too_short_still_says_how_long() -> None:
    _, errors = validate_form(NeedWrite, {"title": "ab", "description": "x", "mode": "remote"})
    assert translate(errors["title"]) == "Use at least 3 characters."
    assert _in("fr", errors["title"]) == "Utilisez au moins 3 caractères."


# Values a person may send wrong, one field at a time, to see the messages the schemas write.
WRONG: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (
        InstitutionRegistration,
        {"country": "", "website": "not a site", "email": "x@", "locale": "zz"},
    ),
    (InstitutionRegistration, {"country": "Senegal", "password": "short"}),
    (NeedWrite, {"title": "x" * 300, "mode": "boat", "languages": ["french"], "sector": "sports"}),
    (NeedWrite, {"start_from": "2027-03-10", "start_until": "2027-03-01", "duration_weeks": 0}),
]


@pytest.mark.parametrize(("model", "data"), WRONG)
def test_every_field_message_is_a_translated_sentence(
    model: type[BaseModel], data: dict[str, Any]
) -> None:
    _, errors = validate_form(model, data)
    assert errors
    for field, message in errors.items():
        english = translate(message)
        assert english[:1].isupper() and english.endswith("."), (field, english)
        for locale in ("fr", "es", "pt", "ar"):
            assert _in(locale, message) != english, (locale, field, english)


def test_the_catalogues_error_messages_are_sentences_in_every_language() -> None:
    for message in (*CORE_MESSAGES, *ERROR_MESSAGES):
        if message in ("Not Found", "Method Not Allowed"):  # Starlette's own words, mapped
            continue
        for locale in UI_LOCALES:
            said = _in(locale, message)
            assert said.rstrip().endswith((".", "?")), (locale, said)
            if locale != "ar":
                assert said[:1].isupper(), (locale, said)
