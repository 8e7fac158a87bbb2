"""Commands about the search indexes."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlmodel import Session, func, select

from service.config import get_settings
from service.core.indexing import reindex_all
from service.db import make_engine
from service.models import ExpertProfile, Need
from service.search import EXPERTS_PUBLIC, EXPERTS_STAFF, NEEDS
from service.search.factory import make_search_backend


def register(app: typer.Typer) -> None:
    """Adds these commands to the `homeward` command."""
    app.command("reindex")(reindex_command)


def reindex_command() -> None:
    """Rebuilds every search index from the database, with a progress bar."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    backend = make_search_backend(settings, engine)
    with Session(engine) as session:
        experts = session.exec(select(func.count()).select_from(ExpertProfile)).one()
        needs = session.exec(select(func.count()).select_from(Need)).one()
    # The public index and the needs index hold a subset: their totals are upper bounds.
    totals = {EXPERTS_STAFF: experts, EXPERTS_PUBLIC: experts, NEEDS: needs}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns) as progress:
        tasks = {name: progress.add_task(name, total=total) for name, total in totals.items()}

        def advance(source: str, done: int) -> None:
            if source in tasks:
                progress.update(tasks[source], completed=done)

        counts = reindex_all(engine, backend, progress=advance)
        for name, task in tasks.items():
            progress.update(task, total=counts.get(name, 0), completed=counts.get(name, 0))
    backend.close()
    typer.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))
