"""Fair assignment and teams: the solver's plan vs the greedy "top candidate of each need".

Usage: python bench/assignment.py [--json] [--experts 2000] [--needs 300] [--k 20] [--teams 20]
                                  [--encoder homeward-fused]

A generated world over the dev benchmark (`/work/shared/bench`, `HOMEWARD_BENCH_DIR`
overrides): experts are benchmark profiles given varied declared and committed hours; needs are
the English benchmark needs plus some of the same needs written in French (two institutions
asking for the same occupation), some wanting two experts. Each need is ranked with the real
matcher (bundled encoders, or `--encoder`; vectors cached under bench/.cache/, or
`HOMEWARD_BENCH_CACHE`) and the candidates go to `matching.assignment`. Teams: needs made of
two benchmark occupations (three required skills from each), share of required skills covered
by the proposed team vs by the best single expert. `--json` prints exactly one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from matching_quality import (  # noqa: E402
    BENCH_DIR,
    Bm25StandIn,
    build_matcher,
    cached_vectors,
    expert_from_row,
    read_jsonl,
)

from matching.assignment import (  # noqa: E402
    AssignmentProblem,
    Capacity,
    Pair,
    SkillCover,
    SkillEvidence,
    greedy_plan,
    propose_team,
    solve_plan,
)
from matching.encoders import DEFAULT_ENCODER  # noqa: E402
from matching.matcher import Matcher  # noqa: E402
from matching.metrics import load_qrels  # noqa: E402
from matching.records import ExpertRecord, NeedRecord  # noqa: E402
from matching.texts import QUERY_SIDES, lexical_query_text, need_side_texts  # noqa: E402

SEED = 15
DECLARED_HOURS = (None, 4.0, 8.0, 12.0, 20.0)  # per week; None: not declared
NEED_HOURS = (2.0, 4.0, 6.0, 8.0)
MAX_OPEN_OFFERS = 3
SHARE_WANTING_TWO = 0.2


def build_world(
    bench_dir: Path, n_experts: int, n_needs: int, rng: random.Random
) -> tuple[list[ExpertRecord], list[NeedRecord], dict[str, int], dict[str, list[str]]]:
    """Experts with varied capacity; needs (English, then French twins) with their seats."""
    en = read_jsonl(bench_dir / "needs_desc_en.jsonl")
    fr = read_jsonl(bench_dir / "needs_desc_fr.jsonl")
    qrels = load_qrels(bench_dir / "qrels_desc_en.tsv")
    exact = {n: sorted(p for p, g in rel.items() if g >= 2) for n, rel in qrels.items()}
    rows = {str(r["profile_id"]): r for r in read_jsonl(bench_dir / "profiles.jsonl")}
    # Every need's own-occupation profiles are in the world, then others up to n_experts.
    wanted = list(dict.fromkeys(p for ps in exact.values() for p in ps))
    wanted += [p for p in rows if p not in set(wanted)]
    experts = []
    for pid in wanted[:n_experts]:
        expert = expert_from_row(rows[pid])
        declared = rng.choice(DECLARED_HOURS)
        expert.hours_per_week = declared
        if declared is not None:
            expert.committed_hours_per_week = float(rng.choice((0, 0, 0, 2, 4)))
            expert.committed_hours_per_week = min(expert.committed_hours_per_week, declared)
        experts.append(expert)
    picked = (en + fr)[:n_needs]
    needs = [
        NeedRecord(
            need_id=str(r["need_id"]),
            title=str(r["title"]),
            description=str(r["text"]),
            hours_per_week=rng.choice(NEED_HOURS),
        )
        for r in picked
    ]
    seats = {n.need_id: 2 if rng.random() < SHARE_WANTING_TWO else 1 for n in needs}
    return experts, needs, seats, exact


def rank_all(
    matcher: Matcher,
    members: Sequence[object],
    needs: Sequence[NeedRecord],
    bm25: Bm25StandIn,
    k: int,
    log: Callable[[str], None],
    *,
    explain: bool = False,
) -> list[list[object]]:
    """Ranks experts for every need with the real matcher (cached query vectors)."""
    sides = [need_side_texts(n) for n in needs]
    query_rows = np.stack(
        [
            cached_vectors(members, "query", [texts[i] for texts in sides], log)  # type: ignore[arg-type]
            for i in range(len(QUERY_SIDES))
        ],
        axis=1,
    )
    return [
        list(
            matcher.rank_experts(
                need,
                k=k,
                query_vectors=query_rows[i],
                lexical_scores=bm25.scores(lexical_query_text(need)),
                explain=explain,
            )
        )
        for i, need in enumerate(needs)
    ]


def assignment_figures(
    matcher: Matcher,
    members: Sequence[object],
    experts: Sequence[ExpertRecord],
    needs: Sequence[NeedRecord],
    seats: dict[str, int],
    bm25: Bm25StandIn,
    k: int,
    log: Callable[[str], None],
) -> dict[str, object]:
    """Plan vs greedy on the whole world."""
    started = time.perf_counter()
    ranked = rank_all(matcher, members, needs, bm25, k, log)
    rank_s = time.perf_counter() - started
    hours = {n.need_id: n.hours_per_week or 0.0 for n in needs}
    pairs = [
        Pair(c.need_id, c.expert_id, c.score, hours[c.need_id])  # type: ignore[attr-defined]
        for cands in ranked
        for c in cands
    ]
    capacity = {
        e.expert_id: Capacity(
            free_hours=None
            if e.hours_per_week is None
            else e.hours_per_week - e.committed_hours_per_week,
            max_open_offers=MAX_OPEN_OFFERS,
        )
        for e in experts
    }
    problem = AssignmentProblem(pairs=pairs, capacity=capacity, seats=seats)
    plan = solve_plan(problem)
    greedy = greedy_plan(problem)
    assert plan.summary is not None and greedy.summary is not None
    return {
        "experts": len(experts),
        "needs": len(needs),
        "needs_wanting_two": sum(1 for s in seats.values() if s == 2),
        "candidates_per_need": k,
        "candidate_pairs": len(pairs),
        "rank_s": round(rank_s, 2),
        "plan": {
            **plan.summary.to_dict(),
            "method": plan.method,
            "solve_s": round(plan.seconds, 3),
        },
        "greedy": {**greedy.summary.to_dict(), "solve_s": round(greedy.seconds, 3)},
    }


def team_needs(
    bench_dir: Path, exact: dict[str, list[str]], count: int, rng: random.Random
) -> list[NeedRecord]:
    """Needs asking for two occupations: both descriptions, three skills typical of each."""
    rows = {str(r["profile_id"]): r for r in read_jsonl(bench_dir / "profiles.jsonl")}
    en = {str(r["need_id"]): r for r in read_jsonl(bench_dir / "needs_desc_en.jsonl")}
    qrels = load_qrels(bench_dir / "qrels_desc_en.tsv")

    def typical(need_id: str) -> list[str]:
        counts = Counter(s for p in exact[need_id] for s in rows[p]["skills"])  # type: ignore[attr-defined]
        return [s for s, _ in counts.most_common(3)]

    ids = [n for n in en if exact.get(n)]
    out = []
    while len(out) < count:
        a, b = rng.sample(ids, 2)
        if set(qrels[a]) & set(qrels[b]):  # neighbouring occupations: not a team
            continue
        out.append(
            NeedRecord(
                need_id=f"T{len(out):02d}",
                title=f"{en[a]['title']} and {en[b]['title']}",
                description=f"{en[a]['text']} {en[b]['text']}",
                required_skills=typical(a) + typical(b),
            )
        )
    return out


def team_figures(
    matcher: Matcher,
    members: Sequence[object],
    needs: Sequence[NeedRecord],
    bm25: Bm25StandIn,
    k: int,
    log: Callable[[str], None],
) -> dict[str, object]:
    """Share of required skills covered by the proposed team vs by the best single expert."""
    ranked = rank_all(matcher, members, needs, bm25, k, log, explain=True)
    singles: list[float] = []
    teams: list[float] = []
    sizes: list[int] = []
    started = time.perf_counter()
    for need, cands in zip(needs, ranked, strict=True):
        evidence = [
            SkillEvidence(
                c.expert_id,  # type: ignore[attr-defined]
                c.score,  # type: ignore[attr-defined]
                [
                    SkillCover(m.required, m.matched or "", m.similarity)
                    for m in c.explanation.covered_skills  # type: ignore[attr-defined]
                ],
            )
            for c in cands
        ]
        single = max((e.share(need.required_skills) for e in evidence), default=0.0)
        team = propose_team(need.required_skills, evidence)
        singles.append(single)
        teams.append(team.share if team else single)
        sizes.append(len(team.members) if team else 1)
    return {
        "needs": len(needs),
        "candidates_per_need": k,
        "required_skills_per_need": 6,
        "best_single_share": round(float(np.mean(singles)), 3),
        "team_share": round(float(np.mean(teams)), 3),
        "needs_with_team": sum(1 for s in sizes if s > 1),
        "mean_team_size": round(float(np.mean(sizes)), 2),
        "solve_s": round(time.perf_counter() - started, 3),
    }


def main() -> None:
    """Runs the benchmark and prints a table (or one JSON object)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bench-dir", type=Path, default=BENCH_DIR)
    parser.add_argument("--experts", type=int, default=2000)
    parser.add_argument("--needs", type=int, default=300)
    parser.add_argument("--k", type=int, default=20, help="candidates ranked per need")
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--encoder", default=DEFAULT_ENCODER, help="the encoder that ranks")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    rng = random.Random(SEED)
    experts, needs, seats, exact = build_world(args.bench_dir, args.experts, args.needs, rng)
    log(f"embedding {len(experts)} experts (cached under bench/.cache) ...")
    matcher, members = build_matcher(experts, args.encoder, log)
    bm25 = Bm25StandIn({e.expert_id: " ".join([e.headline, *e.skills, e.bio]) for e in experts})
    log("ranking and solving ...")
    result: dict[str, object] = {
        "assignment": assignment_figures(
            matcher, members, experts, needs, seats, bm25, args.k, log
        ),
    }
    log("teams ...")
    result["teams"] = team_figures(
        matcher, members, team_needs(args.bench_dir, exact, args.teams, rng), bm25, 30, log
    )
    if args.json:
        print(json.dumps(result, indent=2))
        return
    a = result["assignment"]
    assert isinstance(a, dict)
    print(
        f"{a['experts']} experts, {a['needs']} needs ({a['needs_wanting_two']} wanting two), "
        f"{a['candidates_per_need']} candidates each; ranking took {a['rank_s']} s"
    )
    print(
        f"{'':<10} {'covered':>8} {'seats':>9} {'mean':>7} {'min':>7} {'max offers':>10} "
        f"{'over cap':>8} {'solve s':>8}"
    )
    for name in ("plan", "greedy"):
        s = a[name]
        print(
            f"{name:<10} {s['needs_covered']:>4}/{s['needs']:<3} "
            f"{s['seats_filled']:>4}/{s['seats']:<4} "
            f"{s['mean_score']:7.3f} {s['min_score']:7.3f} {s['max_offers']:>10} "
            f"{s['over_capacity']:>8} {s['solve_s']:8.3f}"
        )
    t = result["teams"]
    assert isinstance(t, dict)
    print(
        f"teams on {t['needs']} two-occupation needs: required skills covered "
        f"{t['team_share']:.1%} by the team vs {t['best_single_share']:.1%} by the best single "
        f"expert; {t['needs_with_team']} teams, mean size {t['mean_team_size']}"
    )


if __name__ == "__main__":
    main()
