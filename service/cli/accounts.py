"""Commands about the server, the database and accounts."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session

from service.config import get_settings
from service.core.accounts import create_api_token, create_user
from service.db import make_engine, migrate
from service.errors import FieldErrors
from service.models import Role
from service.repos import users as users_repo
from service.schemas.common import _email, _password


def register(app: typer.Typer) -> None:
    """Adds these commands to the `homeward` command."""
    app.command()(serve)
    app.command("migrate")(migrate_command)
    app.command("create-user")(create_user_command)
    app.command("create-token")(create_token_command)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
) -> None:
    """Serves the site and the API."""
    import uvicorn

    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        proxy_headers=True,
    )


def migrate_command() -> None:
    """Applies the database migrations up to the latest."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    migrate(engine)
    typer.echo(f"Database is up to date ({engine.url.render_as_string(hide_password=True)}).")


def _checked(check: object, value: str, label: str) -> str:
    try:
        return check(value)  # type: ignore[operator,no-any-return]
    except ValueError as exc:
        raise typer.BadParameter(f"{label}: {exc}") from exc


def create_user_command(
    email: Annotated[str, typer.Argument(help="Email of the new account.")],
    role: Annotated[Role, typer.Option(help="Role of the account.")] = Role.COORDINATOR,
    password: Annotated[str | None, typer.Option(help="Password; asked for when omitted.")] = None,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
) -> None:
    """Creates an account, typically for programme staff."""
    email = _checked(_email, email, "email")
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    password = _checked(_password, password, "password")
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


def create_token_command(
    email: Annotated[str, typer.Argument(help="Email of the account the token acts for.")],
    name: Annotated[str, typer.Option(help="A name to recognise the token by.")] = "cli",
) -> None:
    """Prints a new personal API token, sent as 'Authorization: Bearer TOKEN'."""
    engine = make_engine(get_settings().database_url)
    with Session(engine) as session:
        user = users_repo.get_user_by_email(session, email)
        if user is None:
            typer.echo(f"error: no account with email {email}", err=True)
            raise typer.Exit(1)
        token = create_api_token(session, user=user, name=name)
        session.commit()
    typer.echo(token)
