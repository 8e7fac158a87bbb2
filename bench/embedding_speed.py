"""Where the encoder's time goes: profiles/s per model, batch size, threads, sequence length.

Usage: python bench/embedding_speed.py [--profiles 64] [--batches 8 32] [--threads 1 2]
                                       [--json]

Embeds the first N benchmark profiles (bench/matching_speed.py's distinct texts) the way
`Matcher.embed_experts` does: the document section with every model of the default encoder,
the headline with USE alone. Rows:

* `before` (the reference) and `now`: the application's path (`Matcher.embed_experts`, the
  fused encoder), with every member given 8 texts a call as before, and with the bundled
  backends (e5, USE) given the whole batch (`BACKEND_BATCH`) as now; each timed first and
  again last, so a drift in machine load shows;
* each member model alone on the document texts, per batch size and thread count (torch
  threads for MiniLM, OpenMP threads for e5, numpy threads for USE are set at load);
* MiniLM at a shorter `max_seq_length` (128 instead of 256: the tail of long profiles);
* length-sorted input (the encoder sorts within each call; this sorts the whole roster first).

The share of each model is its time over the sum for the same profiles. The machine is shared:
the load average is printed with the table, and every row also gives the process CPU time per
profile (all threads), which other processes barely move: with 1 thread it is the model's
cost; 2,000 / (the members' 1-thread CPU ms summed) is the most profiles/s 2 busy cores give.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from matching_speed import bench_experts  # noqa: E402


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 2) if seconds > 0 else float("inf")


_CPU: list[float] = []


def _time(fn: Any) -> float:
    """Wall seconds of `fn()`; its process CPU seconds (every thread) go to `_CPU`."""
    cpu = time.process_time()
    started = time.perf_counter()
    fn()
    _CPU.append(time.process_time() - cpu)
    return time.perf_counter() - started


def _cpu_ms(n: int) -> float:
    """Process CPU milliseconds per profile of the last `_time` call: unlike wall time, barely
    moved by other processes on the machine (on 2 cores, 2,000 / this is the ceiling on
    profiles/s if both cores were kept busy)."""
    return round(1000.0 * _CPU[-1] / n, 1)


def _set_batch(model: Any, batch: int) -> None:
    """Texts a forward pass: MiniLM's backend batches itself, e5 and USE per backend call."""
    if hasattr(model.backend, "batch"):
        model.backend.batch = batch
    else:
        model.batch = batch


def measure(profiles: int, batches: list[int], threads: list[int]) -> list[dict[str, Any]]:
    import torch

    from matching import encoders
    from matching.encoders import MEMBER_BATCH, load_encoder
    from matching.matcher import Matcher
    from matching.texts import profile_document_text

    rows: list[dict[str, Any]] = []
    experts = bench_experts(profiles + 4)
    warm, sample = experts[:4], experts[4:]
    texts = [profile_document_text(e) for e in sample]

    def fused(label: str, backend_batch: int) -> None:
        """The application's path, the bundled backends given `backend_batch` texts a call."""
        encoders.BACKEND_BATCH = backend_batch
        encoder = load_encoder("homeward-fused", threads=2)
        matcher = Matcher(encoder)
        matcher.embed_experts(warm)
        seconds = _time(lambda: matcher.embed_experts(sample))
        rows.append(
            {
                "row": label,
                "model": "fused (3 models, 2 sections)",
                "batch": f"32; e5/USE {backend_batch}, MiniLM {MEMBER_BATCH}",
                "threads": 2,
                "max_seq_length": "-",
                "profiles_per_s": _rate(len(sample), seconds),
                "cpu_ms_per_profile": _cpu_ms(len(sample)),
            }
        )
        encoders.BACKEND_BATCH = served

    served = encoders.BACKEND_BATCH
    fused("before (reference): every member 8 a call", MEMBER_BATCH)
    fused("now", served)
    for count in threads:
        encoder = load_encoder("homeward-fused", threads=count)
        torch.set_num_threads(count)
        per_model: dict[str, float] = {}
        for name, model in encoder.members.items():
            lengths: list[int | None] = [None]
            if name == "minilm":
                lengths.append(128)
            for length in lengths:
                default = model.max_seq_length
                if length is not None:
                    model.max_seq_length = length
                served_batch = model.backend.batch if name == "minilm" else model.batch
                for batch in batches:
                    _set_batch(model, batch)
                    warm_texts = [profile_document_text(e) for e in warm]
                    model.encode_document(warm_texts)
                    seconds = _time(lambda m=model: m.encode_document(texts))
                    if length is None and batch == MEMBER_BATCH:
                        per_model[name] = seconds
                    rows.append(
                        {
                            "row": "member",
                            "model": name,
                            "batch": batch,
                            "threads": count,
                            "max_seq_length": model.max_seq_length or "-",
                            "profiles_per_s": _rate(len(texts), seconds),
                            "cpu_ms_per_profile": _cpu_ms(len(texts)),
                        }
                    )
                _set_batch(model, served_batch)
                model.max_seq_length = default
        total = sum(per_model.values())
        for row in rows:
            if row["row"] == "member" and row["threads"] == count and row["batch"] == MEMBER_BATCH:
                share = per_model.get(row["model"])
                if share is not None and row["max_seq_length"] != 128:
                    row["share_of_time"] = round(share / total, 3)
        # Length-sorted roster, the slowest model (document section only).
        slowest = max(per_model, key=lambda k: per_model[k])
        ordered = sorted(texts, key=len)
        model = encoder.members[slowest]
        seconds = _time(lambda m=model, o=ordered: m.encode_document(o))
        rows.append(
            {
                "row": "length-sorted roster",
                "model": slowest,
                "batch": MEMBER_BATCH,
                "threads": count,
                "max_seq_length": model.max_seq_length or "-",
                "profiles_per_s": _rate(len(texts), seconds),
                "cpu_ms_per_profile": _cpu_ms(len(texts)),
            }
        )
    fused("before (reference, again last)", MEMBER_BATCH)
    fused("now (again, last)", served)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profiles", type=int, default=64)
    parser.add_argument("--batches", nargs="+", type=int, default=[8, 32])
    parser.add_argument("--threads", nargs="+", type=int, default=[2])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = measure(args.profiles, args.batches, args.threads)
    load = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps({"rows": rows, "loadavg": load, "profiles": args.profiles}))
        return
    print(f"embedding speed, {args.profiles} profiles, load average {load}")
    print(
        "| row | model | batch | threads | max_seq_length | profiles/s | CPU ms/profile "
        "| share of time |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['row']} | {r['model']} | {r['batch']} | {r['threads']} | "
            f"{r['max_seq_length']} | {r['profiles_per_s']} | {r['cpu_ms_per_profile']} | "
            f"{r.get('share_of_time', '')} |"
        )


if __name__ == "__main__":
    main()
