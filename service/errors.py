"""Domain errors, raised in the core and turned into responses in one place (see main.py)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of the errors a person can be told about.

    `message` is a catalogue message and `params` fill its placeholders: a page says it in the
    reader's language with `translate_message(error.message, error.params)`, a date among the
    params in the reader's words. `detail` is the English the API answers; it is the message
    filled with the raw values (a date in ISO) unless the raise site words it for the API.
    """

    status_code = 400

    def __init__(self, message: str = "", /, *, detail: str = "", **params: Any) -> None:
        self.message = message or (self.__doc__ or "").strip()
        self.params = params
        self.detail = detail or (self.message % params if params else self.message)
        super().__init__(self.detail)


class NotAuthenticated(DomainError):
    """Please log in to continue."""

    status_code = 401


class NotAllowed(DomainError):
    """You are not allowed to do that."""

    status_code = 403


class CsrfRejected(DomainError):
    """This form has expired or did not come from this site. Please reload the page and retry."""

    status_code = 403


class NotFound(DomainError):
    """Not found."""

    status_code = 404


class Gone(DomainError):
    """This is no longer available."""

    status_code = 410


class Conflict(DomainError):
    """That conflicts with the current state."""

    status_code = 409


class InvalidTransition(Conflict):
    """That move is not possible from the current state."""


class TooManyAttempts(DomainError):
    """Too many attempts. Please wait a few minutes and try again."""

    status_code = 429

    def __init__(self, message: str = "", /, *, retry_after_s: int, **params: Any) -> None:
        super().__init__(message, **params)
        # The API's Retry-After: how many seconds until the same request may be answered.
        self.retry_after_s = retry_after_s


class FieldErrors(DomainError):
    """Some fields are not valid."""

    status_code = 422
    # A page re-renders its form with the messages beside their fields, answering this.
    page_status = 422

    def __init__(
        self,
        errors: dict[str, str],
        *,
        params: dict[str, dict[str, Any]] | None = None,
        plurals: dict[str, str] | None = None,
    ) -> None:
        self.errors = errors
        # A field's message may have placeholders (its `params`) and be about a count: then
        # `errors` holds its singular, `plurals` its plural, and its params' "num" the count.
        self.field_params = params or {}
        self.plurals = plurals or {}
        super().__init__("; ".join(f"{field}: {self.english(field)}" for field in errors))

    def english(self, field: str) -> str:
        """Says a field's problem in English, its placeholders filled."""
        params = self.field_params.get(field)
        plural = self.plurals.get(field, "")
        message = plural if plural and params and params.get("num") != 1 else self.errors[field]
        return message % params if params else message


class FieldConflict(FieldErrors):
    """A value another record already holds (an email another account uses), named by its
    field: the API answers 409, a page says it beside the field as for any other error."""

    status_code = 409


class TooManyWrongPasswords(FieldErrors):
    """Too many wrong passwords on an account lately, named by the password's field: the API
    answers 429 with Retry-After, a page says it beside the field and answers 429 too, as the
    log-in page does."""

    status_code = 429
    page_status = 429
    MESSAGE = "Too many wrong passwords. Please wait a few minutes and try again."

    def __init__(self, field: str, *, retry_after_s: int) -> None:
        super().__init__({field: self.MESSAGE})
        self.retry_after_s = retry_after_s
