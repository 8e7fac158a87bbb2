"""Matching speed: top-10 retrieval latency, encoder throughput, index memory.

Usage: python bench/matching_speed.py [--json] [--sizes 10000 100000] [--encoder homeward-fused]

Retrieval runs `VectorIndex.search` over random normalised vectors of the matcher's row
dimension, beside a brute-force numpy reference (`scores = M @ q; np.argsort`) measured in the
same run. `--json` prints exactly one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from matching.encoders import DEFAULT_ENCODER, load_encoder  # noqa: E402
from matching.index import VectorIndex  # noqa: E402
from matching.matcher import Matcher  # noqa: E402
from matching.records import ExpertRecord  # noqa: E402
from matching.texts import PROFILE_SECTIONS  # noqa: E402

BENCH_DIR = Path(os.environ.get("HOMEWARD_BENCH_DIR", "/work/shared/bench"))
FUSED_DIM = 512 + 384 + 384


def rss_mb() -> float:
    """Resident memory of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile_ms(samples: list[float], q: float) -> float:
    """A percentile of durations in seconds, in milliseconds."""
    return float(np.percentile(np.array(samples) * 1000.0, q))


def time_retrieval(n: int, dim: int, queries: int, rng: np.random.Generator) -> dict[str, float]:
    """Latency of top-10 over n random experts, index vs brute-force reference."""
    rows = rng.standard_normal((n, dim), dtype=np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    index = VectorIndex(dim, capacity=n)
    ids = [f"e{i}" for i in range(n)]
    index.upsert(ids, rows)
    del rows
    matrix = index.matrix
    qs = rng.standard_normal((queries, dim), dtype=np.float32)
    qs /= np.linalg.norm(qs, axis=1, keepdims=True)
    ours: list[float] = []
    reference: list[float] = []
    for q in qs:
        # Interleaved, so both see the same cache and CPU conditions.
        started = time.perf_counter()
        hits = index.search(q, 10)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        scores = matrix @ q
        order = np.argsort(-scores)[:10]
        expected = [ids[i] for i in order]
        reference.append(time.perf_counter() - started)
        assert [h for h, _ in hits] == expected, "top-10 differs from brute force"
    return {
        "n_experts": n,
        "dim": dim,
        "p50_ms": round(percentile_ms(ours, 50), 3),
        "p95_ms": round(percentile_ms(ours, 95), 3),
        "reference_p50_ms": round(percentile_ms(reference, 50), 3),
        "reference_p95_ms": round(percentile_ms(reference, 95), 3),
        "index_mb": round(index.matrix.nbytes / 2**20, 1),
    }


def time_encoder(name: str, n_profiles: int) -> dict[str, object]:
    """Profiles embedded per second by the matcher (every section), and RSS with it loaded."""
    rows = [
        json.loads(line)
        for line in (BENCH_DIR / "profiles.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()[:n_profiles]
    ]
    experts = [
        ExpertRecord(str(r["profile_id"]), str(r["headline"]), list(r["skills"]), str(r["bio"]))
        for r in rows
    ]
    encoder = load_encoder(name)
    matcher = Matcher(encoder)
    matcher.embed_experts(experts[:4])  # warm-up: lazy weights, thread pools
    started = time.perf_counter()
    matcher.embed_experts(experts)
    elapsed = time.perf_counter() - started
    return {
        "model": f"{encoder.name} ({encoder.version})",
        "texts_per_s": round(len(experts) / elapsed, 2),
        "sections_per_profile": len(PROFILE_SECTIONS),
        "rss_mb_with_encoder": round(rss_mb(), 1),
    }


def main() -> None:
    """Runs the speed benchmark and prints a table or one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--encoder", default=DEFAULT_ENCODER)
    parser.add_argument("--profiles", type=int, default=200)
    parser.add_argument("--dim", type=int, default=FUSED_DIM * len(PROFILE_SECTIONS))
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    retrieval = [time_retrieval(n, args.dim, args.queries, rng) for n in args.sizes]
    encoder = time_encoder(args.encoder, args.profiles)
    result = {
        "retrieval": retrieval,
        "encoder": encoder,
        "index_mb": retrieval[-1]["index_mb"],
    }
    if args.json:
        print(json.dumps(result))
        return
    header = ("experts", "dim", "p50 ms", "p95 ms", "ref p50", "ref p95", "MB")
    print(" ".join(f"{h:>8}" for h in header))
    for r in retrieval:
        print(
            f"{r['n_experts']:>8} {r['dim']:>8} {r['p50_ms']:>8} {r['p95_ms']:>8} "
            f"{r['reference_p50_ms']:>8} {r['reference_p95_ms']:>8} {r['index_mb']:>8}"
        )
    print(
        f"encoder {encoder['model']}: {encoder['texts_per_s']} profiles/s "
        f"({encoder['sections_per_profile']} sections each), "
        f"RSS {encoder['rss_mb_with_encoder']} MB"
    )


if __name__ == "__main__":
    main()
