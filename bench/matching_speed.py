"""Matching speed and memory: top-10 latency, index memory, worker RSS, encoder throughput.

Usage: python bench/matching_speed.py [--json] [--sizes 10000 100000] [--encoder homeward-fused]
                                      [--rss-experts 100000] [--profiles 64] [--skip-rss]

Retrieval: random vectors in the matcher's row layout (2,560 columns, of which the int8 index
stores the 1,792 that are ever non-zero), three ways in one interleaved loop: the int8 index
(what the matcher keeps), today's float32 index over the full row, and a brute-force numpy
reference over the same float32 rows (`scores = M @ q; np.argsort`). The float32 index must
equal the reference; the int8 top-10 is compared with it (overlap of the two top-10s).

RSS: one fresh process per index (today: float32 over the full row; int8: now) loads the
encoder, embeds a few profiles (the encoder's buffers are part of a worker), then indexes N
generated experts (distinct texts, random vectors handed over as stored vectors), generated a
batch of 1,000 at a time and dropped after indexing, as the service's sync reads them, starts
and ends as a sync does (`reserve`, `prepare_population`), and reports its resident and peak
memory.

`--json` prints exactly one JSON object.
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

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from matching.index import Storage, VectorIndex  # noqa: E402
from matching.records import ExpertRecord  # noqa: E402

BENCH_DIR = Path(os.environ.get("HOMEWARD_BENCH_DIR", "/work/shared/bench"))
# The default encoder's row: document section (USE 512, e5 384, MiniLM 384), then the headline
# section, of which only the USE block is embedded.
FUSED_DIM = 512 + 384 + 384
ROW_DIM = 2 * FUSED_DIM
LAYOUT = ((0, 512), (512, 896), (896, 1280), (1280, 1792))


def memory_mb() -> dict[str, float]:
    """Resident and peak resident memory of this process, in MB."""
    out = {"rss_mb": float("nan"), "peak_rss_mb": float("nan")}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            out["rss_mb"] = round(int(line.split()[1]) / 1024, 1)
        elif line.startswith("VmHWM:"):
            out["peak_rss_mb"] = round(int(line.split()[1]) / 1024, 1)
    return out


def percentile_ms(samples: list[float], q: float) -> float:
    """A percentile of durations in seconds, in milliseconds."""
    return round(float(np.percentile(np.array(samples) * 1000.0, q)), 3)


def layout_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random rows normalised block by block, zero outside the layout (as the matcher's)."""
    rows = np.zeros((n, ROW_DIM), dtype=np.float32)
    for start, stop in LAYOUT:
        block = rng.standard_normal((n, stop - start), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        rows[:, start:stop] = block
    return rows


def time_retrieval(n: int, queries: int, rng: np.random.Generator) -> dict[str, object]:
    """Top-10 latency over n random experts: int8 index, float32 index, brute force."""
    ids = [f"e{i}" for i in range(n)]
    compact = VectorIndex(ROW_DIM, capacity=n, blocks=LAYOUT, storage="int8")
    exact = VectorIndex(ROW_DIM, capacity=n, storage="float32")  # today's index
    for begin in range(0, n, 10_000):
        rows = layout_rows(rng, min(n, begin + 10_000) - begin)
        compact.upsert(ids[begin : begin + len(rows)], rows)
        exact.upsert(ids[begin : begin + len(rows)], rows)
    matrix = exact.stored
    qs = layout_rows(rng, queries)
    timings: dict[str, list[float]] = {"int8": [], "float32": [], "reference": []}
    overlap = 0
    for q in qs:
        # Interleaved, so all three see the same cache and CPU conditions.
        started = time.perf_counter()
        hits = compact.search(q, 10)
        timings["int8"].append(time.perf_counter() - started)
        started = time.perf_counter()
        today = exact.search(q, 10)
        timings["float32"].append(time.perf_counter() - started)
        started = time.perf_counter()
        scores = matrix @ q
        order = np.argsort(-scores)[:10]
        expected = [ids[i] for i in order]
        timings["reference"].append(time.perf_counter() - started)
        assert [h for h, _ in today] == expected, "float32 top-10 differs from brute force"
        overlap += len({h for h, _ in hits} & set(expected))
    return {
        "n_experts": n,
        "dim": ROW_DIM,
        "stored_dim": compact.stored_dim,
        **{f"{name}_p50_ms": percentile_ms(t, 50) for name, t in timings.items()},
        **{f"{name}_p95_ms": percentile_ms(t, 95) for name, t in timings.items()},
        "int8_top10_overlap": round(overlap / (10 * len(qs)), 4),
        "int8_index_mb": round(compact.nbytes / 2**20, 1),
        "float32_index_mb": round(exact.nbytes / 2**20, 1),
    }


def bench_experts(n: int, start: int = 0) -> list[ExpertRecord]:
    """Experts start..start+n-1 with distinct texts, cycled from the benchmark profiles."""
    rows = _profile_rows()
    experts = []
    for i in range(start, start + n):
        r = rows[i % len(rows)]
        # Fresh string objects per expert, as records read from a database would be.
        experts.append(
            ExpertRecord(
                f"x{i}",
                f"{r['headline']} #{i}",
                [str(s).encode().decode() for s in r["skills"]],
                f"{r['bio']} ({i})",
            )
        )
    return experts


_ROWS: list[dict[str, object]] = []


def _profile_rows() -> list[dict[str, object]]:
    if not _ROWS:
        text = (BENCH_DIR / "profiles.jsonl").read_text(encoding="utf-8")
        _ROWS.extend(json.loads(line) for line in text.splitlines())
    return _ROWS


def worker_memory(encoder_name: str, storage: str, n: int, profiles: int) -> dict[str, object]:
    """In this process: encoder loaded, a few profiles embedded, n experts indexed; memory.

    `storage` "today" is the float32 index over the full row that the matcher kept before.
    """
    from matching.encoders import load_encoder
    from matching.matcher import Matcher, StoredVector

    base = memory_mb()
    encoder = load_encoder(encoder_name)
    compact: Storage = "int8" if storage == "int8" else "float32"
    matcher = Matcher(encoder, storage=compact)
    if storage == "today":
        matcher.index = VectorIndex(matcher.index.dim)
    loaded = memory_mb()
    experts = bench_experts(profiles + 2)
    matcher.embed_experts(experts[:2])  # warm-up: lazy weights, thread pools
    started = time.perf_counter()
    matcher.embed_experts(experts[2 : 2 + profiles])
    embed_s = time.perf_counter() - started
    del experts
    with_encoder = memory_mb()
    rng = np.random.default_rng(0)
    width = matcher.index.dim
    if storage != "today":
        matcher.reserve(n)  # what a sync starts with: it counts the experts first
    # Records and vectors arrive a batch at a time, as the service's sync reads them: the
    # process never holds every row, only what the matcher keeps.
    for begin in range(0, n, 1000):
        batch = bench_experts(min(1000, n - begin), begin)
        vectors = layout_rows(rng, len(batch)) if width == ROW_DIM else None
        if vectors is None:
            vectors = rng.standard_normal((len(batch), width), dtype=np.float32)
        stored = {
            e.expert_id: StoredVector(matcher.expert_hash(e), matcher.version, v)
            for e, v in zip(batch, vectors, strict=True)
        }
        matcher.index_experts(batch, stored)
    del batch, vectors, stored
    if storage != "today":
        matcher.prepare_population()  # what a sync ends with: the spread for "needs for you"
    return {
        "storage": storage,
        "n_experts": len(matcher),
        "index_mb": round(matcher.index.nbytes / 2**20, 1),
        "bytes_per_row": matcher.index.bytes_per_row,
        "rss_mb_torch_imported": base["rss_mb"],
        "rss_mb_encoder_loaded": loaded["rss_mb"],
        "rss_mb_after_embedding": with_encoder["rss_mb"],
        "profiles_per_s": round(profiles / embed_s, 2) if profiles else None,
        **memory_mb(),
    }


def profile_encoder(encoder_name: str, n: int, batch_sizes: list[int]) -> list[dict[str, object]]:
    """Profiles/s of each member model on the profile document text, per batch size, and for
    MiniLM also at a shorter maximum sequence length (torch threads as the encoder sets them)."""
    import torch

    from matching.encoders import load_encoder
    from matching.texts import profile_document_text

    encoder = load_encoder(encoder_name)
    texts = [profile_document_text(e) for e in bench_experts(n + 2)]
    out: list[dict[str, object]] = []
    for block in encoder.blocks:
        model: Any = encoder.members.get(block.name, encoder.model)
        lengths: list[int | None] = [None]
        if block.name == "minilm":
            lengths.append(128)
        for length in lengths:
            default_length = model.max_seq_length
            if length is not None:
                model.max_seq_length = length
            # Texts a forward pass: MiniLM's backend batches itself, e5 and USE per call.
            holder = model.backend if hasattr(model.backend, "batch") else model
            served_batch = holder.batch
            for batch in batch_sizes:
                holder.batch = batch
                model.encode_document(texts[:2])  # warm-up
                started = time.perf_counter()
                model.encode_document(texts[2:])
                elapsed = time.perf_counter() - started
                out.append(
                    {
                        "model": block.name,
                        "batch_size": batch,
                        "max_seq_length": model.max_seq_length,
                        "torch_threads": torch.get_num_threads(),
                        "profiles_per_s": round(n / elapsed, 2),
                    }
                )
            holder.batch = served_batch
            model.max_seq_length = default_length
    return out


def run_worker(encoder: str, storage: str, n: int, profiles: int) -> dict[str, object]:
    """Runs `worker_memory` in a fresh process, so nothing else counts in its RSS."""
    command = [
        sys.executable,
        __file__,
        "--worker",
        storage,
        "--encoder",
        encoder,
        "--rss-experts",
        str(n),
        "--profiles",
        str(profiles),
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Runs the speed benchmark and prints a table or one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--encoder", default="homeward-fused")
    parser.add_argument("--profiles", type=int, default=64)
    parser.add_argument("--rss-experts", type=int, default=100_000)
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument(
        "--encoder-profile",
        type=int,
        default=0,
        metavar="N",
        help="also time each member model on N profiles per batch size (8 and 32)",
    )
    parser.add_argument("--worker", choices=["today", "float32", "int8"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker_memory(args.encoder, args.worker, args.rss_experts, args.profiles)))
        return

    rng = np.random.default_rng(0)
    retrieval = [time_retrieval(n, args.queries, rng) for n in args.sizes]
    workers = (
        []
        if args.skip_rss
        else [
            run_worker(args.encoder, storage, args.rss_experts, args.profiles)
            for storage in ("today", "int8")
        ]
    )
    profile = (
        profile_encoder(args.encoder, args.encoder_profile, [8, 32])
        if (args.encoder_profile)
        else []
    )
    result = {"retrieval": retrieval, "workers": workers, "encoder_profile": profile}
    if args.json:
        print(json.dumps(result))
        return
    print("top-10 latency, ms (p50 / p95), index MB")
    for r in retrieval:
        print(
            f"  {r['n_experts']:>7} experts: int8 {r['int8_p50_ms']} / {r['int8_p95_ms']}, "
            f"float32 index {r['float32_p50_ms']} / {r['float32_p95_ms']}, "
            f"brute force {r['reference_p50_ms']} / {r['reference_p95_ms']}; "
            f"int8 top-10 overlap {r['int8_top10_overlap']}; "
            f"index int8 {r['int8_index_mb']} MB vs float32 {r['float32_index_mb']} MB"
        )
    for w in workers:
        print(
            f"worker ({args.encoder}, {w['storage']} index, {w['n_experts']} experts): "
            f"index {w['index_mb']} MB, RSS {w['rss_mb']} MB (peak {w['peak_rss_mb']} MB; "
            f"encoder loaded {w['rss_mb_encoder_loaded']} MB, after embedding "
            f"{w['rss_mb_after_embedding']} MB); {w['profiles_per_s']} profiles/s"
        )
    for p in profile:
        print(
            f"encoder {p['model']}: batch {p['batch_size']}, max_seq_length "
            f"{p['max_seq_length']}, torch threads {p['torch_threads']}: "
            f"{p['profiles_per_s']} profiles/s"
        )


if __name__ == "__main__":
    main()
