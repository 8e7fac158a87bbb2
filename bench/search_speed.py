"""Embedded search speed: index build time, size on disk and query latency over 100,000 experts.

    python bench/search_speed.py [--n 100000] [--queries 300] [--json]

Measures; asserts nothing. The query is the common coordinator search: two words plus two
facet filters (a language and a country of origin), first page of 20 with highlights.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.search.base import SearchQuery  # noqa: E402
from service.search.documents import EXPERTS_STAFF, expert_documents  # noqa: E402
from service.search.fts5 import Fts5Backend  # noqa: E402

SKILLS = (  # noqa: SIM905
    "epidemiology épidémiologie biostatistics cardiology surgery nursing pharmacology "
    "public-health machine-learning python data-science statistics economics finance "
    "accounting law constitutional-law agronomy irrigation hydrology civil-engineering "
    "architecture urban-planning education pedagogy curriculum mathematics physics chemistry "
    "genomics microbiology virology oncology pediatrics obstetrics radiology renewable-energy "
    "solar logistics supply-chain marketing entrepreneurship journalism translation "
    "linguistics history sociology anthropology psychology psychiatry telemedicine cybersecurity"
).split()
WORDS = (  # noqa: SIM905
    "teaches supervises theses research university hospital ministry consulting mentoring "
    "projects field surveys training workshops remote missions laboratory clinic students "
    "faculty programme policy evaluation design management health data systems africa europe "
    "americas community development quality standards national regional international"
).split()
LANGS = ["fr", "en", "ar", "pt", "es", "wo", "sw", "ha"]
COUNTRIES = ["SN", "ML", "MA", "DZ", "TN", "CV", "GH", "NG", "CI", "CM", "HT", "LB"]
RESIDENCES = ["FR", "US", "CA", "BE", "PT", "DE", "GB", "ES", "IT", "CH"]
SECTORS = ["health", "education", "technology", "agriculture", "finance", "public-sector"]
MODES = ["remote", "mission", "hybrid"]


def make_expert(i: int, rng: random.Random) -> dict[str, Any]:
    """Generates one plausible expert record."""
    skills = [s.replace("-", " ") for s in rng.sample(SKILLS, rng.randint(2, 6))]
    month = rng.randint(1, 12)
    return {
        "id": i,
        "display_name": f"Expert {i}",
        "headline": f"{skills[0].title()} specialist",
        "bio": " ".join(rng.choices(WORDS + skills, k=rng.randint(25, 60))),
        "skills": skills,
        "languages": rng.sample(LANGS, rng.randint(1, 3)),
        "origin_country": rng.choice(COUNTRIES),
        "residence_country": rng.choice(RESIDENCES),
        "city": "City",
        "sectors": rng.sample(SECTORS, rng.randint(1, 2)),
        "modes": rng.sample(MODES, rng.randint(1, 2)),
        "available_from": f"2025-{month:02d}-01" if rng.random() < 0.7 else None,
        "available_until": f"2026-{month:02d}-28" if rng.random() < 0.3 else None,
        "hours_per_month": rng.choice([5, 10, 20, 40]),
        "visibility": "institutions",
        "active": True,
        "email": f"expert{i}@example.org",
        "phone": None,
    }


def percentile(values: list[float], p: float) -> float:
    """Gets the p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def main() -> None:
    """Builds the index, runs the queries, prints the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "search.sqlite3"
        backend = Fts5Backend(path=str(path))
        backend.ensure_indexes()
        started = time.perf_counter()
        batch: list[dict[str, Any]] = []
        for i in range(1, args.n + 1):
            doc = expert_documents(make_expert(i, rng))[EXPERTS_STAFF]
            assert doc is not None
            batch.append(doc)
            if len(batch) == 2000:
                backend.upsert(EXPERTS_STAFF, batch)
                batch = []
        if batch:
            backend.upsert(EXPERTS_STAFF, batch)
        with backend._conn() as conn:  # fold the WAL into the file before measuring it
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("INSERT INTO experts_staff_fts(experts_staff_fts) VALUES ('optimize')")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        build_s = time.perf_counter() - started
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())

        simple = [s for s in SKILLS if "-" not in s]
        queries = [
            SearchQuery(
                text=" ".join(rng.sample(simple + WORDS, 2)),
                filters={"languages": rng.choice(LANGS), "origin_country": rng.choice(COUNTRIES)},
                per_page=20,
            )
            for _ in range(args.queries)
        ]
        for query in queries[:20]:  # warm the page cache
            backend.search(EXPERTS_STAFF, query)
        latencies, totals = [], []
        for query in queries:
            t0 = time.perf_counter()
            page = backend.search(EXPERTS_STAFF, query)
            latencies.append((time.perf_counter() - t0) * 1000)
            totals.append(page.total)
        faceted = []
        for query in queries[:100]:
            with_facets = SearchQuery(
                text=query.text,
                filters=query.filters,
                facets=["languages", "sectors", "modes", "residence_country", "availability"],
            )
            t0 = time.perf_counter()
            backend.search(EXPERTS_STAFF, with_facets)
            faceted.append((time.perf_counter() - t0) * 1000)
        broad = []
        for _ in range(50):
            t0 = time.perf_counter()
            backend.search(EXPERTS_STAFF, SearchQuery(text=rng.choice(WORDS), facets=["languages"]))
            broad.append((time.perf_counter() - t0) * 1000)
        backend.close()

    result = {
        "n_docs": args.n,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "build_s": round(build_s, 1),
        "index_mb": round(size / 1_000_000, 1),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"documents              {result['n_docs']:>10,}")
    print(f"build                  {result['build_s']:>10} s")
    print(f"index on disk          {result['index_mb']:>10} MB")
    print(f"query p50 / p95        {result['p50_ms']:>6} / {result['p95_ms']} ms")
    print(f"  median matches       {statistics.median(totals):>10}")
    print(
        f"with 5 facets p50/p95  {percentile(faceted, 50):>6.2f} / {percentile(faceted, 95):.2f} ms"
    )
    print(
        f"one common word + facet, no filter p50/p95  "
        f"{percentile(broad, 50):.2f} / {percentile(broad, 95):.2f} ms"
    )


if __name__ == "__main__":
    main()
