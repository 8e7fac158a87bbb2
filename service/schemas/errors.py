"""The bodies of the API's error responses, declared once for the whole OpenAPI schema."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    """What a refused request answers: a sentence saying why."""

    detail: str


class FieldProblem(BaseModel):
    """One field that is not valid, and why."""

    field: str
    message: str


class InvalidRequestBody(BaseModel):
    """What an invalid request answers: a sentence, and each field that is not valid."""

    detail: str
    errors: list[FieldProblem]


class ConflictBody(ErrorBody):
    """What a conflict answers: a sentence, and the field whose value another record holds
    (none when the request lost a race to another)."""

    errors: list[FieldProblem] = []


class TooManyBody(ErrorBody):
    """What a request refused for now answers: a sentence, and the field it names, if any (the
    password's, for too many wrong passwords; none for too many links mailed)."""

    errors: list[FieldProblem] = []


def _error(description: str, model: type[BaseModel] = ErrorBody) -> dict[str, Any]:
    return {"model": model, "description": description}


# Every API operation may answer these (FastAPI's own 422 model is replaced by the real one).
API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("The body could not be read (for example, JSON that is not UTF-8)."),
    401: _error("Not logged in, or the API token is not valid."),
    403: _error("Not allowed for this account, or a cookie request without its CSRF token."),
    404: _error("What the path names does not exist, or the caller may not see it."),
    409: _error(
        "The move conflicts with the current state (for example, already decided), or a value"
        " is another record's (an email another account uses: its field is named).",
        ConflictBody,
    ),
    413: _error("The request body is over the size limit."),
    422: _error("Some parameters or fields are not valid.", InvalidRequestBody),
}

ASK_AGAIN = "Seconds to wait before asking again."


def _too_many(
    description: str, model: type[BaseModel] = ErrorBody, *, wait: str = ASK_AGAIN
) -> dict[int | str, dict[str, Any]]:
    """A 429 an operation may answer besides, with its Retry-After header."""
    retry_after = {"description": wait, "schema": {"type": "integer", "minimum": 1}}
    return {429: {**_error(description, model), "headers": {"Retry-After": retry_after}}}


# What an operation that checks the caller's password may answer besides (service.core.guesses).
TOO_MANY_WRONG_PASSWORDS = _too_many(
    "Too many wrong passwords on the account lately: refused whatever the password,"
    " the password's field named, until the lock-out has passed.",
    InvalidRequestBody,
    wait="Seconds to wait before the password is checked again.",
)

# What a request for a password reset link may answer besides (service.core.password_reset).
TOO_MANY_RESET_REQUESTS = _too_many(
    "Too many reset links asked for this email or from this address lately: refused"
    " until the window has passed."
)

# What mailing an email-confirmation link may answer besides (service.core.email_change).
TOO_MANY_CONFIRMATION_LINKS = _too_many(
    "Too many confirmation links mailed for this account or to this address lately:"
    " refused, and nothing mailed, until the window has passed."
)

# Changing the email checks the password and mails a link: either limit may answer.
TOO_MANY_PASSWORDS_OR_LINKS = _too_many(
    "Too many wrong passwords on the account lately (the password's field named), or too"
    " many confirmation links mailed for this account or to this address (no field):"
    " refused, and nothing mailed, until the window has passed.",
    TooManyBody,
    wait="Seconds to wait before the password is checked again.",
)
