"""The `homeward` command: each module of this package adds its commands."""

import typer

from service.cli import accounts, roster
from service.cli import evaluate as evaluate_commands
from service.cli import search as search_commands
from service.cli import worker as worker_commands

app = typer.Typer(
    help="Homeward: virtual return, matched well.", no_args_is_help=True, add_completion=False
)
accounts.register(app)
evaluate_commands.register(app)
roster.register(app)
search_commands.register(app)
worker_commands.register(app)

__all__ = ["app"]
