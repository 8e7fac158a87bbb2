"""Re-matching job latency at N experts: incremental refresh vs the full re-read.

Usage: python bench/rematch_latency.py [--experts 100000] [--changes 20] [--full-runs 3]
                                       [--encoder homeward-fused] [--database sqlite:///...]
                                       [--after-bulk 10] [--reuse]

Builds a migrated SQLite database: N experts (benchmark profile texts, cycled, made distinct),
their stored vectors (random rows in the default encoder's layout, with the content hash the
matcher computes, so nothing is embedded at start-up), 20 institutions and the 200 desc_en
benchmark needs, all open. One `MatchingEngine` loads the encoder and syncs once (timed).

Then, for "one need changed" and "one expert changed" (a reworded title / headline, committed
through the models, stamped as the application does), the time from that commit to the stored
proposals, as the worker's jobs do it (service/worker/matching_tasks.py): refresh the index,
re-rank, store, commit. The expert's job re-embeds their profile (one profile). Reference in
the same run: the same jobs preceded by a full re-read (`sync`), which is what every job did
before. Lexical scores are left out (no search backend): both paths would pay the same.

Each job's process CPU time (every thread) is reported beside its wall time (`cpu_p50_ms`):
on a shared, loaded machine the wall clock mostly measures waiting for a core.
`--full-runs 0` skips the reference (at 100,000 experts a full re-read takes minutes).

Each job is also timed by phase (median over the runs, `phases_p50_ms`): refresh (the index
brought up to date), rank (the need or expert read and ranked, explanations built, proposals
made), store (flush and commit), queue (an expert job: the needs they may enter or leave).

Just after a bulk write (`--after-bulk N`, default 10; 0 skips it): every expert row is written
again (same texts, new stamps, as a re-import does), the next job reads them all (reported,
`after_bulk_first`), then N need jobs run while the write is still inside the window a refresh
looks back over (WATERMARK_OVERLAP; the write is repeated when the window is about to close):
`need_after_bulk`. Reference in the same run, alternating with it: the same job with the
engine's memory of the window's rows cleared first (`need_after_bulk_forgetful`), which is
what every such job read before that memory (the whole write, each time).

`--json` prints exactly one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sqlalchemy import insert, update  # noqa: E402
from sqlmodel import Session, func, select  # noqa: E402

from service.core.matching import (  # noqa: E402
    WATERMARK_OVERLAP,
    MatchingEngine,
    expert_record,
    needs_touched_by,
    rematch_expert,
    rematch_need,
)
from service.db import make_engine, migrate  # noqa: E402
from service.models import Embedding, ExpertProfile, Institution, Need  # noqa: E402

BENCH_DIR = Path(os.environ.get("HOMEWARD_BENCH_DIR", "/work/shared/bench"))
CHUNK = 2000
K = 10


def _jsonl(name: str) -> list[dict[str, Any]]:
    text = (BENCH_DIR / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _layout_vector(matching: MatchingEngine, rng: np.random.Generator, n: int) -> np.ndarray:
    """Random rows, normalised block by block, zero outside the blocks the matcher stores."""
    index = matching.matcher.index
    rows = np.zeros((n, index.dim), dtype=np.float32)
    for start, stop in index.blocks:
        block = rng.standard_normal((n, stop - start), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        rows[:, start:stop] = block
    return rows


def build_world(
    url: str, matching: MatchingEngine, experts: int, open_needs: int
) -> dict[str, float]:
    """Creates the database; returns how long it took."""
    started = time.perf_counter()
    engine = make_engine(url)
    migrate(engine)
    profiles = _jsonl("profiles.jsonl")
    needs = _jsonl("needs_desc_en.jsonl")
    # Dated before the window a refresh reads again (WATERMARK_OVERLAP), as a roster built
    # earlier is: dated now, every job of the next minute re-read the whole new world (1.9 s
    # of a 2.0 s job at 10,000 on an idle machine; on a busy one the minute had passed).
    now = datetime.now(UTC) - 2 * WATERMARK_OVERLAP
    rng = np.random.default_rng(0)
    with Session(engine) as session:
        session.execute(
            insert(Institution),
            [
                {
                    "id": i,
                    "name": f"Institution {i}",
                    "type": "university",
                    "country": ["SN", "CM", "ML", "CI"][i % 4],
                    "timezone": "Africa/Dakar",
                    "verified_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1, 21)
            ],
        )
        session.execute(
            insert(Need),
            [
                {
                    "id": i,
                    "institution_id": 1 + i % 20,
                    "title": need["title"],
                    "description": need["text"],
                    "required_skills": [],
                    "sector": "health",
                    "mode": "remote",
                    "languages": ["en"],
                    "support": [],
                    "status": "open",
                    "text_lang": "en",
                    "created_at": now,
                    "updated_at": now,
                }
                for i, need in enumerate(needs[:open_needs], start=1)
            ],
        )
        for begin in range(1, experts + 1, CHUNK):
            rows = []
            for i in range(begin, min(experts, begin + CHUNK - 1) + 1):
                p = profiles[i % len(profiles)]
                rows.append(
                    {
                        "id": i,
                        "display_name": f"Expert {i}",
                        "headline": f"{p['headline']} #{i}",
                        "bio": p["bio"],
                        "skills": p["skills"],
                        "languages": [{"code": "en", "level": "fluent"}],
                        "timezone": "Europe/Paris",
                        "modes": ["remote"],
                        "hours_per_month": 20,
                        "available_from": date(2026, 1, 1),
                        "available_until": date(2028, 12, 31),
                        "availability_confirmed_at": now,
                        "consent_terms_at": now,
                        "consent_matching_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            session.execute(insert(ExpertProfile), rows)
            stored = session.exec(
                select(ExpertProfile).where(
                    ExpertProfile.id >= rows[0]["id"],  # type: ignore[operator]
                    ExpertProfile.id <= rows[-1]["id"],  # type: ignore[operator]
                )
            ).all()
            vectors = _layout_vector(matching, rng, len(stored))
            session.execute(
                insert(Embedding),
                [
                    {
                        "owner_type": "expert",
                        "owner_id": e.id,
                        "model": matching.model,
                        "model_version": matching.version,
                        "content_hash": matching.matcher.expert_hash(expert_record(e)),
                        "dim": int(vector.shape[0]),
                        "vector": vector.tobytes(),
                        "updated_at": now,
                    }
                    for e, vector in zip(stored, vectors, strict=True)
                ],
            )
            session.expunge_all()
        session.commit()
    engine.dispose()
    return {"build_s": round(time.perf_counter() - started, 1)}


def _built(url: str, experts: int, open_needs: int) -> bool:
    """Whether the database already holds this world (an earlier run's, `--reuse`)."""
    if not url.startswith("sqlite:///") or not Path(url.removeprefix("sqlite:///")).exists():
        return False
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            counts = (
                session.exec(select(func.count()).select_from(ExpertProfile)).one(),
                session.exec(select(func.count()).select_from(Need)).one(),
            )
    except Exception:  # noqa: BLE001 - not a world this script built: build it
        return False
    finally:
        engine.dispose()
    return counts == (experts, open_needs)


def _percentiles(samples: list[float]) -> dict[str, float]:
    values = np.array(samples) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 1),
        "p95_ms": round(float(np.percentile(values, 95)), 1),
        "runs": len(samples),
    }


PHASES = ("refresh", "rank", "store", "queue")


class Phases:
    """Seconds spent in each phase of one job (perf_counter sections)."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(PHASES, 0.0)
        self._mark = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] += now - self._mark
        self._mark = now


def need_job(engine: Any, matching: MatchingEngine, need_id: int, *, full: bool) -> Phases:
    """What the worker's `rematch_need` job does (full: after re-reading everything).

    Phases: refresh (the index brought up to date), rank (the need read and ranked, the
    proposals built), store (flushed and committed)."""
    phases = Phases()
    if full:
        matching.sync(engine)
    else:
        matching.refresh(engine)
    phases.lap("refresh")
    with Session(engine, expire_on_commit=False) as session:
        rematch_need(session, matching, need_id=need_id, search=None, k=K)
        phases.lap("rank")
        session.commit()
        phases.lap("store")
    return phases


def expert_job(
    engine: Any, matching: MatchingEngine, expert_id: int, *, full: bool
) -> tuple[Phases, int]:
    """What the worker's `rematch_expert` job does; returns its phases and the follow-up
    need jobs queued (queue: finding the needs the expert may enter or leave)."""
    phases = Phases()
    if full:
        matching.sync(engine)
    else:
        matching.refresh(engine, expert_ids=[expert_id])
    phases.lap("refresh")
    with Session(engine, expire_on_commit=False) as session:
        rematch_expert(session, matching, expert_id=expert_id)
        phases.lap("rank")
        session.flush()
        phases.lap("store")
        follow = needs_touched_by(session, expert_id=expert_id)
        phases.lap("queue")
        session.commit()
        phases.lap("store")
    return phases, len(follow)


# Each run's changes carry its own mark: with `--reuse`, a world an earlier run changed already
# holds vectors for that run's texts, and an expert job that finds its text's vector stored
# embeds nothing (main's bench measured 48 ms of CPU per expert job that way).
RUN_MARK = format(time.time_ns(), "x")[-6:]


def change_need(engine: Any, need_id: int, revision: int) -> None:
    with Session(engine) as session:
        need = session.get(Need, need_id)
        assert need is not None
        need.title = f"{need.title.split(' (rev')[0]} (rev {revision}.{RUN_MARK})"
        need.updated_at = datetime.now(UTC)
        session.add(need)
        session.commit()


def change_expert(engine: Any, expert_id: int, revision: int) -> None:
    with Session(engine) as session:
        expert = session.get(ExpertProfile, expert_id)
        assert expert is not None
        expert.headline = f"{expert.headline.split(' (rev')[0]} (rev {revision}.{RUN_MARK})"
        expert.updated_at = datetime.now(UTC)
        session.add(expert)
        session.commit()


def bulk_write(engine: Any) -> None:
    """What an import does to the roster: every expert row written again, stamped now."""
    with Session(engine) as session:
        session.execute(update(ExpertProfile).values(updated_at=datetime.now(UTC)))
        session.commit()


def after_bulk(
    engine: Any, matching: MatchingEngine, needs: list[int], runs: int
) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, list[Phases]]]:
    """Need jobs just after a bulk write, with the engine's memory of the window's rows and,
    alternating, without it (the reference); the job that first reads the write apart."""
    kinds = ("after_bulk_first", "need_after_bulk", "need_after_bulk_forgetful")
    timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    cpu: dict[str, list[float]] = {kind: [] for kind in kinds}
    phases: dict[str, list[Phases]] = {kind: [] for kind in kinds}
    written = -1.0
    budget = WATERMARK_OVERLAP.total_seconds() * 0.7

    def timed(kind: str, need_id: int) -> None:
        t, c = time.perf_counter(), time.process_time()
        phases[kind].append(need_job(engine, matching, need_id, full=False))
        timings[kind].append(time.perf_counter() - t)
        cpu[kind].append(time.process_time() - c)

    for revision in range(1, runs + 1):
        need_id = needs[revision % len(needs)]
        # Both jobs of a pair run inside the window the write is in.
        if written < 0 or time.monotonic() - written > budget:
            bulk_write(engine)
            written = time.monotonic()
            change_need(engine, need_id, 2000 + revision)
            timed("after_bulk_first", need_id)
        change_need(engine, need_id, 3000 + revision)
        timed("need_after_bulk", need_id)
        change_need(engine, need_id, 4000 + revision)
        matching.seen.clear()
        timed("need_after_bulk_forgetful", need_id)
    return timings, cpu, phases


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from matching.encoders import load_encoder

    matching = MatchingEngine(load_encoder(args.encoder))
    folder = tempfile.mkdtemp(prefix="homeward-rematch-")
    url = args.database or f"sqlite:///{folder}/rematch.db"
    out: dict[str, Any] = {
        "n_experts": args.experts,
        "encoder": args.encoder,
        "open_needs": args.needs,
    }
    if args.reuse and _built(url, args.experts, args.needs):
        out["build_s"] = 0.0  # the world of an earlier run, reused
    else:
        out.update(build_world(url, matching, args.experts, args.needs))
    engine = make_engine(url)
    started = time.perf_counter()
    synced = matching.sync(engine)
    out["startup_sync_s"] = round(time.perf_counter() - started, 1)
    out["startup_embedded"] = synced.embedded
    rng = np.random.default_rng(1)
    needs = [int(i) for i in rng.choice(np.arange(1, args.needs + 1), args.changes)]
    experts = [int(i) for i in rng.choice(np.arange(1, args.experts + 1), args.changes)]
    # Warm-up: the first need job pays for lazy model state; the first expert job embeds
    # every open need once (kept by text afterwards): reported, not counted.
    change_need(engine, needs[0], 0)
    need_job(engine, matching, needs[0], full=False)
    t = time.perf_counter()
    expert_job(engine, matching, experts[0], full=False)
    out["first_expert_job_s"] = round(time.perf_counter() - t, 1)
    kinds = ("need", "expert", "need_full", "expert_full")
    timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    cpu: dict[str, list[float]] = {kind: [] for kind in kinds}
    phases: dict[str, list[Phases]] = {kind: [] for kind in kinds}
    follow_ups: list[int] = []

    def timed(kind: str, job: Any, owner_id: int, full: bool) -> Any:
        t, c = time.perf_counter(), time.process_time()
        result = job(engine, matching, owner_id, full=full)
        timings[kind].append(time.perf_counter() - t)
        cpu[kind].append(time.process_time() - c)
        phases[kind].append(result[0] if isinstance(result, tuple) else result)
        return result

    for revision, (need_id, expert_id) in enumerate(zip(needs, experts, strict=True), start=1):
        change_need(engine, need_id, revision)
        timed("need", need_job, need_id, False)
        change_expert(engine, expert_id, revision)
        _, follow = timed("expert", expert_job, expert_id, False)
        follow_ups.append(follow)
        if revision <= args.full_runs:
            change_need(engine, need_id, 1000 + revision)
            timed("need_full", need_job, need_id, True)
            change_expert(engine, expert_id, 1000 + revision)
            timed("expert_full", expert_job, expert_id, True)
    if args.after_bulk:
        bulk_timings, bulk_cpu, bulk_phases = after_bulk(engine, matching, needs, args.after_bulk)
        timings.update(bulk_timings)
        cpu.update(bulk_cpu)
        phases.update(bulk_phases)
    for name, samples in timings.items():
        if not samples:
            continue  # --full-runs 0: no reference
        out[name] = _percentiles(samples)
        # The process's CPU time (every thread): what a loaded machine's wall clock hides.
        out[name]["cpu_p50_ms"] = round(float(np.median(cpu[name])) * 1000.0, 1)
        # Median of each phase over the runs (ms): where a job's time goes.
        out[name]["phases_p50_ms"] = {
            phase: round(float(np.median([p.seconds[phase] for p in phases[name]])) * 1000.0, 1)
            for phase in PHASES
        }
    out["expert_follow_up_needs_mean"] = round(float(np.mean(follow_ups)), 1)
    out["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    engine.dispose()
    if not args.database:
        Path(folder, "rematch.db").unlink(missing_ok=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--experts", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--needs", type=int, default=200, help="open needs (at most 200)")
    parser.add_argument("--full-runs", type=int, default=3)
    parser.add_argument(
        "--after-bulk",
        type=int,
        default=10,
        help="need jobs just after a bulk write (and as many references); 0 skips them",
    )
    parser.add_argument("--encoder", default="homeward-fused")
    parser.add_argument("--database", default="")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --database sqlite:///FILE: reuse the world an earlier run built there",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args)
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"re-matching jobs at {result['n_experts']} experts ({result['encoder']}); world built "
        f"in {result['build_s']} s, start-up sync {result['startup_sync_s']} s; "
        f"load average {result['loadavg']}"
    )
    for kind in ("need", "expert"):
        inc, full = result[kind], result.get(f"{kind}_full")
        print(
            f"  one {kind} changed: incremental p50 {inc['p50_ms']} / p95 {inc['p95_ms']} ms, "
            f"CPU p50 {inc['cpu_p50_ms']} ms ({inc['runs']} runs)"
        )
        if full is not None:
            print(
                f"    full re-read p50 {full['p50_ms']} / p95 {full['p95_ms']} ms, CPU p50 "
                f"{full['cpu_p50_ms']} ms ({full['runs']} runs); full / incremental p50 "
                f"{full['p50_ms'] / max(inc['p50_ms'], 1e-9):.1f}x"
            )
        for label, result_of in (("incremental", inc), ("full re-read", full)):
            if result_of is None:
                continue
            spent = ", ".join(
                f"{phase} {ms}" for phase, ms in result_of["phases_p50_ms"].items() if ms
            )
            print(f"    {label} phases, p50 ms: {spent}")
    if "need_after_bulk" in result:
        mine, forgetful = result["need_after_bulk"], result["need_after_bulk_forgetful"]
        first = result["after_bulk_first"]
        print(
            f"  one need changed just after a bulk write: p50 {mine['p50_ms']} / p95 "
            f"{mine['p95_ms']} ms, CPU p50 {mine['cpu_p50_ms']} ms ({mine['runs']} runs); "
            f"reference (window re-read) p50 {forgetful['p50_ms']} / p95 {forgetful['p95_ms']} "
            f"ms, CPU p50 {forgetful['cpu_p50_ms']} ms; reference / this p50 "
            f"{forgetful['p50_ms'] / max(mine['p50_ms'], 1e-9):.1f}x; the job that first "
            f"reads the write p50 {first['p50_ms']} ms ({first['runs']} writes)"
        )
        for label, result_of in (("this", mine), ("reference", forgetful)):
            spent = ", ".join(
                f"{phase} {ms}" for phase, ms in result_of["phases_p50_ms"].items() if ms
            )
            print(f"    {label} phases, p50 ms: {spent}")
    print(f"  an expert's change queued {result['expert_follow_up_needs_mean']} need jobs (mean)")
    print(
        f"  first expert job of the process (embeds the {result['open_needs']} open needs once): "
        f"{result['first_expert_job_s']} s"
    )


if __name__ == "__main__":
    main()
