"""One contract, every backend: FTS5 always, PostgreSQL and Meilisearch when configured."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from service.search import query as q
from service.search.base import (
    InvalidFacet,
    InvalidFilter,
    InvalidSort,
    Range,
    SearchBackend,
    SearchQuery,
    UnknownIndex,
)
from service.search.documents import (
    EXPERTS_PUBLIC,
    EXPERTS_STAFF,
    NEEDS,
    expert_documents,
    need_documents,
)
from service.search.outbox import reindex
from service.search.semantic import DENSE_DEPTH, DENSE_FLOOR, NEEDS_FLOOR
from tests.search.factories import expert, need

TODAY = date(2025, 3, 10)
# Backend-specific expectations, stated once.
TYPO_TOLERANT = {"meilisearch", "fts5", "postgres"}
HYBRID = {"meilisearch", "fts5", "postgres"}


def load(
    backend: SearchBackend,
    experts: Iterable[dict[str, Any]] = (),
    needs: Iterable[dict[str, Any]] = (),
) -> None:
    """Indexes raw records through the privacy mapping, as the outbox would (one batch each)."""
    upserts: dict[str, list[dict[str, Any]]] = {}
    deletes: dict[str, list[int]] = {}
    mapped = [expert_documents(r) for r in experts] + [need_documents(r) for r in needs]
    records = [*experts, *needs]
    for record, documents in zip(records, mapped, strict=True):
        for index, doc in documents.items():
            if doc is None:
                deletes.setdefault(index, []).append(record["id"])
            else:
                upserts.setdefault(index, []).append(doc)
    for index, docs in upserts.items():
        backend.upsert(index, docs)
    for index, doc_ids in deletes.items():
        backend.delete(index, doc_ids)


def ids(backend: SearchBackend, index: str, **query: Any) -> list[int]:
    """Runs a search and lists the ids of the first page."""
    query.setdefault("today", TODAY)
    return [hit.id for hit in backend.search(index, SearchQuery(**query)).hits]


ROSTER = [
    expert(
        1,
        display_name="Awa Diop",
        headline="Épidémiologiste, santé publique",
        bio="Enseigne l'épidémiologie et la biostatistique à Lyon.",
        skills=["épidémiologie", "biostatistique"],
        languages=["fr", "wo"],
        origin_country="SN",
        residence_country="FR",
        sectors=["health"],
        modes=["remote", "mission"],
        available_from="2025-01-01",
        hours_per_month=20,
    ),
    expert(
        2,
        display_name="John Mensah",
        headline="Machine learning engineer",
        bio="Builds ML models; once helped an epidemiology team with data pipelines.",
        skills=["machine learning", "python"],
        languages=["en"],
        origin_country="GH",
        residence_country="US",
        sectors=["technology"],
        modes=["remote"],
        available_from="2025-06-01",
        available_until="2025-08-31",
        hours_per_month=5,
    ),
    expert(
        3,
        display_name="Fatima Benali",
        headline="Cardiologue",
        bio="Cardiologie interventionnelle, formation des internes.",
        skills=["cardiologie"],
        languages=["ar", "fr"],
        origin_country="MA",
        residence_country="CA",
        sectors=["health"],
        modes=["mission"],
        available_from="2025-04-15",
        available_until="2025-05-15",
        hours_per_month=40,
        visibility="coordinators",
    ),
    expert(
        4,
        display_name="Pedro Alves",
        headline="Professor of epidemiology",
        bio="Epidemiology, field surveys and outbreak response.",
        skills=["epidemiology", "outbreak response"],
        languages=["pt", "en"],
        origin_country="CV",
        residence_country="PT",
        sectors=["health", "education"],
        modes=["hybrid"],
        hours_per_month=15,
        active=False,
    ),
]


def test_keyword_search_ranks_by_relevance(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    # Awa and Pedro carry the word in their skills and headline; John only mentions it in passing.
    found = ids(backend, EXPERTS_STAFF, text="epidemiology")
    assert set(found) == {1, 2, 4}
    assert found[-1] == 2


def test_prefix_matches_the_start_of_a_word(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    assert ids(backend, EXPERTS_STAFF, text="cardio") == [3]
    assert ids(backend, EXPERTS_STAFF, text="biostat") == [1]


def test_diacritics_are_folded_both_ways(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    assert 1 in ids(backend, EXPERTS_STAFF, text="epidemiologie")
    assert 4 in ids(backend, EXPERTS_STAFF, text="ÉPIDÉMIOLOGY")


def test_typo_tolerance_depends_on_the_backend(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    found = ids(backend, EXPERTS_STAFF, text="cardiolgie")
    if backend.name in TYPO_TOLERANT:
        assert found == [3]
    else:
        assert found == []  # PostgreSQL does exact (prefix) matching only


def test_skill_synonyms_match(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    assert ids(backend, EXPERTS_STAFF, text="ml") == [2]


def test_all_query_words_must_match(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    assert ids(backend, EXPERTS_STAFF, text="epidemiology outbreak") == [4]


def test_filters_on_keywords_numbers_and_booleans(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    assert sorted(ids(backend, EXPERTS_STAFF, filters={"languages": ["wo", "pt"]})) == [1, 4]
    assert ids(backend, EXPERTS_STAFF, filters={"origin_country": "gh"}) == [2]
    assert sorted(ids(backend, EXPERTS_STAFF, filters={"sectors": "health", "active": True})) == [
        1,
        3,
    ]
    assert sorted(
        ids(backend, EXPERTS_STAFF, filters={"hours_per_month": Range(gte=15, lte=20)})
    ) == [1, 4]
    assert ids(backend, EXPERTS_STAFF, text="epidemiology", filters={"modes": "hybrid"}) == [4]


def test_availability_filters(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    # Open windows (no dates) count as available; Fatima is away until mid-April.
    assert sorted(ids(backend, EXPERTS_STAFF, filters={"availability": "now"})) == [1, 4]
    assert sorted(ids(backend, EXPERTS_STAFF, filters={"availability": "2025-05"})) == [1, 3, 4]
    assert sorted(ids(backend, EXPERTS_STAFF, filters={"availability": date(2025, 9, 1)})) == [
        1,
        4,
    ]


def test_facet_counts(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    page = backend.search(
        EXPERTS_STAFF,
        SearchQuery(
            facets=["languages", "sectors", "origin_country", "modes", "availability"],
            today=TODAY,
        ),
    )
    counts = {name: {f.value: f.count for f in values} for name, values in page.facets.items()}
    assert counts["languages"] == {"fr": 2, "en": 2, "wo": 1, "ar": 1, "pt": 1}
    assert counts["sectors"] == {"health": 3, "technology": 1, "education": 1}
    assert counts["origin_country"] == {"SN": 1, "GH": 1, "MA": 1, "CV": 1}
    assert counts["modes"] == {"remote": 2, "mission": 2, "hybrid": 1}
    assert counts["availability"] == {
        "now": 2,
        "2025-03": 2,
        "2025-04": 3,
        "2025-05": 3,
        "2025-06": 3,
        "2025-07": 3,
        "2025-08": 3,
    }
    assert [f.count for f in page.facets["sectors"]][0] == 3  # most frequent first


def test_facets_count_only_the_matches(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    page = backend.search(
        EXPERTS_STAFF,
        SearchQuery(text="epidemiology", filters={"active": True}, facets=["origin_country"]),
    )
    assert page.total == 2
    assert {f.value: f.count for f in page.facets["origin_country"]} == {"SN": 1, "GH": 1}


def test_pagination(backend: SearchBackend) -> None:
    load(backend, [expert(i, skills=["surgery"]) for i in range(1, 24)])
    pages = [
        backend.search(EXPERTS_STAFF, SearchQuery(text="surgery", page=n, per_page=10))
        for n in (1, 2, 3, 4)
    ]
    assert [p.total for p in pages] == [23] * 4
    assert pages[0].pages == 3
    assert [len(p.hits) for p in pages] == [10, 10, 3, 0]
    seen = [hit.id for p in pages for hit in p.hits]
    assert sorted(seen) == list(range(1, 24))


def test_sort(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    assert ids(backend, EXPERTS_STAFF, sort=["-hours_per_month"]) == [3, 1, 4, 2]
    assert ids(backend, EXPERTS_STAFF, sort=["hours_per_month:asc"]) == [2, 4, 1, 3]


def test_highlights_mark_matches_and_escape_html(backend: SearchBackend) -> None:
    load(
        backend,
        [expert(1, headline="Epidemiology <script>alert(1)</script>", bio="Teaches epidemiology.")],
    )
    hit = backend.search(EXPERTS_STAFF, SearchQuery(text="epidemiology")).hits[0]
    assert "<mark>Epidemiology</mark>" in hit.highlights["headline"]
    assert "&lt;script&gt;" in hit.highlights["headline"]
    assert "<script>" not in hit.highlights["headline"]
    assert "<mark>epidemiology</mark>" in hit.highlights["bio"]
    assert hit.document["headline"] == "Epidemiology <script>alert(1)</script>"


def test_highlights_stay_right_search_after_search(backend: SearchBackend) -> None:
    """The marks of one search never leak into the next (the embedded backend empties a
    scratch index between them), and the same page searched again is marked the same."""
    load(
        backend,
        [
            expert(1, headline="Épidémiologie de terrain", bio="Surveillance des épidémies."),
            expert(2, headline="Water engineering", bio="Irrigation and epidemiology."),
        ],
    )
    first = backend.search(EXPERTS_STAFF, SearchQuery(text="épidémiologie"))
    other = backend.search(EXPERTS_STAFF, SearchQuery(text="irrigation"))
    again = backend.search(EXPERTS_STAFF, SearchQuery(text="épidémiologie"))
    assert [h.highlights for h in again.hits] == [h.highlights for h in first.hits]
    assert "<mark>Épidémiologie</mark>" in first.hits[0].highlights["headline"]
    assert [h.id for h in other.hits] == [2]
    assert "<mark>Irrigation</mark>" in other.hits[0].highlights["bio"]
    assert "headline" not in other.hits[0].highlights


def test_public_index_never_holds_contact_details(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    assert ids(backend, EXPERTS_STAFF, text="expert1 example") == [1]
    assert ids(backend, EXPERTS_PUBLIC, text="expert1 example") == []
    page = backend.search(EXPERTS_PUBLIC, SearchQuery(per_page=100))
    for hit in page.hits:
        assert "email" not in hit.document and "phone" not in hit.document
    # Coordinators-only (3) and inactive (4) experts are absent from the public index.
    assert sorted(hit.id for hit in page.hits) == [1, 2]


def test_an_expert_who_hides_leaves_the_public_index(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    load(backend, [{**ROSTER[0], "visibility": "coordinators"}])
    assert ids(backend, EXPERTS_PUBLIC, text="awa") == []
    assert ids(backend, EXPERTS_STAFF, text="awa") == [1]


def test_upsert_replaces_and_delete_removes(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    load(backend, [{**ROSTER[1], "skills": ["geology"], "languages": ["fr"]}])
    assert ids(backend, EXPERTS_STAFF, text="geology") == [2]
    assert 2 in ids(backend, EXPERTS_STAFF, filters={"languages": "fr"})
    assert 2 not in ids(backend, EXPERTS_STAFF, filters={"languages": "en"})
    backend.delete(EXPERTS_STAFF, [2, 999])
    assert ids(backend, EXPERTS_STAFF, text="geology") == []
    assert backend.all_ids(EXPERTS_STAFF) == {1, 3, 4}


def test_needs_index_holds_open_needs(backend: SearchBackend) -> None:
    load(
        backend,
        needs=[
            need(1, title="Co-teach epidemiology", skills=["épidémiologie"]),
            need(2, title="Epidemiology survey", status="closed"),
            need(3, title="Hospital IT", sector="technology", mode="mission"),
        ],
    )
    assert ids(backend, NEEDS, text="epidemiologie") == [1]
    page = backend.search(NEEDS, SearchQuery(facets=["sector", "mode"]))
    assert page.total == 2
    assert {f.value: f.count for f in page.facets["mode"]} == {"remote": 1, "mission": 1}


def test_lexical_scores_use_any_term_and_rank_best_first(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    description = (
        "Notre faculté de médecine cherche un expert pour co-enseigner un module "
        "d'épidémiologie (epidemiology) à distance, avec des notions de biostatistique "
        "et de réponse aux épidémies. " * 20
    )
    scores = backend.lexical_scores(EXPERTS_STAFF, description, limit=10)
    ranked = [doc_id for doc_id, _ in scores]
    assert ranked[0] == 1  # matches two distinct terms
    assert set(ranked) >= {1, 2, 4}
    values = [score for _, score in scores]
    assert values == sorted(values, reverse=True) and all(v > 0 for v in values)
    assert backend.lexical_scores(EXPERTS_STAFF, description, limit=1) == scores[:1]


BAD_QUERIES = [
    '"',
    '"unbalanced',
    "epidemiology NEAR(python, 3)",
    "a* OR b* AND NOT c",
    "-epidemiology",
    "skills:python",
    "((( epidemiology",
    "epidemiology )))",
    "^epi $ {x} [y] | & ! ~ @ # % \\",
    "' OR 1=1 --",
    "x" * 10_000,
    "épidémiologie " * 800,
    "طبيب أمراض القلب",
    "🩺🧬 epidemiology 🦠",
    "\x00\ue000\ue001",
    "",
    "   ",
]


@pytest.mark.parametrize("text", BAD_QUERIES, ids=range(len(BAD_QUERIES)))
def test_bad_queries_never_raise(backend: SearchBackend, text: str) -> None:
    load(backend, ROSTER)
    page = backend.search(EXPERTS_STAFF, SearchQuery(text=text, facets=["languages"]))
    assert page.total >= 0
    assert isinstance(backend.lexical_scores(EXPERTS_STAFF, text), list)


def test_arabic_text_is_searchable(backend: SearchBackend) -> None:
    load(backend, [expert(1, bio="طبيب أمراض القلب في الرباط")])
    assert ids(backend, EXPERTS_STAFF, text="القلب") == [1]


def test_unknown_filter_field_raises_invalid_filter(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    with pytest.raises(InvalidFilter) as info:
        backend.search(EXPERTS_STAFF, SearchQuery(filters={"salary": "high"}))
    assert info.value.field == "salary"
    with pytest.raises(InvalidFilter) as info:
        backend.search(EXPERTS_PUBLIC, SearchQuery(filters={"email": "x@example.org"}))
    assert info.value.field == "email"


@pytest.mark.parametrize(
    "filters",
    [
        {"hours_per_month": "many"},
        {"active": "yes"},
        {"availability": "next week"},
        {"languages": 3},
    ],
)
def test_malformed_filter_values_raise_invalid_filter(
    backend: SearchBackend, filters: dict[str, Any]
) -> None:
    with pytest.raises(InvalidFilter) as info:
        backend.search(EXPERTS_STAFF, SearchQuery(filters=filters))
    assert info.value.field == next(iter(filters))


def test_unknown_sort_facet_and_index_raise(backend: SearchBackend) -> None:
    with pytest.raises(InvalidSort):
        backend.search(EXPERTS_STAFF, SearchQuery(sort=["email"]))
    with pytest.raises(InvalidFacet):
        backend.search(EXPERTS_STAFF, SearchQuery(facets=["bio"]))
    with pytest.raises(UnknownIndex):
        backend.search("users", SearchQuery())


@pytest.mark.parametrize(
    "filters",
    [
        {"languages": "xx"},
        {"origin_country": ['ZZ" OR id > 0', "\\"]},
        {"languages": []},
        {"hours_per_month": Range(gte=1000)},
    ],
)
def test_unknown_filter_values_give_empty_results(
    backend: SearchBackend, filters: dict[str, Any]
) -> None:
    load(backend, ROSTER)
    page = backend.search(EXPERTS_STAFF, SearchQuery(filters=filters, facets=["languages"]))
    assert page.total == 0 and page.hits == []


def test_reindex_rebuilds_and_drops_stale_documents(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    progress: list[tuple[str, int]] = []
    counts = reindex(
        backend=backend,
        experts=[ROSTER[0], {**ROSTER[1], "skills": ["geology"]}],
        progress=lambda index, n: progress.append((index, n)),
        batch_size=1,
    )
    assert counts == {EXPERTS_STAFF: 2, EXPERTS_PUBLIC: 2}
    assert backend.all_ids(EXPERTS_STAFF) == {1, 2}
    assert ids(backend, EXPERTS_STAFF, text="geology") == [2]
    assert progress


def test_hybrid_search_with_a_query_vector(backend: SearchBackend) -> None:
    if backend.name not in HYBRID:
        pytest.skip("semantic retrieval is the matcher's job on this backend")
    docs = [
        expert(1, embedding=[1.0, 0.0, 0.0]),
        expert(2, embedding=[0.0, 1.0, 0.0]),
        expert(3),  # no vector yet: still searchable by keywords
    ]
    load(backend, docs)
    page = backend.search(EXPERTS_STAFF, SearchQuery(vector=[0.1, 0.9, 0.0], semantic_ratio=1.0))
    assert page.hits[0].id == 2
    assert 3 in ids(backend, EXPERTS_STAFF, text="expert")


def _hybrid_only(backend: SearchBackend) -> None:
    if backend.name not in HYBRID:
        pytest.skip("semantic retrieval is the matcher's job on this backend")


def test_hybrid_keeps_keyword_matches_and_adds_neighbours_by_meaning(
    backend: SearchBackend,
) -> None:
    _hybrid_only(backend)
    docs = [
        expert(1, headline="Pédiatre", embedding=[0.0, 1.0, 0.0]),
        expert(2, headline="Pediatrician", embedding=[0.1, 0.99, 0.0]),
        expert(3, headline="Hydrologist", embedding=[1.0, 0.0, 0.0]),
    ]
    load(backend, docs)
    keywords = ids(backend, EXPERTS_STAFF, text="pediatrician")
    assert keywords == [2]
    page = backend.search(
        EXPERTS_STAFF, SearchQuery(text="pediatrician", vector=[0.0, 1.0, 0.0], today=TODAY)
    )
    found = [hit.id for hit in page.hits]
    assert set(found[:2]) == {1, 2}  # the French profile is found by meaning
    # The hydrologist shares neither words nor meaning (cosine 0, under semantic.DENSE_FLOOR).
    assert 3 not in found and page.total == 2


def test_semantic_neighbours_obey_the_filters(backend: SearchBackend) -> None:
    _hybrid_only(backend)
    docs = [
        expert(1, languages=["fr"], embedding=[0.0, 1.0, 0.0]),
        expert(2, languages=["en"], embedding=[0.0, 0.9, 0.1]),
        expert(3, languages=["en"], embedding=[1.0, 0.0, 0.0]),
    ]
    load(backend, docs)
    query = SearchQuery(
        text="anything", vector=[0.0, 1.0, 0.0], filters={"languages": "en"}, today=TODAY
    )
    found = [hit.id for hit in backend.search(EXPERTS_STAFF, query).hits]
    assert 1 not in found
    assert found[0] == 2


# 120 experts on an arc: the lower the id, the nearer the query vector [1, 0, 0]. Four are
# hydrologists: two among the nearest (5, 6), two far (100, 110).
HYDROLOGISTS = {5, 6, 100, 110}
ARC = [
    expert(
        i,
        headline="Hydrologist" if i in HYDROLOGISTS else "Accountant",
        languages=["fr"] if i % 3 == 0 else ["en"],
        modes=["mission"] if i % 2 else ["remote", "hybrid"],
        available_from="2025-06-01" if i % 4 == 0 else None,
        embedding=[math.cos(i / 100), math.sin(i / 100), 0.0],
    )
    for i in range(1, 121)
]


@pytest.mark.parametrize("filters", [{}, {"languages": "en"}], ids=["all", "english"])
def test_hybrid_total_and_facets_count_keyword_matches_and_neighbours_once(
    backend: SearchBackend, filters: dict[str, Any]
) -> None:
    """The same meaning on every backend: the keyword matches, plus the nearest neighbours by
    meaning the filters allow, each counted once; never every document the filters allow."""
    _hybrid_only(backend)
    load(backend, ARC)
    page = backend.search(
        EXPERTS_STAFF,
        SearchQuery(
            text="hydrologist",
            vector=[1.0, 0.0, 0.0],
            filters=filters,
            facets=["languages", "modes", "availability"],
            per_page=10,
            today=TODAY,
        ),
    )
    allowed = [d for d in ARC if not filters or d["languages"] == [filters["languages"]]]
    # The ids follow the distance; the cosine to [1, 0, 0] is the first coordinate, and only
    # neighbours at DENSE_FLOOR or nearer count (i <= 60 on the arc).
    near = [d for d in allowed[:DENSE_DEPTH] if d["embedding"][0] >= DENSE_FLOOR]
    neighbours = {d["id"] for d in near}
    counted = [d for d in allowed if d["id"] in neighbours or d["id"] in HYDROLOGISTS]
    assert len(allowed) > len(counted) > len(HYDROLOGISTS)
    assert page.total == len(counted)
    assert {hit.id for hit in page.hits} <= {d["id"] for d in counted}
    counts = {name: {f.value: f.count for f in values} for name, values in page.facets.items()}
    for name in ("languages", "modes"):
        expected: dict[str, int] = {}
        for d in counted:
            for value in d[name]:
                expected[value] = expected.get(value, 0) + 1
        assert counts[name] == expected
    later = sum(1 for d in counted if d["available_from"])  # from June only
    assert counts["availability"] == {
        label: len(counted) - (later if label == "now" or label < "2025-06" else 0)
        for label, _ in q.window_buckets(TODAY)
    }


def test_semantic_search_reveals_no_one_absent_from_the_readers_index(
    backend: SearchBackend,
) -> None:
    _hybrid_only(backend)
    docs = [
        expert(1, visibility="coordinators", embedding=[0.0, 1.0, 0.0]),
        expert(2, active=False, embedding=[0.0, 1.0, 0.0]),
        expert(3, skills=["pediatrics"], embedding=[1.0, 0.0, 0.0]),
    ]
    load(backend, docs)
    query = SearchQuery(text="pediatrics", vector=[0.0, 1.0, 0.0], today=TODAY)
    public = backend.search(EXPERTS_PUBLIC, query)
    assert [hit.id for hit in public.hits] == [3]
    assert all("display_name" not in hit.document for hit in public.hits)
    assert {hit.id for hit in backend.search(EXPERTS_STAFF, query).hits} == {1, 2, 3}
    # Once hidden, an expert's vector leaves the public index with the document.
    load(backend, [expert(3, visibility="coordinators", embedding=[1.0, 0.0, 0.0])])
    assert backend.search(EXPERTS_PUBLIC, query).hits == []


class CountingEmbed:
    """Stands in for the query model: one fixed vector, and every text it was asked for."""

    def __init__(self, vector: list[float] | None) -> None:
        self.vector = vector
        self.texts: list[str] = []

    def __call__(self, text: str) -> list[float] | None:
        self.texts.append(text)
        return self.vector


def _semantic_roster(backend: SearchBackend) -> None:
    load(
        backend,
        [
            expert(1, headline="Pédiatre", embedding=[0.0, 1.0, 0.0]),
            expert(2, headline="Pediatrician", embedding=[0.1, 0.99, 0.0]),
            expert(3, headline="Hydrologist", embedding=[1.0, 0.0, 0.0]),
        ],
    )


def test_the_text_searched_is_embedded_once_by_the_backend(backend: SearchBackend) -> None:
    _hybrid_only(backend)
    _semantic_roster(backend)
    embed = CountingEmbed([0.0, 1.0, 0.0])
    page = backend.search(EXPERTS_STAFF, SearchQuery(text="pediatrician", embed=embed, today=TODAY))
    assert embed.texts == ["pediatrician"]
    given = backend.search(
        EXPERTS_STAFF, SearchQuery(text="pediatrician", vector=[0.0, 1.0, 0.0], today=TODAY)
    )
    assert [hit.id for hit in page.hits] == [hit.id for hit in given.hits]
    assert set([hit.id for hit in page.hits][:2]) == {1, 2}  # the French one by meaning


def test_a_corrected_typo_embeds_the_correction_it_searches(backend: SearchBackend) -> None:
    _hybrid_only(backend)
    _semantic_roster(backend)
    embed = CountingEmbed([0.0, 1.0, 0.0])
    page = backend.search(EXPERTS_STAFF, SearchQuery(text="pediatrcian", embed=embed, today=TODAY))
    assert page.suggestion == "pediatrician"
    assert set([hit.id for hit in page.hits][:2]) == {1, 2}
    assert embed.texts == ["pediatrician"]  # the typo itself is never embedded


@pytest.mark.parametrize("typed", ["xqzzkw", "asdfghjkl qwerty"])
def test_gibberish_is_searched_by_its_words_only(backend: SearchBackend, typed: str) -> None:
    # Not language (matching/plausibility.py): its neighbours by meaning would be nearness to
    # nothing, so neither an embedding nor a given vector brings any, on every backend.
    _hybrid_only(backend)
    _semantic_roster(backend)
    load(backend, [expert(4, headline=f"{typed} consulting", embedding=[1.0, 0.0, 0.0])])
    embed = CountingEmbed([0.0, 1.0, 0.0])
    page = backend.search(EXPERTS_STAFF, SearchQuery(text=typed, embed=embed, today=TODAY))
    assert ([hit.id for hit in page.hits], page.total) == ([4], 1)  # by its words
    assert embed.texts == []
    given = SearchQuery(text=typed, vector=[0.0, 1.0, 0.0], semantic_ratio=1.0, today=TODAY)
    assert [hit.id for hit in backend.search(EXPERTS_STAFF, given).hits] == [4]


def test_a_text_that_cannot_be_embedded_is_searched_by_its_words(
    backend: SearchBackend,
) -> None:
    _hybrid_only(backend)
    _semantic_roster(backend)
    embed = CountingEmbed(None)
    page = backend.search(EXPERTS_STAFF, SearchQuery(text="pediatrician", embed=embed, today=TODAY))
    assert [hit.id for hit in page.hits] == [2] and page.total == 1
    assert embed.texts == ["pediatrician"]


def test_a_typo_is_corrected_from_the_index_vocabulary(backend: SearchBackend) -> None:
    if backend.name not in TYPO_TOLERANT:
        pytest.skip("exact (prefix) matching only on this backend")
    load(backend, ROSTER)
    for typed in ("biostatistqiue", "epidemiolgy outbreak", "cardiologei"):
        page = backend.search(EXPERTS_STAFF, SearchQuery(text=typed, today=TODAY))
        assert page.hits, typed
    expected = {"biostatistqiue": [1], "epidemiolgy outbreak": [4], "cardiologei": [3]}
    for typed, found in expected.items():
        assert ids(backend, EXPERTS_STAFF, text=typed) == found


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("biostatistqiue", "biostatistique"),
        ("epidemiolgy outbreak", "epidemiology outbreak"),
        ("cardiologei", "cardiologie"),
        ("pytohn", "python"),
    ],
)
def test_every_backend_says_which_correction_it_searched_for(
    backend: SearchBackend, typed: str, said: str
) -> None:
    load(backend, ROSTER)
    page = backend.search(EXPERTS_STAFF, SearchQuery(text=typed, today=TODAY))
    assert page.hits, typed
    assert page.suggestion == said


def test_words_the_index_holds_are_not_corrected(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    # Accents and capitals are not typos; a prefix of the last word is a word being typed.
    for typed in ("Cardiologie", "epidemiologie", "Épidémiologie biostat", "data pipelines"):
        page = backend.search(EXPERTS_STAFF, SearchQuery(text=typed, today=TODAY))
        assert page.hits, typed
        assert page.suggestion is None, typed


def test_a_correction_keeps_the_filters_and_their_facets(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    query = SearchQuery(
        text="cardiologei", filters={"languages": "ar"}, facets=["languages"], today=TODAY
    )
    page = backend.search(EXPERTS_STAFF, query)
    assert [hit.id for hit in page.hits] == [3]
    assert page.suggestion == "cardiologie"
    assert {f.value for f in page.facets["languages"]} == {"ar", "fr"}
    # Filtered out, the corrected word finds nobody: the typo is not "corrected" into nothing.
    query = SearchQuery(text="cardiologei", filters={"languages": "en"}, today=TODAY)
    page = backend.search(EXPERTS_STAFF, query)
    assert page.hits == [] and page.suggestion is None


def test_a_word_nobody_wrote_stays_unmatched(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    page = backend.search(EXPERTS_STAFF, SearchQuery(text="xylophone", today=TODAY))
    assert page.hits == []
    assert page.suggestion is None


# Backends that also correct a typo in a word's first letters.
FIRST_LETTER_TYPOS = {"meilisearch", "postgres"}


def test_a_typo_in_the_first_letters_is_corrected_where_the_backend_can(
    backend: SearchBackend,
) -> None:
    if backend.name not in FIRST_LETTER_TYPOS:
        pytest.skip("corrections start from the word's first two letters on this backend")
    load(backend, ROSTER)
    assert ids(backend, EXPERTS_STAFF, text="cradiologie") == [3]


def test_a_deleted_document_takes_its_words_out_of_the_corrections(
    backend: SearchBackend,
) -> None:
    load(backend, ROSTER)
    load(backend, [expert(5, skills=["hydrogeology"])])
    assert ids(backend, EXPERTS_STAFF, text="hydrogeolgy") == [5]
    backend.delete(EXPERTS_STAFF, [5])
    page = backend.search(EXPERTS_STAFF, SearchQuery(text="hydrogeolgy", today=TODAY))
    assert page.hits == [] and page.suggestion is None
    # The words other documents still hold stay known.
    assert ids(backend, EXPERTS_STAFF, text="cardiolgie") == [3]


def test_with_no_match_every_asked_facet_is_still_there(backend: SearchBackend) -> None:
    load(backend, ROSTER)
    facets = ["languages", "origin_country", "availability"]
    query = SearchQuery(text="cardiologie", filters={"languages": "wo"}, facets=facets, today=TODAY)
    page = backend.search(EXPERTS_STAFF, query)
    assert page.hits == [] and page.total == 0 and page.suggestion is None
    # Every facet asked is answered, empty: the page keeps its filters (the ticked ones with
    # a count of 0) instead of losing them.
    assert page.facets == {name: [] for name in facets}


@pytest.mark.parametrize("index", [EXPERTS_STAFF, EXPERTS_PUBLIC])
def test_a_neighbour_by_meaning_counts_from_the_floor_on_every_backend(
    backend: SearchBackend, index: str
) -> None:
    """The same floor everywhere (Meilisearch is sent it as its own score): an expert just
    above it is found by meaning, one just below is not, and words still find anyone."""
    _hybrid_only(backend)
    above, below = math.acos(DENSE_FLOOR + 0.01), math.acos(DENSE_FLOOR - 0.01)
    docs = [
        expert(1, headline="Épidémiologiste", embedding=[math.cos(above), math.sin(above), 0.0]),
        expert(2, headline="Hydrologue", embedding=[math.cos(below), math.sin(below), 0.0]),
        expert(3, headline="Comptable", embedding=[0.0, 0.0, 1.0]),
    ]
    for doc in docs:
        doc["public_embedding"] = doc["embedding"]
    load(backend, docs)
    # Words no document holds (not gibberish, which is not searched by meaning at all).
    query = SearchQuery(text="outbreaks", vector=[1.0, 0.0, 0.0], today=TODAY)
    page = backend.search(index, query)
    assert ([hit.id for hit in page.hits], page.total) == ([1], 1)
    page = backend.search(index, replace(query, text="comptable"))
    assert ({hit.id for hit in page.hits}, page.total) == ({1, 3}, 2)


def _every_page(backend: SearchBackend, index: str, query: SearchQuery) -> tuple[list[int], int]:
    """Lists the ids of every page of a search (and of the page after its last), and its count."""
    first = backend.search(index, query)
    found = [hit.id for hit in first.hits]
    for page in range(2, math.ceil(first.total / query.per_page) + 2):
        found += [hit.id for hit in backend.search(index, replace(query, page=page)).hits]
    return found, first.total


@pytest.mark.parametrize("sort", [["hours_per_month"], ["-display_name"]])
def test_a_sorted_or_deep_hybrid_page_lists_what_the_count_says(
    backend: SearchBackend, sort: list[str]
) -> None:
    """One result, whatever the sort or page: the keyword matches and the nearest neighbours
    by meaning at or above the floor (a sort orders them; FTS5 sorts its `temp.matches`).
    Every page put together lists each of them once and nothing else, gibberish nothing."""
    _hybrid_only(backend)
    load(backend, [{**d, "hours_per_month": d["id"] * 7 % 13} for d in ARC])
    near = [d["id"] for d in ARC[:DENSE_DEPTH] if d["embedding"][0] >= DENSE_FLOOR]
    expected = sorted({*near, *HYDROLOGISTS})
    query = SearchQuery(
        text="hydrologist", vector=[1.0, 0.0, 0.0], facets=["languages"], per_page=10, today=TODAY
    )
    whole = backend.search(EXPERTS_STAFF, replace(query, per_page=len(ARC)))
    assert (sorted(hit.id for hit in whole.hits), whole.total) == (expected, len(expected))
    # Page by page: past DENSE_DEPTH unsorted, and sorted from the first page.
    for paged in (query, replace(query, sort=sort)):
        found, total = _every_page(backend, EXPERTS_STAFF, paged)
        assert (sorted(found), total) == (expected, len(expected)), paged.sort
        assert backend.search(EXPERTS_STAFF, paged).facets == whole.facets
    # Gibberish: its vector is under the floor for everyone (cosine 0), no word matches.
    nonsense = replace(query, text="xqzvbnm", vector=[0.0, 0.0, 1.0])
    for paged in (nonsense, replace(nonsense, sort=sort), replace(nonsense, page=6)):
        assert _every_page(backend, EXPERTS_STAFF, paged) == ([], 0), paged.sort


def test_a_sort_orders_every_keyword_match_whatever_its_relevance(backend: SearchBackend) -> None:
    """A chosen sort is the order of the page: the best keyword match does not come first
    because it matches better (Meilisearch ranks by its words rules before a sort unless told)."""
    load(
        backend,
        [
            expert(1, headline="Hydrologue, hydrologie des bassins", hours_per_month=5),
            expert(2, headline="Ingénieure", bio="A étudié l'hydrologie.", hours_per_month=40),
            expert(3, headline="Hydrologie urbaine et hydrologie agricole", hours_per_month=20),
            expert(4, headline="Cardiologue", hours_per_month=60),
        ],
    )
    assert ids(backend, EXPERTS_STAFF, text="hydrologie", sort=["-hours_per_month"]) == [2, 3, 1]
    assert ids(backend, EXPERTS_STAFF, text="hydrologie", sort=["hours_per_month"]) == [1, 3, 2]


def _at(cosine: float) -> list[float]:
    """A unit vector at this cosine similarity to [1, 0, 0]."""
    angle = math.acos(cosine)
    return [math.cos(angle), math.sin(angle), 0.0]


@pytest.mark.parametrize(
    ("text", "vector", "expected"),
    [
        # Nonsense near nothing finds no need, whatever the words; nonsense near a need finds
        # it only from the floor (the fundraising need just above it, the bridges just below).
        ("xqzvbnm kkrtpl", [0.0, 0.0, -1.0], []),
        ("bokafe tirumo", [1.0, 0.0, 0.0], [1]),
        # A query that shares no word with the needs finds the one it means.
        ("levée de fonds pour un dispensaire", [1.0, 0.0, 0.0], [1]),
        ("جمع التبرعات لعيادة", [1.0, 0.0, 0.0], [1]),
        ("نظام الرواتب", [0.0, 0.0, 1.0], [3]),
    ],
)
def test_a_need_is_found_by_meaning_from_the_needs_floor_on_every_backend(
    backend: SearchBackend, text: str, vector: list[float], expected: list[int]
) -> None:
    """The needs' own floor (semantic.NEEDS_FLOOR), one rule everywhere (Meilisearch keeps
    its neighbours from their scores): a nonsense query lists no need by mere nearness, while
    a query in French or Arabic still finds the need it means."""
    _hybrid_only(backend)
    docs = [
        need(
            1,
            title="Fundraising strategy for a community clinic",
            description="Help us raise money from donors and foundations.",
            need_embedding=_at(NEEDS_FLOOR + 0.01),
        ),
        need(
            2,
            title="Bridge inspection",
            description="Assess the state of two road bridges.",
            need_embedding=_at(NEEDS_FLOOR - 0.01),
        ),
        need(
            3,
            title="Payroll system setup",
            description="Move our payroll to a new system.",
            need_embedding=[0.0, 0.0, 1.0],
        ),
    ]
    load(backend, needs=docs)
    page = backend.search(NEEDS, SearchQuery(text=text, vector=vector, today=TODAY))
    assert ([hit.id for hit in page.hits], page.total) == (expected, len(expected))
    # Words still find a need however far its meaning (the bridges, under the floor).
    page = backend.search(NEEDS, SearchQuery(text="bridge", vector=vector, today=TODAY))
    assert 2 in [hit.id for hit in page.hits]
