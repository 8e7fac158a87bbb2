"""The `homeward eval` command: the matcher measured on a labelled benchmark."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from service.config import get_settings
from service.core.evaluation import METHODS, Benchmark, format_table, run_evaluation


def register(app: typer.Typer) -> None:
    """Adds this command to the `homeward` command."""
    app.command("eval")(eval_command)


def eval_command(
    profiles: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="profiles.jsonl")],
    needs: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="needs_<track>.jsonl")],
    qrels: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="qrels_<track>.tsv")],
    method: Annotated[str, typer.Option(help="lexical, dense, hybrid or all")] = "all",
    model: Annotated[str | None, typer.Option(help="Encoder (default: the configured one)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object only")] = False,
) -> None:
    """Imports a benchmark into a temporary database, ranks the top 100 experts of every need
    with the real matcher, and prints nDCG@10, Recall@10, Recall@50 and MRR@100."""
    if method not in (*METHODS, "all"):
        raise typer.BadParameter(
            f"choose one of {', '.join(METHODS)} or all", param_hint="--method"
        )
    from matching.encoders import load_encoder

    settings = get_settings()
    encoder = load_encoder(
        model or settings.embedding_model,
        threads=settings.embedding_threads,
        precision=settings.embedding_precision,
    )

    def progress(stage: str, done: int, total: int) -> None:
        if not as_json and (done == total or done % 100 == 0):
            typer.echo(f"{stage}: {done}/{total}", err=True)

    results = run_evaluation(
        Benchmark(profiles=profiles, needs=needs, qrels=qrels),
        encoder=encoder,
        methods=METHODS if method == "all" else (method,),
        progress=progress,
    )
    if as_json:
        sys.stdout.write(json.dumps(results) + "\n")
    else:
        typer.echo(f"{encoder.name} ({encoder.version})")
        typer.echo(format_table(results))
