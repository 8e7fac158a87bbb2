"""The embedded backend counts facets and applies the semantic half's filters from arrays in
memory: they follow every write, a worker's in another process included."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.search.base import SearchQuery
from service.search.documents import EXPERTS_STAFF
from service.search.fts5 import Fts5Backend
from tests.search.factories import expert
from tests.search.test_contract import TODAY, load

FACETS = ("languages", "sectors", "availability")


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Fts5Backend, Fts5Backend]:
    """A writer (the worker) and a reader (a web process) on one index file."""
    path = str(tmp_path / "search.sqlite3")
    return Fts5Backend(path=path), Fts5Backend(path=path)


def load_experts_1_and_2(
    writer: Fts5Backend, first: dict[str, object], second: dict[str, object]
) -> None:
    """Writes expert 1 and expert 2 with these fields, as the worker would."""
    load(writer, [expert(1, **first), expert(2, **second)])


def counts(backend: Fts5Backend, facet: str, **query: object) -> dict[str, int]:
    page = backend.search(
        EXPERTS_STAFF,
        SearchQuery(facets=FACETS, today=TODAY, **query),  # type: ignore[arg-type]
    )
    return {f.value: f.count for f in page.facets[facet]}


def test_facet_counts_follow_another_process_writes(
    pair: tuple[Fts5Backend, Fts5Backend],
) -> None:
    writer, reader = pair
    # No vectors: documents without one are followed too.
    load_experts_1_and_2(
        writer,
        {"languages": ["fr"], "sectors": ["health"]},
        {"languages": ["en", "ar"], "sectors": ["education"]},
    )
    assert counts(reader, "languages") == {"fr": 1, "en": 1, "ar": 1}
    load(writer, [expert(2, languages=["fr"], embedding=[1.0, 0.0, 0.0])])
    assert counts(reader, "languages") == {"fr": 2}
    writer.delete(EXPERTS_STAFF, [1])
    assert counts(reader, "languages") == {"fr": 1}
    assert counts(reader, "sectors") == {"education": 1}
    # Values that differ only in case count as one, under the smallest the matches hold.
    load(writer, [expert(3, sectors=["Health"])])
    assert counts(reader, "sectors") == {"education": 1, "Health": 1}
    assert counts(reader, "sectors", text="consultant", filters={"sectors": "health"}) == {
        "Health": 1
    }


def test_availability_counts_follow_a_changed_window(
    pair: tuple[Fts5Backend, Fts5Backend],
) -> None:
    writer, reader = pair
    load(writer, [expert(1, available_from="2025-06-01")])

    def buckets() -> dict[str, int]:
        page = reader.search(EXPERTS_STAFF, SearchQuery(facets=FACETS, today=TODAY))
        return {f.value: f.count for f in page.facets["availability"]}

    assert "now" not in buckets() and buckets()["2025-06"] == 1
    load(writer, [expert(1, available_from=None)])
    assert buckets()["now"] == 1


def test_neighbours_by_meaning_obey_filters_another_process_changed(
    pair: tuple[Fts5Backend, Fts5Backend],
) -> None:
    writer, reader = pair
    load_experts_1_and_2(
        writer,
        {"languages": ["fr"], "embedding": [0.0, 1.0, 0.0]},
        {"languages": ["en"], "embedding": [1.0, 0.0, 0.0]},
    )
    query = SearchQuery(vector=[0.0, 1.0, 0.0], filters={"languages": "fr"}, today=TODAY)
    assert [hit.id for hit in reader.search(EXPERTS_STAFF, query).hits] == [1]
    load(writer, [expert(1, languages=["en"], embedding=[0.0, 1.0, 0.0])])
    assert reader.search(EXPERTS_STAFF, query).hits == []
    load(writer, [expert(2, languages=["fr"], embedding=[1.0, 0.0, 0.0])])
    assert [hit.id for hit in reader.search(EXPERTS_STAFF, query).hits] == [2]
    window = SearchQuery(
        vector=[0.0, 1.0, 0.0], filters={"availability": "now"}, today=TODAY, per_page=5
    )
    load(writer, [expert(2, languages=["fr"], available_from="2026-01-01")])
    assert [hit.id for hit in reader.search(EXPERTS_STAFF, window).hits] == [1]
