"""The README's speed table, regenerated from the benchmarks' own output.

    python bench/speed_report.py run [--only NAME ...]    # runs them, keeps bench/results/*.json
    python bench/speed_report.py table [--write README.md] # renders the table from those files

`run` runs each benchmark below with the arguments the table states, one after another (so
they do not share the cores), and keeps its `--json` output in bench/results/NAME.json with
the commit, the date and the load average before and after. The Meilisearch rows need
`eval "$(.ci/meili.sh start)"` first and the PostgreSQL row $HOMEWARD_TEST_DATABASE_URL; a
row whose server is not configured is skipped and says so. `table` prints the markdown table
(or, with --write, replaces the README's between its `speed-table` markers). Every figure in
it is read from a results file; nothing is typed by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
WORLD = Path(os.environ.get("TMPDIR", "/tmp")) / "homeward-speed-world"
START, END = "<!-- speed-table:start -->", "<!-- speed-table:end -->"
PAGE_TARGET_MS = 150
SEARCH_TARGET_MS = 50
POOL_TARGET_MS = 100

Row = dict[str, Any]


@dataclass(frozen=True)
class Benchmark:
    name: str
    args: list[str]
    what: str
    render: Callable[[Row], str]
    needs: str = ""  # "meili" or "postgres": the server it runs against


def _ms(value: Any) -> str:
    if value is None:
        return "—"
    return f"{float(value):.1f}" if float(value) < 10 else f"{float(value):,.0f}"


def _met(value: Any, target: float) -> str:
    if value is None:
        return "not measured"
    return "met" if float(value) < target else "**missed**"


def _load(result: Row) -> str:
    before, after = result.get("_load_before"), result.get("_load_after")
    return f"load {before[0]:.1f} → {after[0]:.1f}" if before and after else ""


# How the pages row names http_load's other setups; any other is `--baseline-tree`'s.
SETUP_WORDS = {"2 workers": "uvicorn's 2 processes alone", "1 worker": "1 uvicorn process"}


def render_pages(result: Row) -> str:
    # The setup the README recommends: behind nginx when the run measured it (`--proxy`).
    setups = {page["setup"] for page in result["pages"]}
    main = "2 + nginx" if "2 + nginx" in setups else "2 workers"
    parts = []
    for page in result["pages"]:
        if page.get("skipped") or page["setup"] != main:
            continue
        target = "" if page["page"] == "landing" else f" ({_met(page['p95_ms'], PAGE_TARGET_MS)})"
        parts.append(
            f"{page['page'].replace('_', ' ')} {_ms(page['p50_ms'])} / {_ms(page['p95_ms'])} ms, "
            f"{page['rps']:.0f} req/s, {page['server_cpu_ms']} ms CPU{target}"
        )
    notes = []
    for setup in sorted(setups - {main}):
        others = [p for p in result["pages"] if p["setup"] == setup and "p95_ms" in p]
        if not others:
            continue
        who = SETUP_WORDS.get(setup, "the tree before")
        notes.append(
            f"; {who}, same run: "
            + ", ".join(
                f"{p['page'].replace('_', ' ')} p95 {_ms(p['p95_ms'])} ms / "
                f"{p['server_cpu_ms']} ms CPU"
                for p in others
            )
        )
    where = "2 uvicorn processes behind nginx, " if main == "2 + nginx" else ""
    return f"{where}p50 / p95, req/s, server CPU a request: " + "; ".join(parts) + "".join(notes)


def render_search(result: Row) -> str:
    parts = []
    for shape, f in result["shapes"].items():
        new = f.get("new_text", {})
        worst = max(f["p95_ms"], new.get("p95_ms", 0))
        parts.append(
            f"{shape} {_ms(f['p50_ms'])} / {_ms(f['p95_ms'])}, new text {_ms(new.get('p50_ms'))}"
            f" / {_ms(new.get('p95_ms'))} ({_met(worst, SEARCH_TARGET_MS)})"
        )
    reference = "; ".join(
        f"{label} {_ms(f.get('p50_ms'))} / {_ms(f.get('p95_ms'))}"
        for label, f in result.get("reference", {}).items()
    )
    built = f"{result['n_docs']:,} experts"
    if result.get("docs_per_s"):
        built += f", filled at {result['docs_per_s']} documents/s"
    return (
        f"{built}; p50 / p95 ms, the search alone and a never-seen text (e5 + search): "
        + "; ".join(parts)
        + (f"; reference: {reference}" if reference else "")
    )


def render_rematch(result: Row) -> str:
    out = []
    for kind in ("need", "expert"):
        inc, full = result[kind], result.get(f"{kind}_full")
        phases = ", ".join(f"{k} {_ms(v)}" for k, v in inc["phases_p50_ms"].items() if v)
        reference = f" vs the full re-read {_ms(full['p50_ms'])} ms" if full else ""
        out.append(
            f"one {kind} changed {_ms(inc['p50_ms'])} / {_ms(inc['p95_ms'])} ms "
            f"({_met(inc['p95_ms'], 1000)} for ≤ 1 s; process CPU p50 "
            f"{_ms(inc.get('cpu_p50_ms'))} ms; phases p50: {phases}){reference}"
        )
    return f"{result['n_experts']:,} experts: " + "; ".join(out)


def render_matching(result: Row) -> str:
    out = [
        f"{r['n_experts']:,} experts top-10 p50 / p95: int8 {r['int8_p50_ms']} / "
        f"{r['int8_p95_ms']} ms, float32 {r['float32_p50_ms']} / {r['float32_p95_ms']}, brute "
        f"force {r['reference_p50_ms']} / {r['reference_p95_ms']}; index {r['int8_index_mb']} MB "
        f"int8 vs {r['float32_index_mb']} MB float32"
        for r in result["retrieval"]
    ]
    out += [
        f"worker ({w['storage']} index, {w['n_experts']:,} experts) {w['rss_mb']} MB RSS, peak "
        f"{w['peak_rss_mb']} MB ({_met(w['rss_mb'], 1024)} for < 1 GB)"
        for w in result["workers"]
    ]
    return "; ".join(out)


def _pool_variant(row: Row) -> str:
    """How a pool row was searched, where it is not the default on random vectors."""
    words = []
    if row.get("vectors") == "real":
        words.append("real-distribution vectors")
    if row.get("variant") and row["variant"] != "always,parallel":
        words.append(f"`{row['variant']}`")
    return f" ({', '.join(words)})" if words else ""


def render_pool(result: Row) -> str:
    out = [
        f"{r['n_experts']:,} experts{_pool_variant(r)}: Recall@100 {r['recall_at_100']} "
        f"({'met' if r['recall_at_100'] >= 0.98 else '**missed**'} for ≥ 0.98), p50 / p95 "
        f"{_ms(r['pool_p50_ms'])} / {_ms(r['pool_p95_ms'])} ms "
        f"({_met(r['pool_p95_ms'], POOL_TARGET_MS)}) vs the exact scan {_ms(r['exact_p50_ms'])}"
        f" / {_ms(r['exact_p95_ms'])} ms"
        + (f"; filled at {r['meili_docs_per_s']} documents/s" if r.get("meili_docs_per_s") else "")
        for r in result["sizes"]
    ]
    if result.get("projection"):
        out.append(f"projected to 1M: {json.dumps(result['projection'])}")
    return "; ".join(out)


def render_embedding(result: Row) -> str:
    total = result.get("summary", {})
    rows = [r for r in result["rows"] if str(r.get("row", "")).startswith(("before", "now"))]
    measured = "; ".join(
        f"{r['row']}, {r['threads']} thread(s): {r['profiles_per_s']} profiles/s measured, "
        f"{r.get('cpu_ms_per_profile')} ms CPU a profile"
        for r in rows
    )
    rate = total.get("now_profiles_per_s_2_cores")
    goal = "" if rate is None else f" ({'met' if rate >= 28 else '**missed**'} for 28/s)"
    return (
        f"1-thread CPU a profile before {total.get('before_cpu_ms_per_profile')} ms, now "
        f"{total.get('now_cpu_ms_per_profile')} ms: 2 busy cores embed "
        f"{total.get('before_profiles_per_s_2_cores')} → {rate} profiles/s{goal}; {measured}"
    )


def render_import(result: Row) -> str:
    r = result["import"]
    return (
        f"{result['rows']:,} experts from CSV: {r['rows_per_s']} rows/s, peak memory "
        f"{r['peak_rss_mb']} MB; re-import {result['reimport']['rows_per_s']} rows/s"
    )


BENCHMARKS = [
    Benchmark(
        "pages",
        [
            "bench/http_load.py",
            "--workers",
            "2",
            "--proxy",
            "--requests",
            "2000",
            "--world",
            str(WORLD),
        ],
        "20 concurrent clients, 10,000 experts, 2 uvicorn processes behind nginx, and alone",
        render_pages,
    ),
    Benchmark(
        "search_fts5",
        ["bench/search_speed.py", "--n", "100000", "--queries", "40"],
        "search on the embedded backend (FTS5), each query shape as the roster page runs it",
        render_search,
    ),
    Benchmark(
        "search_meili_10k",
        ["bench/search_speed.py", "--backend", "meili", "--n", "10000", "--queries", "40"],
        "the same shapes on Meilisearch 1.21",
        render_search,
        "meili",
    ),
    Benchmark(
        "search_meili_100k",
        ["bench/search_speed.py", "--backend", "meili", "--n", "100000", "--queries", "40"],
        "the same shapes on Meilisearch 1.21",
        render_search,
        "meili",
    ),
    Benchmark(
        "search_postgres",
        ["bench/search_speed.py", "--backend", "postgres", "--n", "10000", "--queries", "40"],
        "the same shapes on PostgreSQL",
        render_search,
        "postgres",
    ),
    Benchmark(
        "search_postgres_100k",
        # The filled tables are kept in their own schema (filled on the first run, ~13 min).
        [
            "bench/search_speed.py",
            *("--backend", "postgres", "--n", "100000", "--queries", "40"),
            *("--pg-schema", "speed_pg_100k"),
        ],
        "the same shapes on PostgreSQL at 100,000 experts",
        render_search,
        "postgres",
    ),
    Benchmark(
        "rematch_10k",
        [
            "bench/rematch_latency.py",
            *("--experts", "10000", "--needs", "50", "--changes", "8", "--full-runs", "1"),
        ],
        "re-matching job latency, change committed → proposals stored",
        render_rematch,
    ),
    Benchmark(
        "rematch_100k",
        # No full re-read at 100,000: one takes minutes (the 10,000 row has the reference).
        [
            "bench/rematch_latency.py",
            *("--experts", "100000", "--needs", "50", "--changes", "8", "--full-runs", "0"),
            *("--database", f"sqlite:///{WORLD}-rematch-100k.sqlite3", "--reuse"),
        ],
        "re-matching job latency, change committed → proposals stored",
        render_rematch,
    ),
    Benchmark(
        "matching",
        ["bench/matching_speed.py", "--queries", "50", "--profiles", "16"],
        "top-10 retrieval, index memory, worker memory with the encoder",
        render_matching,
    ),
    Benchmark(
        "embedding",
        ["bench/embedding_speed.py", "--profiles", "24", "--threads", "1", "2"],
        "encoder throughput, the served path against the one before",
        render_embedding,
    ),
    Benchmark(
        "meili_pool",
        ["bench/meili_pool.py", "--sizes", "10000", "--needs", "20"],
        "the matcher's candidates from Meilisearch's vector store, re-ranked, vs the exact scan",
        render_pool,
        "meili",
    ),
    Benchmark(
        "meili_pool_100k",
        # Meilisearch 1.21 builds the pool's vector trees at ~330 documents/s on an idle
        # machine (a 5-minute fill) but at 30-60 on a busy one (about an hour).
        ["bench/meili_pool.py", "--sizes", "100000", "--needs", "20"],
        "the same at 100,000 experts",
        render_pool,
        "meili",
    ),
    Benchmark(
        "meili_pool_100k_real",
        # Experts whose vectors cluster as embeddings do: the service's own path above its
        # roster floor (shared partitions), then the exact quarters it uses below it.
        [
            "bench/meili_pool.py",
            *("--sizes", "100000", "--needs", "20", "--vectors", "real"),
            *("--variants", "always,service", "always", "--keep"),
        ],
        "the same at 100,000 real-distribution experts, as the service searches them",
        render_pool,
        "meili",
    ),
    Benchmark(
        "import",
        ["bench/import_speed.py", "--rows", "100000"],
        "`homeward import` of generated experts",
        render_import,
    ),
]


def _server_missing(bench: Benchmark) -> str:
    if bench.needs == "meili" and not os.environ.get("HOMEWARD_TEST_MEILI_URL"):
        return 'no Meilisearch (eval "$(.ci/meili.sh start)")'
    if bench.needs == "postgres" and not os.environ.get("HOMEWARD_TEST_DATABASE_URL"):
        return "no PostgreSQL ($HOMEWARD_TEST_DATABASE_URL)"
    return ""


def run(only: list[str], results: Path) -> None:
    """Runs the benchmarks one after another and keeps each JSON output."""
    results.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    for bench in BENCHMARKS:
        if only and bench.name not in only:
            continue
        missing = _server_missing(bench)
        if missing:
            print(f"{bench.name}: skipped, {missing}", flush=True)
            continue
        before, started = os.getloadavg(), time.perf_counter()
        print(f"{bench.name}: {' '.join(bench.args)} --json", flush=True)
        done = subprocess.run(
            [sys.executable, *bench.args, "--json"], cwd=ROOT, capture_output=True, text=True
        )
        if done.returncode:
            print(done.stderr[-2000:], file=sys.stderr)
            print(f"{bench.name}: failed ({done.returncode})", flush=True)
            continue
        result = json.loads(done.stdout[done.stdout.index("{") :])
        result |= {
            "_commit": commit,
            "_date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "_seconds": round(time.perf_counter() - started),
            "_load_before": [round(x, 1) for x in before],
            "_load_after": [round(x, 1) for x in os.getloadavg()],
        }
        (results / f"{bench.name}.json").write_text(json.dumps(result, indent=1) + "\n")
        print(f"{bench.name}: done in {result['_seconds']} s", flush=True)


def table(results: Path) -> str:
    """The markdown table of every benchmark that has a results file."""
    lines = ["| benchmark | measured | figures |", "|---|---|---|"]
    for bench in BENCHMARKS:
        path = results / f"{bench.name}.json"
        command = f"`python {' '.join(bench.args)}`"
        if not path.exists():
            lines.append(f"| {command} — {bench.what} | — | not measured |")
            continue
        result = json.loads(path.read_text())
        when = f"{result['_date']}, {result['_commit']}, {_load(result)}"
        lines.append(f"| {command} — {bench.what} | {when} | {bench.render(result)} |")
    return "\n".join(lines)


def write(readme: Path, rendered: str) -> None:
    """Replaces the README's table between its markers."""
    text = readme.read_text()
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        sys.exit(f"{readme} has no {START} … {END} markers")
    readme.write_text(pattern.sub(lambda _: f"{START}\n{rendered}\n{END}", text))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    runner = sub.add_parser("run", help="run the benchmarks, keep their JSON")
    runner.add_argument("--only", nargs="*", default=[], choices=[b.name for b in BENCHMARKS])
    runner.add_argument("--results", type=Path, default=RESULTS)
    renderer = sub.add_parser("table", help="render the table from the kept JSON")
    renderer.add_argument("--results", type=Path, default=RESULTS)
    renderer.add_argument("--write", type=Path, help="replace this README's table")
    args = parser.parse_args()
    if args.command == "run":
        run(args.only, args.results)
        return
    rendered = table(args.results)
    if args.write:
        write(args.write, rendered)
    else:
        print(rendered)


if __name__ == "__main__":
    main()
