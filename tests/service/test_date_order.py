"""A closing date before its opening date is named beside its own field, even when other
fields are wrong too: a person sees every mistake in one round, not one after another."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from service.pages.forms import validate_form
from service.schemas.engagements import MoveRequest
from service.schemas.experts import ExpertProfileUpdate
from service.schemas.needs import NeedWrite

CASES = [
    (
        NeedWrite,
        {"title": "x", "description": "Former des biostatisticiens", "mode": "remote"},
        ("start_from", "start_until"),
        "title",
        "The latest start must not be before the earliest start.",
    ),
    (
        ExpertProfileUpdate,
        {"display_name": "Aïssatou Diop", "origin_country": "SN", "residence_country": "nowhere"},
        ("available_from", "available_until"),
        "residence_country",
        "The end of your availability must not be before its start.",
    ),
    (
        MoveRequest,
        {"agreed_hours": -3},
        ("start_date", "end_date"),
        "agreed_hours",
        "The end date must not be before the start date.",
    ),
]


@pytest.mark.parametrize(("model", "data", "dates", "other", "message"), CASES)
def test_a_date_before_its_opening_is_named_with_the_other_errors(
    model: type[BaseModel], data: dict[str, Any], dates: tuple[str, str], other: str, message: str
) -> None:
    opening, closing = dates
    form, errors = validate_form(model, {**data, opening: "2027-03-10", closing: "2027-03-01"})
    assert form is None
    assert errors[closing] == message
    assert other in errors and "__all__" not in errors


@pytest.mark.parametrize(("model", "data", "dates", "other", "message"), CASES)
def test_the_same_day_and_an_open_end_are_accepted(
    model: type[BaseModel], data: dict[str, Any], dates: tuple[str, str], other: str, message: str
) -> None:
    opening, closing = dates
    for values in ({opening: "2027-03-10", closing: "2027-03-10"}, {opening: "2027-03-10"}):
        _, errors = validate_form(model, {**data, **values})
        assert closing not in errors
