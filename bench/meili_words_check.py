"""Meilisearch typo corrections from the index's words against the server's own, page by page.

    python bench/meili_words_check.py [--seed 13] [--json]

Indexes the 3,000 profiles of ../shared/bench (keywords only) in throwaway Meilisearch indexes
($HOMEWARD_TEST_MEILI_URL, $HOMEWARD_TEST_MEILI_KEY), then searches each need's title (English,
French, Spanish, and English with one seeded typo, as bench/search_quality.py makes them) as the
roster page does (its facets, a page of 20 with highlights), twice, interleaved: correcting from
the index's words in the process (service/search/meili_words.py) and from the server's answers
alone (`correct_from_words=False`). Counts the pages that differ (suggestion, hits in order,
total, facets) and the multi-search requests a search sent each way. Measures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from matching_quality import BENCH_DIR, expert_from_row, read_jsonl  # noqa: E402
from search_quality import build_backend, queries  # noqa: E402

from service.search.base import SearchQuery  # noqa: E402
from service.search.documents import EXPERTS_STAFF  # noqa: E402
from service.search.meili import MeiliBackend  # noqa: E402

FACETS = ("languages", "origin_country", "sectors", "modes", "availability")


def page_of(backend: MeiliBackend, text: str) -> tuple[tuple[Any, ...], int, float]:
    """One roster search: what a person sees, the requests it sent, its milliseconds."""
    backend.searches.clear()
    started = time.perf_counter()
    page = backend.search(EXPERTS_STAFF, SearchQuery(text=text, facets=FACETS, per_page=20))
    elapsed = (time.perf_counter() - started) * 1000
    seen = (page.suggestion, [h.id for h in page.hits], page.total, page.facets)
    return seen, len(backend.searches), elapsed


def main() -> None:
    """Indexes the profiles, compares both ways of correcting on every title, prints counts."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--bench-dir", type=Path, default=BENCH_DIR)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    experts = [expert_from_row(r) for r in read_jsonl(args.bench_dir / "profiles.jsonl")]
    profiles = [  # as bench/search_quality.py indexes them
        {
            "id": i + 1,
            "display_name": "",
            "headline": e.headline,
            "skills": e.skills,
            "bio": e.bio,
            "visibility": "institutions",
            "active": True,
        }
        for i, e in enumerate(experts)
    ]
    backend, drop = build_backend(profiles, None, "meili")
    assert isinstance(backend, MeiliBackend)
    result: dict[str, Any] = {"profiles": len(profiles), "tracks": {}}
    try:
        page_of(backend, "x")  # reads the index's words
        for track, (_, titles, _) in queries(args.bench_dir, args.seed).items():
            differ: list[dict[str, Any]] = []
            sent: dict[bool, list[int]] = {True: [], False: []}
            ms: dict[bool, list[float]] = {True: [], False: []}
            suggested = {True: 0, False: 0}
            for k, title in enumerate(titles):
                seen: dict[bool, tuple[Any, ...]] = {}
                for words in (True, False) if k % 2 == 0 else (False, True):
                    backend.correct_from_words = words
                    seen[words], n, elapsed = page_of(backend, title)
                    sent[words].append(n)
                    ms[words].append(elapsed)
                    suggested[words] += seen[words][0] is not None
                if seen[True] != seen[False]:
                    differ.append(
                        {"title": title, "words": seen[True][:2], "server": seen[False][:2]}
                    )
            result["tracks"][track] = {
                "pages": len(titles),
                "differ": len(differ),
                "examples": differ[:5],
                "corrected": {"words": suggested[True], "server": suggested[False]},
                "requests_mean": {
                    "words": round(statistics.mean(sent[True]), 2),
                    "server": round(statistics.mean(sent[False]), 2),
                },
                "ms_p50": {
                    "words": round(statistics.median(ms[True]), 1),
                    "server": round(statistics.median(ms[False]), 1),
                },
            }
    finally:
        drop()
        backend.close()
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return
    print(f"{'track':<10} {'pages':>6} {'differ':>7} {'requests words/server':>22} corrected")
    for track, m in result["tracks"].items():
        r, c = m["requests_mean"], m["corrected"]
        print(
            f"{track:<10} {m['pages']:>6} {m['differ']:>7} "
            f"{r['words']:>10} / {r['server']:<10} {c['words']} / {c['server']}"
        )
        for example in m["examples"]:
            print(f"    {example}")


if __name__ == "__main__":
    main()
