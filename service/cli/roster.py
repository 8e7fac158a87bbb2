"""Commands about rosters: the demo world (`seed`), `import` and `export`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session

from seed_data.loader import load_world
from service.cli import words
from service.config import Settings, get_settings
from service.core.exports import ExportFormat, export_records
from service.core.imports import import_file
from service.core.seed import WORLD_DIR, SeedFailed, load_accounts
from service.db import make_engine
from service.schemas.imports import Kind

err = Console(stderr=True)
# Files smaller than this load in a blink: no progress bar.
PROGRESS_MIN_BYTES = 1_000_000


def register(app: typer.Typer) -> None:
    """Adds these commands to the `homeward` command."""
    app.command("seed")(seed_command)
    app.command("import")(import_command)
    app.command("export")(export_command)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """Yields a progress callback that draws a rich bar per phase (or does nothing)."""
    if not enabled:
        yield lambda _phase, _done, _total: None
        return
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    ) as progress:

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(words.phase(phase), total=total)
            progress.update(tasks[phase], completed=done, total=total)

        yield update


def default_after_load(engine: Engine, settings: Settings) -> None:
    """Indexes the loaded records, embeds what has no current vector, re-matches open needs."""
    from service.core.matching import refresh_everything

    with _progress(sys.stderr.isatty()) as update:
        refresh_everything(engine, settings, progress=update)


def seed_command(
    world: Annotated[
        Path, typer.Option(help="Folder of the world files.", exists=True, file_okay=False)
    ] = WORLD_DIR,
    match: Annotated[
        bool, typer.Option(help="Embed and match after loading (when available).")
    ] = True,
) -> None:
    """Loads the demo world (idempotent: running it twice changes nothing)."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        with _progress(sys.stderr.isatty()) as update:
            report = load_world(engine, settings, world_dir=world, progress=update)
    except SeedFailed as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    for line in report.lines():
        typer.echo(line)
    if match:
        default_after_load(engine, settings)
    typer.echo("\nDemo accounts (log in at the site's /login):")
    for account in load_accounts(world):
        typer.echo(
            f"  {account['role']:<12} {account['email']:<42} password: {account['password']}"
        )


def import_command(
    kind: Annotated[Kind, typer.Argument(help="What the file holds.")],
    file: Annotated[Path, typer.Argument(help="A CSV or JSONL file.", exists=True, dir_okay=False)],
    dry_run: Annotated[bool, typer.Option(help="Check every row, write nothing.")] = False,
    partial: Annotated[
        bool, typer.Option(help="Write the good rows and report the bad ones.")
    ] = False,
    embed: Annotated[
        bool, typer.Option(help="Then embed what has no vector and re-match (when available).")
    ] = False,
    lang: words.Lang = "",
) -> None:
    """Imports experts, institutions or needs (upsert on external_id); exits 1 on bad rows."""
    engine = make_engine(get_settings().database_url)
    show = sys.stderr.isatty() and file.stat().st_size >= PROGRESS_MIN_BYTES
    with words.speaking(lang):
        with Session(engine, expire_on_commit=False) as session, _progress(show) as update:
            report = import_file(
                session,
                kind=kind,
                path=file,
                actor=None,
                dry_run=dry_run,
                partial=partial,
                progress=update,
            )
        for line in words.report_lines(report):
            typer.echo(line, err=not report.ok)
        if embed and report.written:
            default_after_load(engine, get_settings())
    if not report.ok:
        raise typer.Exit(1)


def export_command(
    kind: Annotated[Kind, typer.Argument(help="What to export.")],
    format: Annotated[ExportFormat, typer.Option("--format", help="File format.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option(help="File to write (standard output by default).")
    ] = None,
    delimiter: Annotated[str, typer.Option(help="CSV delimiter: , or ;")] = ",",
    bom: Annotated[bool, typer.Option(help="Start a CSV with a byte-order mark (Excel).")] = False,
    lang: words.Lang = "",
) -> None:
    """Exports every expert, institution or need in the import format."""
    with words.speaking(lang):
        _export(kind, format, output, delimiter, bom)


def _export(
    kind: Kind, format: ExportFormat, output: Path | None, delimiter: str, bom: bool
) -> None:
    if delimiter not in (",", ";"):
        raise typer.BadParameter(words.bad_delimiter(), param_hint="'--delimiter'")
    engine = make_engine(get_settings().database_url)
    with Session(engine, expire_on_commit=False) as session:
        if output is None:
            stream = sys.stdout
            count = export_records(
                session, kind=kind, out=stream, fmt=format, delimiter=delimiter, bom=bom
            )
            stream.flush()
        else:
            with output.open("w", encoding="utf-8", newline="") as stream:
                count = export_records(
                    session, kind=kind, out=stream, fmt=format, delimiter=delimiter, bom=bom
                )
        session.commit()
    if output is not None:
        typer.echo(words.exported(kind, count, output), err=True)
