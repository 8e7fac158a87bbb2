"""Search quality on the dev benchmark: need titles as search queries, lexical vs hybrid.

    python bench/search_quality.py [--models minilm use e5] [--ratio 0.5] [--json]
        [--backend fts5|postgres|meili] [--needs] [--floors F ...] [--public] [--plausibility]

The 3,000 profiles are indexed by a search backend (by default the embedded one, SQLite FTS5;
PostgreSQL at $HOMEWARD_TEST_DATABASE_URL, in a throwaway schema; Meilisearch at
$HOMEWARD_TEST_MEILI_URL with $HOMEWARD_TEST_MEILI_KEY, in throwaway indexes) as expert
documents, each with the vector of one bundled encoder (the document block the matcher stores);
each need's
TITLE (English, French, Spanish, and English with one seeded typo) is the query. "lexical" is
the search box without a vector; "hybrid <model>" adds the title embedded by that model.
Also reports each model's query time (one title, one thread) and the memory it costs.
Embeddings are cached under bench/.cache/ (shared with bench/matching_quality.py).

With --floors F ..., the floor under meaning (service/search/semantic.py DENSE_FLOOR, the cosine
a neighbour by meaning must reach) is swept on one backend per model: for each floor, hybrid
nDCG@10 and Recall@10 of each track on its tuning half and its held-out half (the needs split
in two by a hash of their ids: choose on the tuning half only), and the share of nonsense
queries that find no expert at all (`nonsense`: random letter strings and random made-up
syllable words, drawn with --seed, never hand-picked). The floor is swept on its own: the rule
that keeps gibberish from being searched by meaning (--plausibility) is off meanwhile. With
--public, the institutions' index instead: no bio, and each profile's public vector
(headline and skills, matching.texts.profile_public_text), as institutions search the roster.

With --needs, the needs search instead: the 200 needs of one language (title and description,
as open needs) are the index and each expert who is the very occupation of a need (grade 2) is
a query, by their HEADLINE (English), as an expert looking for needs types their trade; a need
is relevant to that expert with the grade the benchmark gives the pair. Tracks needs_en,
needs_fr, needs_es (needs written in English, French, Spanish), lexical vs hybrid. With
--floors F ... as well, the needs' floor under meaning (semantic.NEEDS_FLOOR) is swept the same
way: each track's tuning and held-out halves (the experts who query, split by a hash of their
profile id) and the share of the nonsense queries that find no need in each track's index.

With --plausibility, the rule that keeps gibberish from being searched by meaning
(matching/plausibility.py): each real query's score (every track's titles, the experts'
headlines that query the needs, and every word of the needs' texts as a one-word query) on each
half, and the nonsense queries'; the score chosen on the tuning halves only (no real tuning
query and at most 0.5 % of the tuning words rejected, rounded down), the real
held-out queries and the nonsense it rejects, a hand list of short real queries (Arabic,
accented French, acronyms, names: a check, not for choosing), then e5's hybrid nDCG@10 of each
track (the experts' index, --public for the institutions', and the needs' indexes) without and
with the rule.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import statistics
import sys
import time
import uuid
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy  # noqa: E402
from matching_quality import (  # noqa: E402
    BENCH_DIR,
    EmbeddingCache,
    expert_from_row,
    load_track,
    read_jsonl,
)

from matching import plausibility  # noqa: E402
from matching.encoders import Encoder, load_encoder  # noqa: E402
from matching.metrics import Qrels, evaluate  # noqa: E402
from matching.texts import (  # noqa: E402
    need_search_text,
    profile_document_text,
    profile_public_text,
)
from service.search import semantic  # noqa: E402
from service.search.base import SearchBackend, SearchQuery  # noqa: E402
from service.search.documents import (  # noqa: E402
    EXPERTS_PUBLIC,
    EXPERTS_STAFF,
    NEEDS,
    expert_documents,
    need_documents,
)
from service.search.fts5 import Fts5Backend  # noqa: E402
from service.search.meili import MeiliBackend  # noqa: E402
from service.search.postgres import PostgresBackend  # noqa: E402

MODELS = ("minilm", "use", "e5")
TRACKS = ("desc_en", "desc_fr", "desc_es")
TYPO_TRACK = "typo_en"
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def typo(title: str, rng: random.Random) -> str:
    """Applies one random edit (insertion, deletion, substitution, transposition) to one word
    of at least four letters (any word if none is that long)."""
    words = title.split()
    long_words = [i for i, w in enumerate(words) if len(w) >= 4] or list(range(len(words)))
    i = rng.choice(long_words)
    word = words[i]
    kind = rng.choice(("insert", "delete", "substitute", "transpose"))
    at = rng.randrange(len(word))
    if kind == "insert":
        word = word[:at] + rng.choice(LETTERS) + word[at:]
    elif kind == "delete" and len(word) > 1:
        word = word[:at] + word[at + 1 :]
    elif kind == "transpose" and len(word) > 1:
        at = min(at, len(word) - 2)
        word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    else:
        choices = [c for c in LETTERS if c != word[at].lower()]
        word = word[:at] + rng.choice(choices) + word[at + 1 :]
    words[i] = word
    return " ".join(words)


def queries(bench_dir: Path, seed: int) -> dict[str, tuple[list[str], list[str], Qrels]]:
    """Gets each track's need ids, title queries and qrels (the typo track reuses English)."""
    out: dict[str, tuple[list[str], list[str], Qrels]] = {}
    for track in TRACKS:
        rows, qrels = load_track(bench_dir, track)
        out[track] = ([str(r["need_id"]) for r in rows], [str(r["title"]) for r in rows], qrels)
    rng = random.Random(seed)
    ids, titles, qrels = out["desc_en"]
    out[TYPO_TRACK] = (ids, [typo(t, rng) for t in titles], qrels)
    return out


def tuning_half(need_id: str) -> bool:
    """Whether a need is in the tuning half (the other is held out): a hash of its id."""
    return zlib.crc32(need_id.encode()) % 2 == 0


def nonsense(seed: int, n: int = 100) -> dict[str, list[str]]:
    """Queries that mean nothing, drawn at random: `letters`, one to three strings of 4 to 10
    random letters ("xqzvbnm kkrtpl"); `syllables`, two or three made-up words of consonant-vowel
    syllables, pronounceable as a real word would be ("bokafe tirumo")."""
    rng = random.Random(seed)
    consonants, vowels = "bcdfghjklmnprstvz", "aeiou"

    def word() -> str:
        return "".join(
            rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4))
        )

    letters = [
        " ".join(
            "".join(rng.choice(LETTERS) for _ in range(rng.randint(4, 10)))
            for _ in range(rng.randint(1, 3))
        )
        for _ in range(n)
    ]
    syllables = [" ".join(word() for _ in range(rng.randint(2, 3))) for _ in range(n)]
    return {"letters": letters, "syllables": syllables}


def set_floor(floor: float, index: str = EXPERTS_STAFF) -> None:
    """Sets the floor under meaning every backend applies in an index (as if the constant were
    this: NEEDS_FLOOR for the needs, DENSE_FLOOR for the experts)."""
    # Both are read by `semantic.dense_floor` at each search.
    if index == NEEDS:
        semantic.NEEDS_FLOOR = floor
    else:
        semantic.DENSE_FLOOR = floor


def empty_share(
    backend: SearchBackend,
    texts: Sequence[str],
    embed: Callable[[Sequence[str]], Any],
    index: str = EXPERTS_STAFF,
) -> dict[str, float]:
    """Share of the texts for which the hybrid search finds nothing, and the mean count found."""
    vectors = embed(texts)
    totals = []
    for row, text in enumerate(texts):
        page = backend.search(
            index,
            SearchQuery(
                text=text, per_page=10, highlight=False, vector=list(map(float, vectors[row]))
            ),
        )
        totals.append(page.total)
    return {
        "empty": round(sum(1 for t in totals if t == 0) / len(totals), 3),
        "mean_found": round(statistics.mean(totals), 1),
    }


def floor_sweep(
    backend: SearchBackend,
    tracks: dict[str, tuple[list[str], list[str], Qrels]],
    profile_of: dict[int, str],
    cache: Any,
    floors: Sequence[float],
    args: argparse.Namespace,
    log: Callable[[str], None],
    index: str = EXPERTS_STAFF,
) -> dict[str, Any]:
    """Hybrid figures per track on each half, and the nonsense queries found nothing, per floor."""
    junk = nonsense(args.seed)
    swept: dict[str, Any] = {}
    for floor in floors:
        set_floor(floor)
        row: dict[str, Any] = {}
        for track, (ids, titles, qrels) in tracks.items():
            vectors = cache.embed(titles)
            found = run(backend, ids, titles, profile_of, vectors, args.ratio, cache.embed, index)
            for half, keep in (("tune", True), ("held", False)):
                judged = {n: g for n, g in qrels.items() if tuning_half(n) == keep}
                row[f"{track} {half}"] = figures(found, judged)
        for kind, texts in junk.items():
            row[f"nonsense {kind}"] = empty_share(backend, texts, cache.embed, index)
        log(f"floor {floor}: {row}")
        swept[str(floor)] = row
    return swept


def print_sweep(swept: dict[str, Any]) -> None:
    """Prints one line per floor: nDCG@10 of each track's halves, then nonsense found nothing."""
    for floor, row in swept.items():
        cells = [
            f"{name} {v['ndcg@10']:.3f}" if "ndcg@10" in v else f"{name} {v['empty']:.0%}"
            for name, v in row.items()
        ]
        print(f"floor {floor}: " + " | ".join(cells))


def rss_mb() -> float:
    """Gets this process's resident memory in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


BACKENDS = ("fts5", "postgres", "meili")


def make_backend(kind: str, dimensions: int | None) -> tuple[SearchBackend, Callable[[], None]]:
    """Makes an empty backend of a kind and the function that throws it away."""
    if kind == "postgres":
        url = os.environ["HOMEWARD_TEST_DATABASE_URL"]
        schema = f"bench_search_{uuid.uuid4().hex[:10]}"
        admin = sqlalchemy.create_engine(url)
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
        engine = sqlalchemy.create_engine(
            url, connect_args={"options": f"-csearch_path={schema},public"}
        )

        def drop_schema() -> None:
            engine.dispose()
            with admin.begin() as conn:
                conn.execute(sqlalchemy.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()

        return PostgresBackend(engine=engine), drop_schema
    if kind == "meili":
        meili = MeiliBackend(
            url=os.environ["HOMEWARD_TEST_MEILI_URL"],
            api_key=os.environ.get("HOMEWARD_TEST_MEILI_KEY", ""),
            index_prefix=f"bench_{uuid.uuid4().hex[:10]}_",
            embedding_dimensions=dimensions,
        )
        return meili, meili.drop
    fts = Fts5Backend(path=":memory:")
    return fts, fts.close


def build_backend(
    docs: Sequence[dict[str, Any]], vectors: Any, kind: str = "fts5"
) -> tuple[SearchBackend, Callable[[], None]]:
    """Indexes the profiles, each with its vector (None: lexical only), in a fresh backend."""
    return _build(docs, vectors, kind, EXPERTS_STAFF, "embedding", expert_documents)


def _build(
    docs: Sequence[dict[str, Any]],
    vectors: Any,
    kind: str,
    index: str,
    vector_field: str,
    documents: Callable[[dict[str, Any]], dict[str, Any]],
) -> tuple[SearchBackend, Callable[[], None]]:
    """Indexes records as `documents` maps them into `index`, each with its vector under
    `vector_field` (None: lexical only), in a fresh backend of the given kind."""
    backend, done = make_backend(kind, None if vectors is None else int(vectors.shape[1]))
    batch = []
    for i, doc in enumerate(docs):
        record = dict(doc)
        if vectors is not None:
            record[vector_field] = [float(x) for x in vectors[i]]
        mapped = documents(record)[index]
        assert mapped is not None
        batch.append(mapped)
    for start in range(0, len(batch), 500):
        backend.upsert(index, batch[start : start + 500])
    return backend, done


def run(
    backend: SearchBackend,
    ids: Sequence[str],
    texts: Sequence[str],
    profile_of: dict[int, str],
    vectors: Any = None,
    ratio: float = 0.5,
    embed: Any = None,
    index: str = EXPERTS_STAFF,
) -> dict[str, list[str]]:
    """Searches each text and lists the first ten profiles found; a corrected typo is searched
    again with the corrected words' vector, as the service does (service/core/search.py)."""
    out: dict[str, list[str]] = {}
    for row, (need_id, text) in enumerate(zip(ids, texts, strict=True)):
        vector = [float(x) for x in vectors[row]] if vectors is not None else None
        page = backend.search(
            index,
            SearchQuery(
                text=text, per_page=10, highlight=False, vector=vector, semantic_ratio=ratio
            ),
        )
        if page.suggestion and vector is not None and embed is not None:
            corrected = SearchQuery(
                text=page.suggestion,
                per_page=10,
                highlight=False,
                vector=[float(x) for x in embed([page.suggestion])[0]],
                semantic_ratio=ratio,
            )
            page = backend.search(index, corrected)
        out[need_id] = [profile_of[hit.id] for hit in page.hits]
    return out


def figures(run_: dict[str, list[str]], qrels: Qrels) -> dict[str, float]:
    """Gets nDCG@10 and Recall@10 of a run."""
    scores = evaluate(run_, qrels)
    return {"ndcg@10": round(scores.ndcg10, 4), "recall@10": round(scores.recall10, 4)}


def query_cost(encoder: Encoder, titles: Sequence[str]) -> dict[str, float]:
    """Times embedding one title at a time (median and p95 over the titles, in ms)."""
    encoder.encode_queries(titles[:3])  # warm up
    times = []
    for title in titles:
        started = time.perf_counter()
        encoder.encode_queries([title])
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "query_ms_p50": round(statistics.median(times), 2),
        "query_ms_p95": round(times[int(0.95 * (len(times) - 1))], 2),
    }


NEED_LANGS = ("en", "fr", "es")


def need_tracks(
    bench_dir: Path,
) -> dict[str, tuple[list[dict[str, Any]], dict[int, str], list[str], list[str], Qrels]]:
    """Gets each needs track: the need documents, need ids by document id, the query ids
    (profiles), their headlines and the qrels inverted (profile -> need -> grade)."""
    headline = {
        str(r["profile_id"]): str(r["headline"]) for r in read_jsonl(bench_dir / "profiles.jsonl")
    }
    out = {}
    for lang in NEED_LANGS:
        rows, qrels = load_track(bench_dir, f"desc_{lang}")
        docs = [
            {
                "id": i + 1,
                "title": str(r["title"]),
                "description": str(r["text"]),
                "skills": [],
                "status": "open",
                "languages": [lang],
            }
            for i, r in enumerate(rows)
        ]
        need_of = {i + 1: str(r["need_id"]) for i, r in enumerate(rows)}
        inverted: Qrels = {}
        for need_id, graded in qrels.items():
            for profile_id, grade in graded.items():
                inverted.setdefault(profile_id, {})[need_id] = grade
        asked = sorted(p for p, graded in inverted.items() if max(graded.values()) >= 2)
        out[f"needs_{lang}"] = (docs, need_of, asked, [headline[p] for p in asked], inverted)
    return out


def build_needs(
    docs: Sequence[dict[str, Any]], vectors: Any, kind: str
) -> tuple[SearchBackend, Callable[[], None]]:
    """Indexes the needs, each with its vector (None: lexical only), in a fresh backend."""
    return _build(docs, vectors, kind, NEEDS, "need_embedding", need_documents)


def search_needs(
    backend: SearchBackend,
    ids: Sequence[str],
    texts: Sequence[str],
    need_of: dict[int, str],
    vectors: Any = None,
    ratio: float = 0.5,
) -> dict[str, list[str]]:
    """Searches the needs index with each text and lists the first ten needs found."""
    out: dict[str, list[str]] = {}
    for row, (query_id, text) in enumerate(zip(ids, texts, strict=True)):
        vector = [float(x) for x in vectors[row]] if vectors is not None else None
        page = backend.search(
            NEEDS,
            SearchQuery(
                text=text, per_page=10, highlight=False, vector=vector, semantic_ratio=ratio
            ),
        )
        out[query_id] = [need_of[hit.id] for hit in page.hits]
    return out


def needs_quality(
    args: argparse.Namespace, log: Callable[[str], None]
) -> dict[str, dict[str, dict[str, float]]]:
    """Scores lexical and hybrid needs search on each needs track."""
    tracks = need_tracks(args.bench_dir)
    quality: dict[str, dict[str, dict[str, float]]] = {track: {} for track in tracks}
    for track, (docs, need_of, ids, texts, qrels) in tracks.items():
        backend, done = build_needs(docs, None, args.backend)
        quality[track]["lexical"] = figures(search_needs(backend, ids, texts, need_of), qrels)
        done()
    for name in args.models:
        encoder = load_encoder(name, threads=1)
        documents, queries = EmbeddingCache(encoder, "document"), EmbeddingCache(encoder, "query")
        for track, (docs, need_of, ids, texts, qrels) in tracks.items():
            log(f"{name}: {track} ...")
            matrix = documents.embed(
                [need_search_text(d["title"], [], d["description"]) for d in docs]
            )
            backend, done = build_needs(docs, matrix, args.backend)
            vectors = queries.embed(texts)
            for label, ratio in ((f"hybrid {name}", args.ratio), (f"dense {name}", 1.0)):
                found = search_needs(backend, ids, texts, need_of, vectors, ratio)
                quality[track][label] = figures(found, qrels)
            done()
    return quality


def needs_floor_sweep(
    args: argparse.Namespace, log: Callable[[str], None]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per model and floor: hybrid figures of each needs track on each half (the queries, i.e.
    the experts, split by a hash of their profile id), and the share of nonsense queries that
    find no need in each track's index."""
    tracks = need_tracks(args.bench_dir)
    junk = nonsense(args.seed)
    swept: dict[str, dict[str, dict[str, Any]]] = {}
    for name in args.models:
        encoder = load_encoder(name, threads=1)
        documents, cache = EmbeddingCache(encoder, "document"), EmbeddingCache(encoder, "query")
        rows: dict[str, dict[str, Any]] = {str(floor): {} for floor in args.floors}
        for track, (docs, need_of, ids, texts, qrels) in tracks.items():
            log(f"{name}: {track} ...")
            matrix = documents.embed(
                [need_search_text(d["title"], [], d["description"]) for d in docs]
            )
            backend, done = build_needs(docs, matrix, args.backend)
            vectors = cache.embed(texts)
            for floor in args.floors:
                set_floor(floor, NEEDS)
                row = rows[str(floor)]
                found = search_needs(backend, ids, texts, need_of, vectors, args.ratio)
                for half, keep in (("tune", True), ("held", False)):
                    judged = {q: g for q, g in qrels.items() if tuning_half(q) == keep}
                    row[f"{track} {half}"] = figures(found, judged)
                for kind, words in junk.items():
                    row[f"{track} nonsense {kind}"] = empty_share(
                        backend, words, cache.embed, NEEDS
                    )
                log(f"floor {floor}, {track}: { {k: v for k, v in row.items() if track in k} }")
            done()
        swept[name] = rows
    return swept


# Short real queries, typed as people type them: a sanity check of the plausibility rule, never
# used to choose it (then the gibberish of the user walk that found the problem).
HAND_REAL = (
    "épidémiologie",
    "علم الأوبئة",
    "hydrogéologie",
    "biostatistique",
    "santé publique",
    "sage-femme",
    "ophtalmologie",
    "télémédecine",
    "géomatique",
    "mécanique des sols",
    "ingénieure agronome",
    "الصحة العامة",
    "طبيب أطفال",
    "المياه الجوفية",
    "hidrogeología",
    "bioestatística",
    "PCR",
    "SIG",
    "IoT",
    "WASH",
    "M&E",
    "SPSS",
    "QGIS",
    "ArcGIS",
    "DHIS2",
    "UNICEF",
    "USAID",
    "COVID-19",
    "KoboToolbox",
    "Ndeye Fatou",
    "Mbaye",
    "Serigne Diallo",
    "Ziguinchor",
    "pédiatre",
    "تفتيش الجسور",
    "تفتيش",
    "محاسبة",
    "هندسة",
    "ممرضة",
    "Epidemiologe",
    "Hebamme",
)
HAND_GIBBERISH = ("xqzzkw", "asdfghjkl qwerty", "a" * 300)
# Share of the real words of the tuning half the chosen score may reject.
WORDS_REJECTED = 0.005


def set_plausible_score(score: float) -> None:
    """Sets the score a search text must reach to be searched by meaning (as if the constant
    were this; -inf: every text is)."""
    plausibility.PLAUSIBLE_SCORE = score  # read by `plausibility.plausible` at each search


def score_summary(scores: Sequence[float], chosen: float) -> dict[str, float]:
    """Count, lowest, 1st and 5th percentiles, median and highest of scores, and how many the
    chosen score rejects."""
    ordered = sorted(scores)
    n = len(ordered)

    def at(share: float) -> float:
        return round(ordered[min(n - 1, int(share * n))], 3)

    return {
        "n": n,
        "min": round(ordered[0], 3),
        "p1": at(0.01),
        "p5": at(0.05),
        "median": at(0.5),
        "max": round(ordered[-1], 3),
        "rejected": sum(1 for x in ordered if x < chosen),
    }


def need_words(bench_dir: Path) -> list[tuple[str, str]]:
    """Every word of more than 4 letters in the needs' titles and descriptions (English, French,
    Spanish), once per need, keyed by the need's id: real one-word queries, rare words
    included."""
    out: list[tuple[str, str]] = []
    for track in TRACKS:
        rows, _ = load_track(bench_dir, track)
        for row in rows:
            found = re.findall(r"\w+", f"{row['title']} {row['text']}")
            words = {w for w in found if len(w) > plausibility.SHORT_WORD and not w.isdigit()}
            out += [(str(row["need_id"]), word) for word in sorted(words)]
    return out


def plausibility_scores(args: argparse.Namespace) -> dict[str, Any]:
    """Scores every real query on each half and the nonsense, chooses the plausible score on
    the tuning halves, and says what it rejects."""
    real = {
        track: list(zip(ids, titles, strict=True))
        for track, (ids, titles, _) in queries(args.bench_dir, args.seed).items()
    }
    _, _, asked, headlines, _ = need_tracks(args.bench_dir)["needs_en"]
    real["headlines"] = list(zip(asked, headlines, strict=True))
    real["need words"] = need_words(args.bench_dir)
    score = plausibility.text_score
    halves = {
        (track, half): sorted(
            score(text) for key, text in pairs if tuning_half(key) == (half == "tune")
        )
        for track, pairs in real.items()
        for half in ("tune", "held")
    }
    # No real tuning query rejected, and at most 0.5 % of the tuning words (rare words such as
    # "revêt" or "égoûts" score as low as random letters).
    words = halves[("need words", "tune")]
    lowest = min(
        min(
            min(v)
            for (track, half), v in halves.items()
            if half == "tune" and track != "need words"
        ),
        words[int(WORDS_REJECTED * len(words))],
    )
    chosen = math.floor(lowest * 100) / 100
    worst = sorted((score(text), text) for pairs in real.values() for _, text in pairs)[:8]
    junk = nonsense(args.seed)
    return {
        "chosen": chosen,
        "real": {
            f"{track} {half}": score_summary(v, chosen) for (track, half), v in halves.items()
        },
        "lowest real": [(round(x, 3), text) for x, text in worst],
        "nonsense": {
            kind: score_summary([score(t) for t in texts], chosen) for kind, texts in junk.items()
        },
        "hand real": {text: round(score(text), 3) for text in HAND_REAL},
        "hand gibberish": {text[:20]: round(score(text), 3) for text in HAND_GIBBERISH},
    }


def plausibility_quality(
    args: argparse.Namespace, chosen: float, log: Callable[[str], None]
) -> dict[str, dict[str, float]]:
    """e5's hybrid nDCG@10 of each track, with the plausibility rule off and at `chosen`."""
    encoder = load_encoder("e5", threads=1)
    documents, cache = EmbeddingCache(encoder, "document"), EmbeddingCache(encoder, "query")
    out: dict[str, dict[str, float]] = {}
    profiles = [expert_from_row(r) for r in read_jsonl(args.bench_dir / "profiles.jsonl")]
    docs = [
        {
            "id": i + 1,
            "display_name": "",
            "headline": e.headline,
            "skills": e.skills,
            "bio": e.bio,
            "visibility": "institutions",
            "active": True,
        }
        for i, e in enumerate(profiles)
    ]
    profile_of = {i + 1: e.expert_id for i, e in enumerate(profiles)}
    for track, (needs, need_of, asked, texts, qrels) in need_tracks(args.bench_dir).items():
        log(f"plausibility: {track} ...")
        matrix = documents.embed(
            [need_search_text(d["title"], [], d["description"]) for d in needs]
        )
        backend, done = build_needs(needs, matrix, args.backend)
        vectors = cache.embed(texts)
        for label, score in (("off", -math.inf), ("on", chosen)):
            set_plausible_score(score)
            found = search_needs(backend, asked, texts, need_of, vectors, args.ratio)
            out.setdefault(track, {})[label] = figures(found, qrels)["ndcg@10"]
        log(f"{track}: {out[track]}")
        done()
    if args.public:
        matrix = documents.embed([profile_public_text(e) for e in profiles])
        index, field = EXPERTS_PUBLIC, "public_embedding"
    else:
        matrix = documents.embed([profile_document_text(e) for e in profiles])
        index, field = EXPERTS_STAFF, "embedding"
    log(f"plausibility: {index} ...")
    backend, done = _build(docs, matrix, args.backend, index, field, expert_documents)
    for track, (ids, titles, qrels) in queries(args.bench_dir, args.seed).items():
        vectors = cache.embed(titles)
        for label, score in (("off", -math.inf), ("on", chosen)):
            set_plausible_score(score)
            found = run(backend, ids, titles, profile_of, vectors, args.ratio, cache.embed, index)
            out.setdefault(f"{track} ({index})", {})[label] = figures(found, qrels)["ndcg@10"]
        log(f"{track}: {out[f'{track} ({index})']}")
    done()
    return out


def print_plausibility(report: dict[str, Any]) -> None:
    """Prints the scores of the real and nonsense queries, the hand list, then nDCG@10."""
    print(f"plausible score chosen on the tuning halves: {report['chosen']}")
    print(f"{'queries':<22} {'n':>4} {'min':>7} {'p1':>7} {'p5':>7} {'median':>7} {'rejected':>9}")
    for group in ("real", "nonsense"):
        for name, row in report[group].items():
            share = f" ({row['rejected'] / row['n']:.0%})" if group == "nonsense" else ""
            print(
                f"{name:<22} {row['n']:>4} {row['min']:>7} {row['p1']:>7} {row['p5']:>7} "
                f"{row['median']:>7} {row['rejected']:>9}{share}"
            )
    print("lowest real:", report["lowest real"])
    for group in ("hand real", "hand gibberish"):
        rejected = [t for t, x in report[group].items() if x < report["chosen"]]
        print(f"{group}: {report[group]}")
        print(f"  rejected: {rejected}")
    print(f"{'track':<26} {'nDCG@10 off':>12} {'on':>7}")
    for track, row in report.get("ndcg", {}).items():
        print(f"{track:<26} {row['off']:>12.4f} {row['on']:>7.4f}")


def main() -> None:
    """Runs the benchmark and prints a table (or one JSON object)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--ratio", type=float, default=0.5, help="semantic ratio of hybrid")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--timed", type=int, default=100, help="titles timed per model")
    parser.add_argument("--bench-dir", type=Path, default=BENCH_DIR)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--backend", choices=BACKENDS, default="fts5")
    parser.add_argument("--needs", action="store_true", help="score the needs search instead")
    parser.add_argument(
        "--floors", type=float, nargs="*", default=None, help="sweep the floor under meaning"
    )
    parser.add_argument(
        "--public", action="store_true", help="with --floors: the institutions' index"
    )
    parser.add_argument(
        "--plausibility", action="store_true", help="score the rule that stops gibberish"
    )
    args = parser.parse_args()

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if args.plausibility:
        report = plausibility_scores(args)
        report["ndcg"] = plausibility_quality(args, report["chosen"], log)
        if args.json:
            print(json.dumps({"backend": args.backend, **report}, indent=2, ensure_ascii=False))
            return
        print(f"backend: {args.backend}, load average: {os.getloadavg()}")
        print_plausibility(report)
        return

    if args.floors is not None:
        # A floor is chosen on its own: the plausibility rule (--plausibility) is off meanwhile.
        set_plausible_score(float("-inf"))
    if args.needs and args.floors is not None:
        needs_swept = needs_floor_sweep(args, log)
        if args.json:
            print(
                json.dumps(
                    {"backend": args.backend, "index": NEEDS, "floors": needs_swept}, indent=2
                )
            )
            return
        for name, rows in needs_swept.items():
            print(f"{name}, {NEEDS}, backend {args.backend}, load average: {os.getloadavg()}")
            print_sweep(rows)
        return
    if args.needs:
        scored = needs_quality(args, log)
        if args.json:
            print(json.dumps({"backend": args.backend, "quality": scored}, indent=2))
            return
        print(f"needs search, backend: {args.backend}, load average: {os.getloadavg()}")
        print_tables(scored, {})
        return

    profiles = read_jsonl(args.bench_dir / "profiles.jsonl")
    experts = [expert_from_row(r) for r in profiles]
    texts = [profile_document_text(e) for e in experts]
    docs = [
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
    profile_of = {i + 1: e.expert_id for i, e in enumerate(experts)}
    tracks = queries(args.bench_dir, args.seed)
    quality: dict[str, dict[str, dict[str, float]]] = {track: {} for track in tracks}
    cost: dict[str, dict[str, float]] = {}

    lexical, done = build_backend(docs, None, args.backend)
    for track, (ids, titles, qrels) in tracks.items():
        quality[track]["lexical"] = figures(run(lexical, ids, titles, profile_of), qrels)
    done()

    if args.floors is not None:
        swept: dict[str, Any] = {}
        index = EXPERTS_PUBLIC if args.public else EXPERTS_STAFF
        for name in args.models:
            encoder = load_encoder(name, threads=1)
            if args.public:
                public = [profile_public_text(e) for e in experts]
                matrix = EmbeddingCache(encoder, "document").embed(public)
                backend, done = _build(
                    docs, matrix, args.backend, index, "public_embedding", expert_documents
                )
            else:
                matrix = EmbeddingCache(encoder, "document").embed(texts)
                backend, done = build_backend(docs, matrix, args.backend)
            cache = EmbeddingCache(encoder, "query")
            swept[name] = floor_sweep(
                backend, tracks, profile_of, cache, args.floors, args, log, index
            )
            done()
        if args.json:
            print(json.dumps({"backend": args.backend, "index": index, "floors": swept}, indent=2))
            return
        for name, rows in swept.items():
            print(f"{name}, {index}, backend {args.backend}, load average: {os.getloadavg()}")
            print_sweep(rows)
        return

    for name in args.models:
        before = rss_mb()
        started = time.perf_counter()
        encoder = load_encoder(name, threads=1)
        load_s = time.perf_counter() - started
        memory = rss_mb() - before
        log(f"{name}: loaded in {load_s:.1f}s, +{memory:.0f} MB; embedding profiles ...")
        matrix = EmbeddingCache(encoder, "document").embed(texts)
        backend, done = build_backend(docs, matrix, args.backend)
        cache = EmbeddingCache(encoder, "query")
        for track, (ids, titles, qrels) in tracks.items():
            vectors = cache.embed(titles)
            for label, ratio in ((f"hybrid {name}", args.ratio), (f"dense {name}", 1.0)):
                found = run(backend, ids, titles, profile_of, vectors, ratio, cache.embed)
                quality[track][label] = figures(found, qrels)
        done()
        english = tracks["desc_en"][1][: args.timed]
        timed = query_cost(encoder, english)
        cost[name] = {
            "dim": encoder.dim,
            "load_s": round(load_s, 1),
            # Resident memory the model adds once it has answered queries (models load lazily).
            "memory_mb": round(max(memory, rss_mb() - before)),
            **timed,
        }
        log(f"{name}: {cost[name]}")

    best = best_model(quality, args.models)
    result = {
        "backend": args.backend,
        "quality": quality,
        "models": cost,
        "ratio": args.ratio,
        "best": best,
        "loadavg": os.getloadavg(),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"backend: {args.backend}, load average: {os.getloadavg()}")
    print_tables(quality, cost)


def best_model(quality: dict[str, dict[str, dict[str, float]]], models: Sequence[str]) -> str:
    """Names the model whose hybrid has the best mean nDCG@10 over French and Spanish."""

    def cross(name: str) -> float:
        return sum(quality[t][f"hybrid {name}"]["ndcg@10"] for t in ("desc_fr", "desc_es")) / 2

    return max(models, key=cross) if models else ""


def print_tables(
    quality: dict[str, dict[str, dict[str, float]]], cost: dict[str, dict[str, float]]
) -> None:
    """Prints the quality table, then the cost of each query model."""
    clean = {k: v["recall@10"] for k, v in quality.get("desc_en", {}).items()}
    print(f"{'track':<8} {'method':<14} {'nDCG@10':>8} {'R@10':>6}")
    for track, methods in quality.items():
        for method, m in methods.items():
            share = ""
            if track == TYPO_TRACK and clean.get(method):
                share = f"  ({m['recall@10'] / clean[method]:.1%} of clean R@10)"
            print(f"{track:<8} {method:<14} {m['ndcg@10']:8.3f} {m['recall@10']:6.3f}{share}")
    if not cost:
        return
    print()
    print(
        f"{'model':<8} {'dim':>5} {'load s':>7} {'+RSS MB':>8} {'query p50 ms':>13} {'p95 ms':>7}"
    )
    for name, c in cost.items():
        print(
            f"{name:<8} {int(c['dim']):>5} {c['load_s']:>7} {int(c['memory_mb']):>8} "
            f"{c['query_ms_p50']:>13} {c['query_ms_p95']:>7}"
        )


if __name__ == "__main__":
    main()
