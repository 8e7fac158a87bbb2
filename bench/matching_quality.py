"""Matching quality on the dev benchmark: lexical, dense (each model) and hybrid, per track.

Usage: python bench/matching_quality.py [--tracks desc_en desc_fr desc_es]
                                        [--storage float32 int8] [--threads 2]
                                        [--precision auto|float32|bfloat16|int8]
                                        [--needs M --profiles N] [--encoder NAME] [--json]

Each storage of the matcher's index (float32: the exact reference; int8: the compact rows the
application keeps) is scored in the same run, from the same cached vectors.

Embeddings are cached under bench/.cache/ keyed by model version + text hash, so reruns are fast;
the version names the torch models' precision (`--precision`), so each precision has its own rows.
`--needs M --profiles N` scores a fixed subset (for a quick comparison of encoders on a loaded
machine): the first M needs of each track, and N profiles, those judged for these needs first,
then the others in file order; its figures compare with each other, not with the full split's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from matching.encoders import (  # noqa: E402
    DEFAULT_ENCODER,
    Encoder,
    PrecisionSetting,
    content_hash,
    load_encoder,
)
from matching.fusion import FusionWeights  # noqa: E402
from matching.index import Storage  # noqa: E402
from matching.matcher import Matcher, StoredVector  # noqa: E402
from matching.metrics import Qrels, Scores, evaluate, load_qrels  # noqa: E402
from matching.records import ExpertRecord, NeedRecord  # noqa: E402
from matching.texts import (  # noqa: E402
    PROFILE_SECTIONS,
    QUERY_SIDES,
    SECTION_MODELS,
    lexical_query_text,
    need_side_texts,
    profile_document_text,
    profile_section_texts,
)

BENCH_DIR = Path(os.environ.get("HOMEWARD_BENCH_DIR", "/work/shared/bench"))
CACHE_DIR = Path(os.environ.get("HOMEWARD_BENCH_CACHE", Path(__file__).resolve().parent / ".cache"))
TRACKS = ("desc_en", "desc_fr", "desc_es")
# Threads each model runs on (--threads): 1 wastes none waiting on a busy shared machine.
THREADS = 2
# What the torch members compute in (--precision), and the subset (--needs, --profiles; 0: all).
PRECISION: PrecisionSetting = "auto"
NEEDS = 0
PROFILES = 0


def read_jsonl(path: Path) -> list[dict[str, object]]:
    """Reads one JSON object per line."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_track(bench_dir: Path, track: str) -> tuple[list[dict[str, object]], Qrels]:
    """Loads the needs and the qrels of one track."""
    needs = read_jsonl(bench_dir / f"needs_{track}.jsonl")
    return needs, load_qrels(bench_dir / f"qrels_{track}.tsv")


# --- embedding cache ------------------------------------------------------------------------


class EmbeddingCache:
    """Vectors on disk, one file per (model version, side), keyed by content hash."""

    def __init__(self, encoder: Encoder, side: str, cache_dir: Path = CACHE_DIR) -> None:
        self.encoder = encoder
        self.side = side
        safe = re.sub(r"[^A-Za-z0-9_.=-]+", "_", f"{encoder.name}-{side}")
        self.path = cache_dir / f"{safe}.npz"
        self.vectors: dict[str, np.ndarray] = {}
        if self.path.exists():
            with np.load(self.path) as data:
                keys, matrix = data["keys"], data["vectors"]
                self.vectors = {str(k): matrix[i] for i, k in enumerate(keys)}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Returns one row per text, embedding only texts not seen before."""
        version = self.encoder.version
        keys = [content_hash(text, version) for text in texts]
        missing = sorted(
            {k: t for k, t in zip(keys, texts, strict=True) if k not in self.vectors}.items()
        )
        if missing:
            encode = {
                "query": self.encoder.encode_queries,
                "document": self.encoder.encode_documents,
                "symmetric": self.encoder.encode_symmetric,
            }[self.side]
            fresh = encode([t for _, t in missing])
            for (key, _), row in zip(missing, fresh, strict=True):
                self.vectors[key] = row
            self._save()
        return np.stack([self.vectors[k] for k in keys]).astype(np.float32)

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self.vectors))
        matrix = np.stack(list(self.vectors.values()))
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=matrix)
        tmp.replace(self.path)


# --- lexical signal: BENCHMARK STAND-IN for the service's SQLite FTS5 backend -----------------
# The application's lexical scores come from service/search (SQLite FTS5 bm25() or Meilisearch).
# This stand-in reproduces the embedded backend's semantics so fusion can be tuned here:
# tokenizer `unicode61 remove_diacritics 2`, query = OR of sanitised terms, score = -bm25().
# To switch to the real backend, replace `Bm25StandIn.scores` with a call to it.

_TERM = re.compile(r"\w+", re.UNICODE)


class Bm25StandIn:
    """In-memory FTS5 table over profile documents; scores are -bm25() (higher is better)."""

    def __init__(self, docs: Mapping[str, str]) -> None:
        self.db = sqlite3.connect(":memory:")
        self.db.execute(
            "CREATE VIRTUAL TABLE docs USING fts5(pid UNINDEXED, body, "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        self.db.executemany("INSERT INTO docs(pid, body) VALUES (?, ?)", list(docs.items()))

    def scores(self, query: str, limit: int = 1000) -> dict[str, float]:
        """Scores profiles matching any term of the query."""
        terms = sorted({t.lower() for t in _TERM.findall(query) if len(t) > 1})
        if not terms:
            return {}
        match = " OR ".join(f'"{t}"' for t in terms)
        rows = self.db.execute(
            "SELECT pid, -bm25(docs) FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?",
            (match, limit),
        ).fetchall()
        return {str(pid): float(score) for pid, score in rows}


# --- methods ----------------------------------------------------------------------------------


def rank(scores: np.ndarray, ids: Sequence[str], k: int = 100) -> list[str]:
    """Top-k ids by score, best first."""
    k = min(k, len(ids))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [ids[i] for i in top]


def lexical_matrix(bm25: Bm25StandIn, queries: Sequence[str], ids: Sequence[str]) -> np.ndarray:
    """BM25 scores as a dense (needs x profiles) matrix, 0 where a profile does not match."""
    position = {pid: i for i, pid in enumerate(ids)}
    out = np.zeros((len(queries), len(ids)), dtype=np.float32)
    for row, query in enumerate(queries):
        for pid, score in bm25.scores(query).items():
            out[row, position[pid]] = score
    return out


def run_from_matrix(
    matrix: np.ndarray, need_ids: Sequence[str], ids: Sequence[str]
) -> dict[str, list[str]]:
    """Turns a (needs x profiles) score matrix into ranked lists."""
    return {need_id: rank(matrix[i], ids) for i, need_id in enumerate(need_ids)}


def expert_from_row(row: Mapping[str, object]) -> ExpertRecord:
    """A benchmark profile as the matcher sees it (no structured constraints)."""
    skills = row.get("skills") or []
    assert isinstance(skills, list)
    return ExpertRecord(
        expert_id=str(row["profile_id"]),
        headline=str(row.get("headline", "")),
        skills=[str(s) for s in skills],
        bio=str(row.get("bio", "")),
    )


def need_from_row(row: Mapping[str, object]) -> NeedRecord:
    """A benchmark need as the matcher sees it."""
    return NeedRecord(
        need_id=str(row["need_id"]), title=str(row.get("title", "")), description=str(row["text"])
    )


def cached_vectors(
    members: Sequence[Encoder],
    side: str,
    texts: Sequence[str],
    log: Callable[[str], None],
    only: Sequence[str] | None = None,
) -> np.ndarray:
    """Fused vectors (members side by side), each member through its own disk cache;
    members not in `only` are left at zero, as the matcher leaves them."""
    blocks = []
    for encoder in members:
        if only is not None and encoder.name not in only:
            blocks.append(np.zeros((len(texts), encoder.dim), dtype=np.float32))
            continue
        started = time.perf_counter()
        blocks.append(EmbeddingCache(encoder, side).embed(texts))
        elapsed = time.perf_counter() - started
        if elapsed > 1.0:
            log(f"  {encoder.name} {side}: {len(texts)} texts in {elapsed:.1f}s")
    return np.concatenate(blocks, axis=1)


def build_matcher(
    experts: Sequence[ExpertRecord],
    encoder_name: str,
    log: Callable[[str], None],
    storage: Storage = "int8",
) -> tuple[Matcher, list[Encoder]]:
    """A matcher over the benchmark profiles, its vectors assembled from cached members."""
    fused = load_encoder(encoder_name, threads=THREADS, precision=PRECISION)
    members = [
        load_encoder(block.name, threads=THREADS, precision=PRECISION) for block in fused.blocks
    ]
    matcher = Matcher(fused, today=lambda: date(2026, 1, 1), storage=storage)
    sections = [profile_section_texts(e) for e in experts]
    rows = np.concatenate(
        [
            cached_vectors(
                members,
                "document",
                [texts[i] for texts in sections],
                log,
                only=[b.name for b in fused.document_blocks(SECTION_MODELS[section])],
            )
            for i, section in enumerate(PROFILE_SECTIONS)
        ],
        axis=1,
    )
    stored = {
        e.expert_id: StoredVector(matcher.expert_hash(e), matcher.version, row)
        for e, row in zip(experts, rows, strict=True)
    }
    matcher.index_experts(experts, stored=stored)
    return matcher, members


def only(signals: Sequence[str], lexical: float = 0.0) -> Callable[[str], FusionWeights]:
    """Weights that keep just the given signals, for single-method rows."""
    weights = FusionWeights(dense={name: 1.0 for name in signals}, lexical=lexical)
    return lambda language: weights


def evaluate_track(
    track: str,
    bench_dir: Path,
    log: Callable[[str], None],
    encoder_name: str = DEFAULT_ENCODER,
    storage: Storage = "int8",
) -> dict[str, Scores]:
    """Scores every method on one track, with the index stored as `storage`."""
    experts = [expert_from_row(r) for r in read_jsonl(bench_dir / "profiles.jsonl")]
    rows, qrels = load_track(bench_dir, track)
    if NEEDS:
        rows = rows[:NEEDS]
        qrels = {str(r["need_id"]): qrels.get(str(r["need_id"]), {}) for r in rows}
    if PROFILES:
        judged = {pid for grades in qrels.values() for pid in grades}
        experts.sort(key=lambda e: e.expert_id not in judged)  # stable: file order within
        experts = experts[:PROFILES]
    needs = [need_from_row(r) for r in rows]
    matcher, members = build_matcher(experts, encoder_name, log, storage)
    sides = [need_side_texts(n) for n in needs]
    query_rows = np.stack(
        [
            cached_vectors(members, "query", [texts[i] for texts in sides], log)
            for i in range(len(QUERY_SIDES))
        ],
        axis=1,
    )
    bm25 = Bm25StandIn({e.expert_id: profile_document_text(e) for e in experts})
    lexical = [bm25.scores(lexical_query_text(n)) for n in needs]

    methods: dict[str, tuple[Callable[[str], FusionWeights], bool]] = {
        "lexical (BM25)": (only([], lexical=1.0), True),
    }
    for encoder in members:
        methods[f"dense {encoder.name}"] = (only([f"{encoder.name}.document"]), False)
    methods["dense fused"] = (FusionWeights.for_language, False)
    methods["hybrid"] = (FusionWeights.for_language, True)

    results: dict[str, Scores] = {}
    for method, (weights_for, with_lexical) in methods.items():
        matcher.weights_for = weights_for
        run = {
            need.need_id: [
                c.expert_id
                for c in matcher.rank_experts(
                    need,
                    k=100,
                    query_vectors=query_rows[i],
                    lexical_scores=lexical[i] if with_lexical else None,
                    explain=False,
                )
            ]
            for i, need in enumerate(needs)
        }
        results[method] = evaluate(run, qrels)
    return results


def main() -> None:
    """Runs the benchmark and prints a table (or one JSON object)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tracks", nargs="+", default=list(TRACKS))
    parser.add_argument("--bench-dir", type=Path, default=BENCH_DIR)
    parser.add_argument("--storage", nargs="+", choices=["float32", "int8"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--precision", choices=["auto", "float32", "bfloat16", "int8"], default="auto"
    )
    parser.add_argument("--needs", type=int, default=0)
    parser.add_argument("--profiles", type=int, default=0)
    parser.add_argument(
        "--encoder", default=DEFAULT_ENCODER, help="the fused encoder whose members are scored"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    global THREADS, PRECISION, NEEDS, PROFILES  # noqa: PLW0603 (read by build_matcher)
    THREADS, PRECISION, NEEDS, PROFILES = args.threads, args.precision, args.needs, args.profiles
    storages: list[Storage] = args.storage or ["float32", "int8"]

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    # table[track][storage][method] -> metrics
    table: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for track in args.tracks:
        table[track] = {}
        for storage in storages:
            log(f"{track} ({storage} index) ...")
            scores = evaluate_track(
                track, args.bench_dir, log, encoder_name=args.encoder, storage=storage
            )
            table[track][storage] = {m: s.to_dict() for m, s in scores.items()}
    if args.json:
        print(json.dumps(table, indent=2))
        return
    print(
        f"{'track':<8} {'index':<8} {'method':<16} {'nDCG@10':>8} {'R@10':>6} {'R@50':>6} "
        f"{'MRR@100':>8} {'dnDCG':>7}"
    )
    for track, by_storage in table.items():
        reference = by_storage.get("float32", {})
        for storage, methods in by_storage.items():
            for method, m in methods.items():
                base = reference.get(method)
                delta = f"{m['ndcg@10'] - base['ndcg@10']:+7.4f}" if base else ""
                print(
                    f"{track:<8} {storage:<8} {method:<16} {m['ndcg@10']:8.4f} "
                    f"{m['recall@10']:6.3f} {m['recall@50']:6.3f} {m['mrr@100']:8.3f} {delta:>7}"
                )


if __name__ == "__main__":
    main()
