"""Commands about the server, the database and accounts."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session

from service.config import get_settings
from service.core.accounts import (
    create_api_token,
    create_user,
    end_all_sessions,
    list_api_tokens,
    revoke_api_token,
)
from service.db import make_engine, migrate
from service.errors import FieldErrors, NotFound
from service.i18n import translate_message
from service.models import Role, User
from service.models.types import utcnow
from service.repos import users as users_repo
from service.schemas.common import PASSWORD_MIN_LENGTH, Email, Password


def register(app: typer.Typer) -> None:
    """Adds these commands to the `homeward` command."""
    app.command()(serve)
    app.command("migrate")(migrate_command)
    app.command("create-user")(create_user_command)
    app.command("create-token")(create_token_command)
    app.command("list-tokens")(list_tokens_command)
    app.command("revoke-token")(revoke_token_command)
    app.command("end-sessions")(end_sessions_command)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="HOMEWARD_WEB_WORKERS",
            help="Web processes; one per CPU core (bench/http_load.py measures 1 against 2).",
        ),
    ] = 1,
) -> None:
    """Serves the site and the API."""
    import uvicorn

    if reload and workers > 1:
        raise typer.BadParameter("--reload runs one process: leave --workers at 1.")
    if reload:
        os.environ["HOMEWARD_TEMPLATE_RELOAD"] = "true"
    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        workers=workers,
        proxy_headers=True,
    )


def migrate_command() -> None:
    """Applies the database migrations up to the latest."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    migrate(engine)
    typer.echo(f"Database is up to date ({engine.url.render_as_string(hide_password=True)}).")


def _checked(kind: Any, value: str, label: str) -> str:
    """Checks a value as the forms do (a shared field type), with the forms' message."""
    try:
        return str(TypeAdapter(kind).validate_python(value))
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise typer.BadParameter(f"{label}: {translate_message(message)}") from exc


def create_user_command(
    email: Annotated[str, typer.Argument(help="Email of the new account.")],
    role: Annotated[Role, typer.Option(help="Role of the account.")] = Role.COORDINATOR,
    password: Annotated[
        str | None,
        typer.Option(
            help=f"Password, at least {PASSWORD_MIN_LENGTH} characters; asked for when omitted."
        ),
    ] = None,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
) -> None:
    """Creates an account, typically for programme staff."""
    email = _checked(Email, email, "email")
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    password = _checked(Password, password, f"password (at least {PASSWORD_MIN_LENGTH} characters)")
    engine = make_engine(get_settings().database_url)
    with Session(engine) as session:
        try:
            user = create_user(
                session, email=email, password=password, role=role, display_name=name or email
            )
        except FieldErrors as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(1) from exc
        session.commit()
        typer.echo(f"Created {user.role} account {user.email} (id {user.id}).")


def _account(session: Session, email: str) -> User:
    user = users_repo.get_user_by_email(session, email)
    if user is None:
        typer.echo(f"error: no account with email {email}", err=True)
        raise typer.Exit(1)
    return user


def create_token_command(
    email: Annotated[str, typer.Argument(help="Email of the account the token acts for.")],
    name: Annotated[str, typer.Option(help="A name to recognise the token by.")] = "cli",
    expires_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Days until the token stops working.")
    ] = None,
) -> None:
    """Prints a new personal API token, sent as 'Authorization: Bearer TOKEN'."""
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    engine = make_engine(get_settings().database_url)
    with Session(engine) as session:
        user = _account(session, email)
        token = create_api_token(session, user=user, name=name, expires_at=expires_at)
        session.commit()
    typer.echo(token)


def list_tokens_command(
    email: Annotated[str, typer.Argument(help="Email of the account.")],
) -> None:
    """Lists an account's tokens: id, name, created, last used, expiry (tab-separated)."""
    engine = make_engine(get_settings().database_url)
    with Session(engine) as session:
        for token in list_api_tokens(session, user=_account(session, email)):
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
            expires = f"{token.expires_at:%Y-%m-%d %H:%M}" if token.expires_at else "no expiry"
            created = f"{token.created_at:%Y-%m-%d %H:%M}"
            typer.echo(f"{token.id}\t{token.name}\t{created}\t{used}\t{expires}")


def revoke_token_command(
    email: Annotated[str, typer.Argument(help="Email of the account the token belongs to.")],
    token_id: Annotated[int, typer.Argument(help="The token's id, as list-tokens shows it.")],
) -> None:
    """Revokes a personal API token: requests made with it are refused from now on."""
    engine = make_engine(get_settings().database_url)
    with Session(engine) as session:
        try:
            revoke_api_token(session, user=_account(session, email), token_id=token_id)
        except NotFound as exc:
            typer.echo(f"error: {email} has no live token {token_id}", err=True)
            raise typer.Exit(1) from exc
        session.commit()
    typer.echo(f"Revoked token {token_id} of {email}.")


def end_sessions_command(
    email: Annotated[str, typer.Argument(help="Email of the account.")],
) -> None:
    """Logs an account out everywhere (a lost laptop, a suspected intrusion); audited."""
    engine = make_engine(get_settings().database_url)
    with Session(engine) as session:
        ended = end_all_sessions(session, user=_account(session, email))
        session.commit()
    typer.echo(f"Ended {ended} session(s) of {email}.")
