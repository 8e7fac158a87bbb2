"""Search speed: each query shape a person types, over 100,000 experts, on one backend.

    python bench/search_speed.py [--n 100000] [--queries 100] [--query-model e5] [--json]
        [--backend fts5|postgres|meili] [--keep] [--pg-schema NAME] [--words on|off|both]

Measures; asserts nothing. Each shape runs as the roster page runs it: hybrid (a query vector
against each expert's vector), the six facets of the page, first page of 20 with highlights.
The index is built once and cached under bench/.cache/ ($HOMEWARD_BENCH_CACHE overrides;
--rebuild to rebuild it). The other backends are filled afresh each run and thrown away after
it, as bench/search_quality.py does: PostgreSQL at $HOMEWARD_TEST_DATABASE_URL in a throwaway
schema, Meilisearch at $HOMEWARD_TEST_MEILI_URL (`eval "$(.ci/meili.sh start)"`) in throwaway
indexes; their build time includes waiting until every document is searchable (documents/s
printed beside it).
With --keep, Meilisearch's indexes are kept (prefix `bench_search_<n>_`) and reused by the next
run that asks for as many experts; with --pg-schema NAME, PostgreSQL's tables are kept in that
schema and reused likewise (so two versions of the code can be measured on the same tables).

Each shape is measured twice: the search alone (a precomputed query vector), and what a person
waits for a text never searched before (the web's query embedder, its memory of recent texts
off, handed to the search as service/core/search.py does: the backend embeds the text it ends up
searching, on the searching thread, once; for a corrected typo, the correction only).

On Meilisearch, each shape also reports the server's part: the multi-search requests a search
waited for one after the other (`requests_mean`) and their round trips, the requests sent beside
them on other threads (`beside_mean`: the neighbours by meaning), and Meilisearch's own
`processingTimeMs` summed over all their queries (a figure a loaded client machine stretches
less). `--words off` corrects typos from the server's
answers alone (no index words in the process, as before service/search/meili_words.py);
`--words both` runs each query both ways, interleaved, and reports the searches without the
words under `without_words` beside each shape.

Each search is timed twice: wall clock (what a person waits) and the CPU time of the searching
thread (the work, which a busy machine stretches less). Beside them, in the same run, a fixed
reference: one exact float32 scan of all the vectors (n x 384), ten after each shape, so a
figure taken on a loaded machine can be read against what that machine could do then.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from service.search.base import SearchBackend, SearchQuery  # noqa: E402
from service.search.documents import EXPERTS_STAFF, expert_documents  # noqa: E402
from service.search.fts5 import SCHEMA_VERSION, Fts5Backend  # noqa: E402
from service.search.meili import MeiliBackend  # noqa: E402

# As bench/matching_quality.py's embeddings: HOMEWARD_BENCH_CACHE moves it (a test's tmp folder).
CACHE = Path(os.environ.get("HOMEWARD_BENCH_CACHE", Path(__file__).resolve().parent / ".cache"))
DIM = 384  # the e5 block of the stored vectors
PAGE_FACETS = (
    "origin_country",
    "residence_country",
    "languages",
    "sectors",
    "modes",
    "availability",
)

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


def unit_vectors(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Random unit vectors: the cost of a nearest-neighbour pass does not depend on meaning."""
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def batches(n: int, dim: int, size: int = 2000) -> Iterator[list[dict[str, Any]]]:
    """The index documents of n generated experts, each with a vector, in batches."""
    rng = random.Random(42)
    vectors = unit_vectors(n, dim, np.random.default_rng(42))
    batch: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        record = {**make_expert(i, rng), "embedding": vectors[i - 1].tolist()}
        doc = expert_documents(record)[EXPERTS_STAFF]
        assert doc is not None
        batch.append(doc)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def fill(backend: SearchBackend, n: int, dim: int) -> float:
    """Indexes n generated experts in a server backend; returns the seconds until searchable."""
    backend.ensure_indexes()
    started = time.perf_counter()
    if isinstance(backend, MeiliBackend):
        backend.task_timeout_ms = 3_600_000  # a bulk load: wait as long as it takes
        backend.upsert_batches(EXPERTS_STAFF, list(batches(n, dim, 5000)))
    else:
        for batch in batches(n, dim):
            backend.upsert(EXPERTS_STAFF, batch)
    return time.perf_counter() - started


def build(path: Path, n: int, dim: int) -> float:
    """Builds the index of n generated experts, each with a vector; returns the seconds taken."""
    backend = Fts5Backend(path=str(path))
    backend.ensure_indexes()
    started = time.perf_counter()
    for batch in batches(n, dim):
        backend.upsert(EXPERTS_STAFF, batch)
    with backend._conn() as conn:  # fold the WAL into the file before measuring it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("INSERT INTO experts_staff_fts(experts_staff_fts) VALUES ('optimize')")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    backend.close()
    return time.perf_counter() - started


def misspell(word: str, rng: random.Random) -> str:
    """Swaps two neighbouring letters inside a word (never the first two)."""
    at = rng.randrange(2, len(word) - 1)
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


FRENCH = (
    "épidémiologiste santé publique",
    "ingénieur agronome irrigation",
    "professeur de mathématiques",
    "juriste droit constitutionnel",
    "médecin pédiatre",
    "comptable finance",
    "chercheur en génomique",
    "formation des enseignants",
)


def shapes(rng: random.Random, count: int) -> dict[str, list[SearchQuery]]:
    """The query shapes a person types, as the roster page runs them (facets, hybrid)."""
    simple = [s for s in SKILLS if "-" not in s and len(s) > 5]
    vectors = unit_vectors(count * 4, DIM, np.random.default_rng(7))
    made: dict[str, list[SearchQuery]] = {}

    def query(i: int, text: str, filters: dict[str, Any] | None = None) -> SearchQuery:
        return SearchQuery(
            text=text,
            filters=filters or {},
            facets=PAGE_FACETS,
            per_page=20,
            vector=vectors[i].tolist(),
        )

    made["one common word, no filter"] = [query(i, rng.choice(WORDS)) for i in range(count)]
    made["two words, two facets"] = [
        query(
            count + i,
            " ".join(rng.sample(simple + WORDS, 2)),
            {"languages": rng.choice(LANGS), "origin_country": rng.choice(COUNTRIES)},
        )
        for i in range(count)
    ]
    made["one misspelled word"] = [
        query(2 * count + i, misspell(rng.choice(simple), rng)) for i in range(count)
    ]
    made["French query"] = [query(3 * count + i, rng.choice(FRENCH)) for i in range(count)]
    return made


class Timer:
    """Collects wall-clock and thread CPU milliseconds of repeated calls."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> Timer:
        self._wall, self._cpu = time.perf_counter(), time.thread_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall.append((time.perf_counter() - self._wall) * 1000)
        self.cpu.append((time.thread_time() - self._cpu) * 1000)

    def figures(self) -> dict[str, float]:
        """Gets p50 and p95 of both clocks."""
        return {
            "p50_ms": round(percentile(self.wall, 50), 2),
            "p95_ms": round(percentile(self.wall, 95), 2),
            "cpu_p50_ms": round(percentile(self.cpu, 50), 2),
            "cpu_p95_ms": round(percentile(self.cpu, 95), 2),
        }


def set_words(backend: SearchBackend, words: bool) -> None:
    """Makes Meilisearch correct typos from the index's words or from its answers alone."""
    if isinstance(backend, MeiliBackend):
        backend.correct_from_words = words


class Measured:
    """One way of searching a shape: its times, matches, corrections and server's part."""

    def __init__(self) -> None:
        self.timer = Timer()
        self.totals: list[int] = []
        self.suggested = 0
        self.server: dict[str, list[float]] = {
            "round_trip": [],
            "processing": [],
            "requests": [],
            "beside": [],
        }

    def search(self, backend: SearchBackend, query: SearchQuery) -> None:
        """Runs and times one search."""
        if isinstance(backend, MeiliBackend):
            backend.searches.clear()
            backend.beside.clear()
        with self.timer:
            page = backend.search(EXPERTS_STAFF, query)
        self.totals.append(page.total)
        self.suggested += page.suggestion is not None
        if isinstance(backend, MeiliBackend):  # the server's part of the wait
            # Round trips: those waited for one after the other; the requests sent beside
            # them (the neighbours by meaning) count in the processing, and apart.
            self.server["round_trip"].append(sum(s[0] for s in backend.searches))
            self.server["processing"].append(
                sum(s[1] for s in [*backend.searches, *backend.beside])
            )
            self.server["requests"].append(len(backend.searches))
            self.server["beside"].append(len(backend.beside))

    def figures(self) -> dict[str, Any]:
        """Gets the times, the median matches, the corrections and the server's part."""
        out: dict[str, Any] = {
            **self.timer.figures(),
            "median_matches": statistics.median(self.totals),
            "corrected": self.suggested,
        }
        if self.server["requests"]:
            out["meilisearch"] = {
                "requests_mean": round(statistics.mean(self.server["requests"]), 2),
                "beside_mean": round(statistics.mean(self.server["beside"]), 2),
                **{
                    f"{name}_{label}_ms": round(percentile(self.server[name], p), 1)
                    for name in ("round_trip", "processing")
                    for label, p in (("p50", 50), ("p95", 95))
                },
            }
        return out


def end_to_end(backend: Fts5Backend, queries: list[SearchQuery], embed: Any) -> Timer:
    """Times each query as the web runs it for a new text: the backend embeds the text it
    searches (service/core/search.py `_run`)."""
    timer = Timer()
    for query in queries:
        with timer:
            backend.search(EXPERTS_STAFF, dataclasses.replace(query, vector=None, embed=embed))
    return timer


def new_text_embedder(name: str) -> Any:
    """The web's query embedder with no memory of recent texts (every text is new), or None
    when the model's vectors do not fit this index's (DIM)."""
    from service.core.search_vectors import QueryEmbedder

    embedder = QueryEmbedder(name, enabled=True, cached=0)
    probe = embedder.embed("warm up")
    if probe is None or len(probe) != DIM:
        return None
    return embedder.embed


def query_model_cost(name: str, texts: list[str]) -> dict[str, dict[str, float]]:
    """Times embedding one query with the query model (what a keystroke adds in the web), and
    the same texts again through the web's embedder, which remembers recent texts."""
    from matching.encoders import load_encoder
    from service.core.search_vectors import QueryEmbedder

    encoder = load_encoder(name, threads=1)
    for text in texts[:5]:
        encoder.encode_queries([text])
    fresh = Timer()
    for text in texts:
        with fresh:
            encoder.encode_queries([text])
    embedder = QueryEmbedder(name, enabled=True)
    for text in texts:
        embedder.embed(text)
    again = Timer()
    for text in texts:
        with again:
            embedder.embed(text)
    return {"new text": fresh.figures(), "text searched again": again.figures()}


def kept_meili(n: int) -> tuple[SearchBackend, float | None, int | None, Callable[[], None]]:
    """Meilisearch indexes of n generated experts kept between runs (prefix
    `bench_search_<n>_`): filled when they do not hold n documents, never thrown away."""
    backend = MeiliBackend(
        url=os.environ["HOMEWARD_TEST_MEILI_URL"],
        api_key=os.environ.get("HOMEWARD_TEST_MEILI_KEY", ""),
        index_prefix=f"bench_search_{n}_",
        embedding_dimensions=DIM,
    )
    backend.ensure_indexes()
    stats = backend.client.index(backend.uid(EXPERTS_STAFF)).get_stats()
    build_s = None
    if stats.number_of_documents != n:
        backend.drop()
        build_s = round(fill(backend, n, DIM), 1)
    return backend, build_s, None, backend.close


def kept_postgres(
    n: int, schema: str
) -> tuple[SearchBackend, float | None, int | None, Callable[[], None]]:
    """A PostgreSQL schema of n generated experts kept between runs (at
    $HOMEWARD_TEST_DATABASE_URL): filled when it does not hold n documents, never dropped, so
    two versions of the code can be measured on the same tables."""
    import sqlalchemy

    from service.search.postgres import PostgresBackend

    if not schema.replace("_", "").isalnum():
        raise SystemExit("--pg-schema: letters, digits and _ only")
    url = os.environ["HOMEWARD_TEST_DATABASE_URL"]
    with sqlalchemy.create_engine(url).begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    engine = sqlalchemy.create_engine(
        url, connect_args={"options": f"-csearch_path={schema},public"}
    )
    backend = PostgresBackend(engine=engine)
    build_s = None
    if len(backend.all_ids(EXPERTS_STAFF)) != n:
        backend.drop()
        build_s = round(fill(backend, n, DIM), 1)
    return backend, build_s, None, engine.dispose


def open_backend(
    kind: str, n: int, rebuild: bool, keep: bool = False, pg_schema: str = ""
) -> tuple[SearchBackend, float | None, int | None, Callable[[], None]]:
    """Gets a backend holding n generated experts, the seconds its build took (None: cached),
    its size on disk (None: not known) and what to call when done."""
    if kind == "meili" and keep:
        return kept_meili(n)
    if kind == "postgres" and pg_schema:
        return kept_postgres(n, pg_schema)
    if kind != "fts5":
        from search_quality import make_backend

        backend, drop = make_backend(kind, DIM)
        try:
            build_s = round(fill(backend, n, DIM), 1)
        except BaseException:
            drop()
            raise

        def done() -> None:
            drop()
            backend.close()

        return backend, build_s, None, done
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"search_speed_{n}_v{SCHEMA_VERSION}.sqlite3"
    build_s: float | None = None
    if rebuild or not path.exists():
        for old in CACHE.glob(path.name + "*"):
            old.unlink()
        build_s = round(build(path, n, DIM), 1)
    size = sum(p.stat().st_size for p in CACHE.glob(path.name + "*"))
    fts = Fts5Backend(path=str(path))
    return fts, build_s, size, fts.close


def main() -> None:
    """Builds the index once (cached), runs each query shape, prints the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--query-model", default="e5", help="'' to skip timing it")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--backend", choices=("fts5", "postgres", "meili"), default="fts5")
    parser.add_argument(
        "--keep", action="store_true", help="meili: reuse (or fill and keep) bench_search_<n>_"
    )
    parser.add_argument(
        "--pg-schema",
        default="",
        help="postgres: reuse (or fill and keep) this schema instead of a throwaway one",
    )
    parser.add_argument(
        "--words",
        choices=("on", "off", "both"),
        default="on",
        help="meili: correct typos from the index's words (on), the server's answers (off), both",
    )
    args = parser.parse_args()
    backend, build_s, size, done = open_backend(
        args.backend, args.n, args.rebuild, args.keep, args.pg_schema
    )
    rng = random.Random(42)
    result: dict[str, Any] = {
        "backend": args.backend,
        "n_docs": args.n,
        "build_s": build_s,
        "docs_per_s": round(args.n / build_s) if build_s else None,
        "index_mb": round(size / 1_000_000, 1) if size is not None else None,
        "shapes": {},
    }
    result["load_before"] = [round(x, 2) for x in os.getloadavg()]
    started = time.perf_counter()
    backend.search(EXPERTS_STAFF, SearchQuery(text="x", vector=[1.0] + [0.0] * (DIM - 1)))
    result["first_query_s"] = round(time.perf_counter() - started, 2)  # loads the vectors
    if isinstance(backend, MeiliBackend) and args.words != "off":
        # Its words are read on a thread of their own from 5,000 documents: wait for them.
        while backend.vocabulary.get(backend.uid(EXPERTS_STAFF)) is None:
            time.sleep(0.1)
            backend.search(EXPERTS_STAFF, SearchQuery(text="x"))
        result["index_words_s"] = round(time.perf_counter() - started, 2)
    matrix = unit_vectors(args.n, DIM, np.random.default_rng(42))
    probe = matrix[0].copy()
    reference = Timer()
    embed = new_text_embedder(args.query_model) if args.query_model else None
    if embed is not None:
        result["new_text_model"] = args.query_model
    ways = {"on": [True], "off": [False], "both": [False, True]}[args.words]
    for shape, queries in shapes(rng, args.queries).items():
        for query in queries[:10]:  # warm the page cache
            for words in ways:
                set_words(backend, words)
                backend.search(EXPERTS_STAFF, query)
        measured = {words: Measured() for words in ways}
        for k, query in enumerate(queries):  # interleaved, first one way then the other
            for words in ways if k % 2 == 0 else ways[::-1]:
                set_words(backend, words)
                measured[words].search(backend, query)
        set_words(backend, ways[-1])
        result["shapes"][shape] = measured[ways[-1]].figures()
        if len(ways) > 1:
            result["shapes"][shape]["without_words"] = measured[False].figures()
        waited = end_to_end(backend, queries, embed) if embed is not None else None
        for _ in range(10):  # after each shape, so its scans do not cool the searches' caches
            with reference:
                matrix @ probe
        if waited is not None:
            result["shapes"][shape]["new_text"] = waited.figures()
    result["reference"] = {f"exact float32 scan of {args.n:,} x {DIM}": reference.figures()}
    del matrix
    done()
    if args.query_model:
        texts = [*FRENCH, *WORDS[:20], *SKILLS[:20]]
        result["query_model"] = {args.query_model: query_model_cost(args.query_model, texts)}
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{args.backend}: documents {result['n_docs']:,}  index {result['index_mb']} MB  "
        f"build {build_s} s ({result['docs_per_s']} documents/s)"
    )
    print(f"load average before {result['load_before']}, after {result['load_after']}")
    print(f"first query (loads the vectors) {result['first_query_s']} s")
    header = "shape (hybrid, 6 facets, page of 20)"
    print(f"{header:<38} {'p50 ms':>7} {'p95 ms':>7} {'CPU p50':>8} {'CPU p95':>8} {'matches':>8}")
    rows: list[tuple[str, dict[str, Any]]] = []
    for shape, m in result["shapes"].items():
        rows.append((shape, m))
        if "new_text" in m:  # what a person waits for a text never searched before
            rows.append((f"  new text: {result['new_text_model']} + search", m["new_text"]))
    rows.extend((f"reference: {k}", v) for k, v in result["reference"].items())
    for name, m in rows:
        print(
            f"{name:<38} {m['p50_ms']:>7} {m['p95_ms']:>7} {m['cpu_p50_ms']:>8} "
            f"{m['cpu_p95_ms']:>8} {m.get('median_matches', ''):>8}"
        )
    for shape, m in result["shapes"].items():
        if "meilisearch" in m:
            print(f"{shape}: Meilisearch {json.dumps(m['meilisearch'])}")
        if "without_words" in m:
            print(f"{shape}: without the index's words {json.dumps(m['without_words'])}")
    for name, cases in result.get("query_model", {}).items():
        for case, m in cases.items():
            print(
                f"query model {name}, {case}: p50 {m['p50_ms']} ms, p95 {m['p95_ms']} ms "
                f"(CPU {m['cpu_p50_ms']} / {m['cpu_p95_ms']} ms)"
            )


if __name__ == "__main__":
    main()
