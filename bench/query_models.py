"""Which bundled model should embed search queries in the web process: cost and quality.

    python bench/query_models.py [--models e5 use minilm] [--threads 1 2] [--texts 60]
        [--quality search_quality.json ...] [--json]

Each model, at each thread count, runs in a fresh process that first imports what the web
process imports (torch, the encoders, the search code), then loads the model and embeds one
need title at a time, each new to the model (the web's memory of recent texts is not used):
wall clock and CPU time per query (p50 / p95), and the resident memory the model adds to that
process (after loading and a first query, and after all the queries). Beside each, in the same
process, a fixed reference: one exact float32 scan of 100,000 x 384 vectors, so figures taken on
a busy machine can be read against what it could do then.

With `--quality` (the `--json` output of bench/search_quality.py, one file or several), each
model's hybrid nDCG@10 on the English, French and Spanish titles and its typo recall are
printed beside its cost, with the issue's goals (hybrid >= 0.45 on French and Spanish, >= lexical
on English, one-typo Recall@10 >= 90 % of clean) and quality per millisecond (mean hybrid
nDCG@10 over the three languages / CPU ms p50 of a new text). Measures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("HOMEWARD_BENCH_DIR", ROOT.parent / "shared" / "bench"))
FALLBACK_TEXTS = (
    "épidémiologiste santé publique",
    "data engineer",
    "pediatrician",
    "Comptable",
    "ingeniero civil para proyectos de riego",
    "machine learning for crop yields",
    "professeur de mathématiques",
    "biostatistics",
)


def rss_mb() -> float:
    """Gets this process's resident memory in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def titles(limit: int) -> list[str]:
    """Need titles of the benchmark, the three languages interleaved (short texts as typed)."""
    tracks = []
    for lang in ("en", "fr", "es"):
        path = BENCH_DIR / f"needs_desc_{lang}.jsonl"
        if path.exists():
            with path.open(encoding="utf-8") as rows:
                tracks.append([str(json.loads(line)["title"]) for line in rows if line.strip()])
    mixed = [t for group in zip(*tracks, strict=False) for t in group] if tracks else []
    return (mixed or list(FALLBACK_TEXTS))[:limit]


def percentile(values: list[float], p: float) -> float:
    """Gets the p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def child(model: str, threads: int, count: int) -> dict[str, Any]:
    """Measures one model at one thread count in this (fresh) process."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    import service.core.search_vectors  # noqa: F401  (what the web process has loaded)
    from matching.encoders import load_encoder

    texts = titles(count)
    before = rss_mb()
    started = time.perf_counter()
    encoder = load_encoder(model, threads=threads)
    encoder.encode_queries(["first query"])
    load_s = time.perf_counter() - started
    after_first = rss_mb()
    rng = np.random.default_rng(42)
    matrix = rng.standard_normal((100_000, 384)).astype(np.float32)
    probe = matrix[0].copy()
    wall: list[float] = []
    cpu: list[float] = []
    scan: list[float] = []
    for i, text in enumerate(texts):
        w, c = time.perf_counter(), time.process_time()
        encoder.encode_queries([text])
        wall.append((time.perf_counter() - w) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        if i % 6 == 0:
            w = time.perf_counter()
            matrix @ probe
            scan.append((time.perf_counter() - w) * 1000)
    steady = rss_mb() - matrix.nbytes / 1_048_576
    return {
        "model": model,
        "threads": threads,
        "dim": encoder.dim,
        "load_s": round(load_s, 2),
        "rss_mb_loaded_first_query": round(after_first - before),
        "rss_mb_after_queries": round(steady - before),
        "texts": len(texts),
        "new_text_ms": {
            "p50": round(percentile(wall, 50), 2),
            "p95": round(percentile(wall, 95), 2),
            "cpu_p50": round(percentile(cpu, 50), 2),
            "cpu_p95": round(percentile(cpu, 95), 2),
        },
        "reference_scan_ms": {
            "p50": round(percentile(scan, 50), 2),
            "p95": round(percentile(scan, 95), 2),
        },
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def read_quality(paths: list[Path]) -> dict[str, dict[str, dict[str, float]]]:
    """Merges the `quality` tables of bench/search_quality.py --json outputs."""
    merged: dict[str, dict[str, dict[str, float]]] = {}
    for path in paths:
        for track, methods in json.loads(path.read_text())["quality"].items():
            merged.setdefault(track, {}).update(methods)
    return merged


def verdict(model: str, quality: dict[str, dict[str, dict[str, float]]]) -> dict[str, Any] | None:
    """A model's hybrid figures against the issue's goals, or None without its figures."""
    label = f"hybrid {model}"
    if any(label not in quality.get(t, {}) for t in ("desc_en", "desc_fr", "desc_es")):
        return None
    ndcg = {t: quality[t][label]["ndcg@10"] for t in ("desc_en", "desc_fr", "desc_es")}
    typo = None
    if label in quality.get("typo_en", {}) and quality["desc_en"][label]["recall@10"]:
        typo = quality["typo_en"][label]["recall@10"] / quality["desc_en"][label]["recall@10"]
    lexical_en = quality["desc_en"].get("lexical", {}).get("ndcg@10", 0.0)
    goals = (
        min(ndcg["desc_fr"], ndcg["desc_es"]) >= 0.45
        and ndcg["desc_en"] >= lexical_en
        and (typo is None or typo >= 0.9)
    )
    return {
        "ndcg@10": ndcg,
        "typo_recall_share": None if typo is None else round(typo, 3),
        "mean_ndcg@10": round(sum(ndcg.values()) / 3, 4),
        "meets_goals": goals,
    }


def main() -> None:
    """Runs every model and thread count in its own process, prints a table or JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="*", default=["e5", "use", "minilm"])
    parser.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    parser.add_argument("--texts", type=int, default=60, help="titles embedded per model")
    parser.add_argument("--quality", nargs="*", type=Path, default=[])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.texts)))
        return
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    runs = []
    for model in args.models:
        for threads in args.threads:
            out = subprocess.run(
                [sys.executable, __file__, "--child", model, str(threads)]
                + ["--texts", str(args.texts)],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"{model} x{threads}: {runs[-1]['new_text_ms']}", file=sys.stderr, flush=True)
    quality = read_quality(args.quality) if args.quality else {}
    for run in runs:
        judged = verdict(run["model"], quality)
        if judged is not None:
            cpu = run["new_text_ms"]["cpu_p50"]
            judged["ndcg_per_cpu_ms"] = round(judged["mean_ndcg@10"] / cpu, 4) if cpu else None
        run["quality"] = judged
    if args.json:
        print(json.dumps({"runs": runs, "loadavg": os.getloadavg()}, indent=2))
        return
    print(f"load average {[round(x, 2) for x in os.getloadavg()]}; new text = a title never seen")
    print(
        f"{'model':<7} {'thr':>3} {'p50 ms':>7} {'p95 ms':>7} {'CPU p50':>8} {'CPU p95':>8} "
        f"{'+RSS MB':>8} {'scan p50':>9} {'nDCG en/fr/es':>17} {'typo':>5} {'goals':>5} "
        f"{'nDCG/ms':>8}"
    )
    for run in runs:
        m, q = run["new_text_ms"], run["quality"]
        figures = ("", "", "", "")
        if q is not None:
            n = q["ndcg@10"]
            share = q["typo_recall_share"]
            figures = (
                f"{n['desc_en']:.3f}/{n['desc_fr']:.3f}/{n['desc_es']:.3f}",
                "" if share is None else f"{share:.0%}",
                "yes" if q["meets_goals"] else "no",
                f"{q['ndcg_per_cpu_ms']}",
            )
        print(
            f"{run['model']:<7} {run['threads']:>3} {m['p50']:>7} {m['p95']:>7} "
            f"{m['cpu_p50']:>8} {m['cpu_p95']:>8} {run['rss_mb_after_queries']:>8} "
            f"{run['reference_scan_ms']['p50']:>9} {figures[0]:>17} {figures[1]:>5} "
            f"{figures[2]:>5} {figures[3]:>8}"
        )


if __name__ == "__main__":
    main()
