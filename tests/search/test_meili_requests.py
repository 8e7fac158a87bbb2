"""How many requests a roster search sends to a real Meilisearch, and what it asks for.

Each multi-search request is a round trip the person waits for: a search of words the index
holds is one request, a typo two (the search, then the corrected search), never more when the
page's own hits show the correction.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from service.search import meili as meili_module
from service.search.base import SearchQuery
from service.search.documents import EXPERTS_STAFF
from service.search.meili import MeiliBackend
from service.search.semantic import DENSE_DEPTH
from tests.search.conftest import MEILI_URL, fresh_backend
from tests.search.test_contract import ARC, ROSTER, TODAY, load

pytestmark = pytest.mark.skipif(not MEILI_URL, reason="HOMEWARD_TEST_MEILI_URL not set")

ROSTER_FACETS = ("languages", "origin_country", "sectors", "modes", "availability")
VECTOR = [0.0, 1.0, 0.0]


@pytest.fixture
def meili() -> Iterator[MeiliBackend]:
    """A fresh Meilisearch backend holding the contract's roster."""
    with fresh_backend("meilisearch", dimensions=3) as made:
        assert isinstance(made, MeiliBackend)
        load(made, ROSTER)
        yield made


def roster_search(backend: MeiliBackend, text: str, **fields: Any) -> tuple[Any, int]:
    """Runs a search as the roster page does (facets, availability, a query vector); returns
    the page and how many requests it sent."""
    fields.setdefault("vector", VECTOR)
    backend.searches.clear()
    page = backend.search(
        EXPERTS_STAFF, SearchQuery(text=text, facets=ROSTER_FACETS, today=TODAY, **fields)
    )
    return page, len(backend.searches)


def test_a_search_of_words_the_index_holds_is_one_request(meili: MeiliBackend) -> None:
    page, sent = roster_search(meili, "epidemiology")
    assert sent == 1
    assert {hit.id for hit in page.hits} >= {1, 2, 4} and page.suggestion is None
    assert page.facets["availability"] and page.facets["languages"]


def test_a_typo_the_page_shows_the_correction_of_is_two_requests(meili: MeiliBackend) -> None:
    page, sent = roster_search(meili, "cardiologei")
    assert page.suggestion == "cardiologie"
    assert page.hits[0].id == 3
    assert sent == 2  # the search, then the corrected search


def test_a_typo_the_page_does_not_show_is_probed(meili: MeiliBackend) -> None:
    # Without highlights the page tells nothing of the words it matched: each unknown word
    # is searched alone (one request) before the corrected search.
    page, sent = roster_search(meili, "cardiologei", highlight=False)
    assert page.suggestion == "cardiologie"
    assert sent == 3


def test_a_word_no_document_holds_stops_the_corrected_search(meili: MeiliBackend) -> None:
    # "xylophone" can be neither matched nor corrected: correcting "cardiologei" alone could not
    # give an exact match of both words, so that search is not sent.
    page, sent = roster_search(meili, "xylophone cardiologei", vector=None)
    assert page.hits == [] and page.suggestion is None
    assert sent == 2  # the search, then the probes of the two words


def test_a_word_some_document_holds_is_not_corrected_into_a_neighbour(
    meili: MeiliBackend,
) -> None:
    load(meili, [{**ROSTER[1], "id": 5, "skills": ["cardiologia"], "bio": "", "headline": "x"}])
    # Both words exist; no document holds both: no word is replaced by the other.
    page, sent = roster_search(meili, "cardiologie cardiologia", vector=None)
    assert page.suggestion is None
    assert sent == 1


def test_answers_come_uncompressed(meili: MeiliBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    # Meilisearch compresses a page when asked, which takes longer than sending it next door.
    encodings: list[str | None] = []
    session = requests.Session()
    post = session.post

    def recording_post(*args: Any, **kwargs: Any) -> requests.Response:
        response = post(*args, **kwargs)
        encodings.append(response.headers.get("Content-Encoding"))
        return response

    monkeypatch.setattr(session, "post", recording_post)
    meili._sessions.session = session
    page, sent = roster_search(meili, "epidemiology")
    assert page.hits
    assert encodings == [None] * sent


@pytest.fixture
def arc() -> Iterator[MeiliBackend]:
    """A fresh Meilisearch backend holding the contract's 120 experts on an arc."""
    with fresh_backend("meilisearch", dimensions=3) as made:
        assert isinstance(made, MeiliBackend)
        load(made, ARC)
        yield made


def hydrologists(backend: MeiliBackend) -> tuple[Any, int]:
    """Searches the arc for its four hydrologists with a vector nearest the low ids."""
    backend.searches.clear()
    page = backend.search(
        EXPERTS_STAFF,
        SearchQuery(text="hydrologist", vector=[1.0, 0.0, 0.0], facets=["modes"], today=TODAY),
    )
    return page, len(backend.searches)


def test_a_hybrid_search_with_few_keyword_matches_is_counted_in_its_one_request(
    arc: MeiliBackend,
) -> None:
    # The keyword count returns the ids of its matches: the neighbours it holds are known.
    page, sent = hydrologists(arc)
    assert sent == 1
    assert page.total == DENSE_DEPTH + 2  # the 50 nearest, hydrologists 100 and 110


def test_a_hybrid_search_with_many_keyword_matches_asks_which_neighbours_they_hold(
    arc: MeiliBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # More matches than the keyword count returns ids of: one more request, among the
    # neighbours' ids, so that a neighbour the keywords match is not counted twice.
    monkeypatch.setattr(meili_module, "KNOWN_MATCHES", 1)
    page, sent = hydrologists(arc)
    assert sent == 2
    assert page.total == DENSE_DEPTH + 2
    # Odd ids do missions, even ids remote and hybrid work: 25 of each among the 50 nearest.
    assert {f.value: f.count for f in page.facets["modes"]} == {
        "mission": 25,
        "remote": 27,
        "hybrid": 27,
    }


def test_a_hybrid_search_of_a_common_word_counts_without_asking(
    arc: MeiliBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As FTS5 counts a common word: the neighbours outside the matches it knows the ids of are
    # counted as not matched (at most the neighbours the words match beyond those, over).
    monkeypatch.setattr(meili_module, "KNOWN_MATCHES", 1)
    monkeypatch.setattr(meili_module, "BROAD_MATCHES", 4)
    page, sent = hydrologists(arc)
    assert sent == 1
    assert DENSE_DEPTH + 2 < page.total <= DENSE_DEPTH + 4
