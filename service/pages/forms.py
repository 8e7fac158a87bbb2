"""Reading HTML forms into Pydantic models, with errors keyed by field for re-rendering."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from service.lists import split_items

M = TypeVar("M", bound=BaseModel)


async def read_form(request: Request, *, list_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """Reads the submitted form into a dict; list fields are split and stripped."""
    form = await request.form()
    data: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        if key in list_fields:
            # Lists arrive as repeated keys (checkboxes) or one typed text (split_items).
            data[key] = [item for value in values for item in split_items(value)]
        else:
            data[key] = values[-1] if values else ""
    for key in list_fields:
        data.setdefault(key, [])
    return data


def validate_form(model: type[M], data: dict[str, Any]) -> tuple[M | None, dict[str, str]]:
    """Validates form data; returns the model, or the error message of each field."""
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "__all__"
            message = str(error["msg"]).removeprefix("Value error, ")
            errors.setdefault(field, message)
        return None, errors
