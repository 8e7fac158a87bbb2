"""Measuring the matcher on a labelled benchmark, through the application's own data path:
the profiles and needs are imported into a fresh database, indexed by the search backend,
embedded by the matching engine, and ranked as the worker ranks them for coordinators."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from matching.encoders import Encoder
from matching.metrics import evaluate, load_qrels
from matching.texts import lexical_query_text
from service.config import Settings
from service.core.imports import import_file
from service.core.indexing import reindex_all
from service.core.matching import MatchingEngine, need_record
from service.db import make_engine, migrate
from service.models import ExpertProfile, Institution, Need
from service.schemas.imports import Kind
from service.search import EXPERTS_STAFF, SearchBackend
from service.search.factory import make_search_backend

METHODS = ("lexical", "dense", "hybrid")
DEPTH = 100
INSTITUTION_ID = "benchmark-institution"
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Benchmark:
    profiles: Path
    needs: Path
    qrels: Path


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _write_jsonl(path: Path, rows: Iterator[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _expert_rows(profiles: Path, today: date) -> Iterator[dict[str, Any]]:
    # Only the texts carry meaning in the benchmark; the structured fields are set so that no
    # constraint excludes or favours anyone, and the ranking is the texts' alone.
    for profile in _read_jsonl(profiles):
        external_id = str(profile["profile_id"])
        yield {
            "external_id": external_id,
            "display_name": external_id,
            "email": f"{external_id.lower()}@benchmark.invalid",
            "headline": profile.get("headline", ""),
            "skills": list(profile.get("skills", [])),
            "bio": profile.get("bio", ""),
            "languages": [{"code": profile.get("lang") or "en", "level": "fluent"}],
            "origin_country": "IS",  # two real countries that differ: no country tie
            "residence_country": "IS",
            "modes": ["remote", "mission", "hybrid"],
            "availability_confirmed_at": today.isoformat(),
        }


def _need_rows(needs: Path) -> Iterator[dict[str, Any]]:
    for need in _read_jsonl(needs):
        yield {
            "external_id": str(need["need_id"]),
            "institution": INSTITUTION_ID,
            "title": need.get("title", ""),
            "description": need.get("text", ""),
            "mode": "remote",
            # The benchmark's experts write in English; a shared working language keeps the
            # language constraint neutral, whatever language the need is written in.
            "languages": ["en"],
            "sector": "research",
            "status": "open",
        }


def _import_benchmark(session: Session, bench: Benchmark, folder: Path, today: date) -> None:
    institution = folder / "institutions.jsonl"
    _write_jsonl(
        institution,
        iter(
            [
                {
                    "external_id": INSTITUTION_ID,
                    "name": "Benchmark",
                    "type": "university",
                    "country": "TO",
                }
            ]
        ),
    )
    experts, needs = folder / "experts.jsonl", folder / "needs.jsonl"
    _write_jsonl(experts, _expert_rows(bench.profiles, today))
    _write_jsonl(needs, _need_rows(bench.needs))
    steps: tuple[tuple[Kind, Path], ...] = (
        ("institutions", institution),
        ("experts", experts),
        ("needs", needs),
    )
    for kind, path in steps:
        report = import_file(session, kind=kind, path=path, actor=None)
        if not report.ok:
            details = "\n".join(report.lines()[:10])
            raise ValueError(f"the benchmark's {kind} did not import:\n{details}")


def _rankings(
    session: Session,
    matching: MatchingEngine,
    search: SearchBackend,
    methods: Sequence[str],
    progress: Progress | None,
) -> dict[str, dict[str, list[str]]]:
    external = {str(e.id): e.external_id or "" for e in session.exec(select(ExpertProfile))}
    needs = list(session.exec(select(Need)))
    institutions = {i.id: i for i in session.exec(select(Institution))}
    runs: dict[str, dict[str, list[str]]] = {method: {} for method in methods}
    for done, need in enumerate(needs, start=1):
        record = need_record(need, institutions.get(need.institution_id))
        need_key = need.external_id or str(need.id)
        text = lexical_query_text(record)
        lexical = {str(i): s for i, s in search.lexical_scores(EXPERTS_STAFF, text, DEPTH * 3)}
        if "lexical" in runs:
            ranked = sorted(lexical.items(), key=lambda item: -item[1])[:DEPTH]
            runs["lexical"][need_key] = [external[i] for i, _ in ranked]
        vectors = matching.matcher.embed_need(record)
        for method in ("dense", "hybrid"):
            if method not in runs:
                continue
            with matching.lock:
                candidates = matching.matcher.rank_experts(
                    record,
                    lexical_scores=lexical if method == "hybrid" else None,
                    k=DEPTH,
                    query_vectors=vectors,
                    explain=False,
                )
            runs[method][need_key] = [external[c.expert_id] for c in candidates]
        if progress is not None:
            progress("rank", done, len(needs))
    return runs


def run_evaluation(
    bench: Benchmark,
    *,
    encoder: Encoder,
    methods: Sequence[str] = METHODS,
    progress: Progress | None = None,
) -> dict[str, dict[str, float]]:
    """Imports, indexes, embeds and ranks a benchmark in a throwaway database; returns the
    metrics of each method."""
    today = datetime.now(UTC).date()
    qrels = load_qrels(bench.qrels)
    with tempfile.TemporaryDirectory(prefix="homeward-eval-") as tmp:
        folder = Path(tmp)
        settings = Settings(
            environment="test",
            data_dir=folder,
            secret_key="evaluation-" + "x" * 40,
            search_backend="embedded",
            _env_file=None,
        )
        engine = make_engine(settings.database_url)
        migrate(engine)
        search = make_search_backend(settings, engine)
        with Session(engine) as session:
            _import_benchmark(session, bench, folder, today)
        reindex_all(engine, search)
        matching = MatchingEngine(encoder, today=lambda: today)
        matching.sync(engine, progress=(lambda d, t: progress("embed", d, t)) if progress else None)
        with Session(engine) as session:
            runs = _rankings(session, matching, search, methods, progress)
        search.close()
        engine.dispose()
    # Judge only the needs that were given: a subset of a track is measured on that subset.
    asked = {str(row["need_id"]) for row in _read_jsonl(bench.needs)}
    judged = {need: grades for need, grades in qrels.items() if need in asked}
    return {method: _figures(evaluate(run, judged)) for method, run in runs.items()}


def _figures(scores: Any) -> dict[str, float]:
    return {
        "nDCG@10": round(scores.ndcg10, 4),
        "R@10": round(scores.recall10, 4),
        "R@50": round(scores.recall50, 4),
        "MRR@100": round(scores.mrr100, 4),
        "n_needs": scores.n_needs,
    }


def format_table(results: Mapping[str, Mapping[str, float]]) -> str:
    """Formats the figures as a text table, one method a row."""
    header = f"{'method':<8} {'nDCG@10':>8} {'R@10':>8} {'R@50':>8} {'MRR@100':>8} {'needs':>6}"
    rows = [header]
    for method, figures in results.items():
        rows.append(
            f"{method:<8} {figures['nDCG@10']:>8.4f} {figures['R@10']:>8.4f} "
            f"{figures['R@50']:>8.4f} {figures['MRR@100']:>8.4f} {int(figures['n_needs']):>6}"
        )
    return "\n".join(rows)
