"""The `homeward` command: each module of this package adds its commands."""

import typer

from service.cli import accounts

app = typer.Typer(
    help="Homeward: virtual return, matched well.", no_args_is_help=True, add_completion=False
)
accounts.register(app)

__all__ = ["app"]
