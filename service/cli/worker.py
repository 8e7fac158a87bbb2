"""The `homeward worker` command: runs the background jobs."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from service.config import get_settings


def register(app: typer.Typer) -> None:
    """Adds these commands to the `homeward` command."""
    app.command("worker")(worker_command)


def worker_command(
    once: Annotated[bool, typer.Option(help="Run the jobs due now, then exit.")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between two looks at the queue.")] = 5.0,
) -> None:
    """Runs background jobs: offer expiry, reminders, emails, re-matching, search sync."""
    from service.main import build_state
    from service.worker import Worker
    from service.worker.runner import run_forever

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = get_settings()
    state = build_state(settings)
    try:
        if once:
            ran = Worker(state).tick()
            typer.echo(f"Ran {ran} job(s).")
        else:
            run_forever(state, poll_s=poll)
    except KeyboardInterrupt:
        typer.echo("Worker stopped.")
    finally:
        state.search.close()
        state.engine.dispose()
