"""How many requests a roster search sends to a real Meilisearch, and what it asks for.

Each multi-search request is a round trip the person waits for: a search of words the index
holds is one request, and so is a typo the index's words correct (the corrected search,
carrying what confirms the correction). Without those words (or when they are out of step with
the server) a typo is two (the search, then the corrected search), never more when the page's
own hits show the correction.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.search import meili as meili_module
from service.search.base import BackendUnavailable, SearchQuery
from service.search.documents import EXPERTS_STAFF, schema_for
from service.search.meili import MeiliBackend
from service.search.semantic import DENSE_DEPTH
from tests.search.conftest import MEILI_KEY, MEILI_URL, fresh_backend
from tests.search.test_contract import ARC, HYDROLOGISTS, ROSTER, TODAY, load

pytestmark = pytest.mark.skipif(not MEILI_URL, reason="HOMEWARD_TEST_MEILI_URL not set")

ROSTER_FACETS = ("languages", "origin_country", "sectors", "modes", "availability")
VECTOR = [0.0, 1.0, 0.0]
# What a fused page's merge reads of a search: where the page starts and ends, and the ratio.
PLAN = meili_module._Plan(
    uid="",
    schema=schema_for(EXPERTS_STAFF),
    filters=[],
    keyword_facets=[],
    buckets=[],
    sort=(),
    offset=0,
    per_page=20,
    highlight=False,
    ratio=0.5,
)


@pytest.fixture
def holding() -> Iterator[Callable[[list[dict[str, Any]]], MeiliBackend]]:
    """Makes fresh Meilisearch backends holding the experts given (dropped after the test)."""
    with ExitStack() as stack:

        def make(experts: list[dict[str, Any]]) -> MeiliBackend:
            made = stack.enter_context(fresh_backend("meilisearch", dimensions=3))
            assert isinstance(made, MeiliBackend)
            load(made, experts)
            return made

        yield make


@pytest.fixture
def meili(holding: Callable[[list[dict[str, Any]]], MeiliBackend]) -> MeiliBackend:
    """A fresh Meilisearch backend holding the contract's roster."""
    return holding(ROSTER)


@pytest.fixture
def arc(holding: Callable[[list[dict[str, Any]]], MeiliBackend]) -> MeiliBackend:
    """A fresh Meilisearch backend holding the contract's 120 experts on an arc."""
    return holding(ARC)


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


def another_process(backend: MeiliBackend) -> MeiliBackend:
    """A backend on the same indexes, as another process holds (its words read apart)."""
    return MeiliBackend(
        url=MEILI_URL, api_key=MEILI_KEY, index_prefix=backend.prefix, embedding_dimensions=3
    )


@pytest.fixture
def meili_without_words(meili: MeiliBackend) -> MeiliBackend:
    """The roster's backend correcting typos from the server's answers alone."""
    meili.correct_from_words = False
    return meili


@pytest.mark.parametrize("highlight", [True, False])
def test_a_typo_the_index_words_correct_is_one_request(
    meili: MeiliBackend, highlight: bool
) -> None:
    page, sent = roster_search(meili, "cardiologei", highlight=highlight)
    assert page.suggestion == "cardiologie"
    assert page.hits[0].id == 3
    assert sent == 1  # the corrected search, with the typed words' probe and counts


def test_a_typo_the_page_shows_the_correction_of_is_two_requests(
    meili_without_words: MeiliBackend,
) -> None:
    page, sent = roster_search(meili_without_words, "cardiologei")
    assert page.suggestion == "cardiologie"
    assert page.hits[0].id == 3
    assert sent == 2  # the search, then the corrected search


def test_a_typo_the_page_does_not_show_is_probed(meili_without_words: MeiliBackend) -> None:
    # Without highlights the page tells nothing of the words it matched: each unknown word
    # is searched alone (one request) before the corrected search.
    page, sent = roster_search(meili_without_words, "cardiologei", highlight=False)
    assert page.suggestion == "cardiologie"
    assert sent == 3


def test_a_word_no_document_holds_stops_the_corrected_search(meili: MeiliBackend) -> None:
    # "xylophone" can be neither matched nor corrected: correcting "cardiologei" alone could not
    # give an exact match of both words, so that search is not sent.
    page, sent = roster_search(meili, "xylophone cardiologei", vector=None)
    assert page.hits == [] and page.suggestion is None
    assert sent == 1  # the index's words know nothing close to "xylophone": the search alone
    meili.correct_from_words = False
    page, sent = roster_search(meili, "xylophone cardiologei", vector=None)
    assert page.hits == [] and page.suggestion is None
    assert sent == 2  # the search, then the probes of the two words


def test_a_word_another_process_added_is_corrected_from_the_page(meili: MeiliBackend) -> None:
    roster_search(meili, "cardiology")  # the index's words are read
    load(
        another_process(meili),
        [{**ROSTER[1], "id": 5, "skills": ["hydrogeology"], "bio": "", "headline": "x"}],
    )
    page, sent = roster_search(meili, "hydrogeolgoy", vector=None)
    assert page.suggestion == "hydrogeology" and [hit.id for hit in page.hits] == [5]
    assert sent == 2  # the search (whose page shows the word), then the corrected search


def test_a_word_another_process_deleted_is_not_suggested(meili: MeiliBackend) -> None:
    roster_search(meili, "cardiology")  # the index's words are read
    another_process(meili).delete(EXPERTS_STAFF, [3])
    page, sent = roster_search(meili, "cardiologei", vector=None)
    assert page.suggestion is None and all(hit.id != 3 for hit in page.hits)
    assert sent == 2  # the correction no document holds, then the search as typed


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


def hydrologists(backend: MeiliBackend) -> tuple[Any, int]:
    """Searches the arc for its four hydrologists with a vector nearest the low ids."""
    backend.searches.clear()
    backend.beside.clear()
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
    # neighbours' ids, so that a neighbour the keywords match is not counted twice. It goes
    # beside the search's own request, as soon as the neighbours are read: no second wait.
    monkeypatch.setattr(meili_module, "KNOWN_MATCHES", 1)
    page, sent = hydrologists(arc)
    assert sent == 1
    # Beside the page's request: the counts, the neighbours, then which of them the words match.
    assert len(arc.beside) == 3
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


def test_a_sorted_hybrid_page_asks_for_the_neighbours_only_when_it_shows_them(
    arc: MeiliBackend,
) -> None:
    # Sorted, the keyword matches come first (Meilisearch's order), then the neighbours by
    # meaning they do not match, by the sort: one more request for a page reaching those.
    sort = {"sort": ["display_name"], "vector": [1.0, 0.0, 0.0]}
    page, sent = roster_search(arc, "hydrologist", per_page=2, **sort)
    assert (sent, page.total) == (1, DENSE_DEPTH + 2)
    assert {hit.id for hit in page.hits} <= HYDROLOGISTS
    page, sent = roster_search(arc, "hydrologist", per_page=10, **sort)
    assert sent == 2
    assert {hit.id for hit in page.hits[:4]} == HYDROLOGISTS
    names = [hit.document["display_name"] for hit in page.hits[4:]]
    assert names == ["Expert 1", "Expert 10", "Expert 11", "Expert 12", "Expert 13", "Expert 14"]
    page, sent = roster_search(arc, "hydrologist", per_page=10, page=6, **sort)
    assert [hit.document["display_name"] for hit in page.hits] == ["Expert 8", "Expert 9"]
    assert sent == 2


@pytest.mark.parametrize("words", [True, False])
def test_a_typo_with_its_vector_asks_its_neighbours_in_the_corrected_search(
    arc: MeiliBackend, monkeypatch: pytest.MonkeyPatch, words: bool
) -> None:
    # The vector does not change with the correction: the corrected search reads its
    # neighbours, then asks which of them the corrected words match (few known matches).
    # Corrected from the index's words, that is one request, with the counts, the neighbours
    # and which of them the words match beside it; from the server's answers, the typed search
    # (the same three beside it), then the corrected search asking which of those neighbours
    # its words match (its counts beside it).
    monkeypatch.setattr(meili_module, "KNOWN_MATCHES", 1)
    arc.correct_from_words = words
    arc.searches.clear()
    arc.beside.clear()
    page = arc.search(
        EXPERTS_STAFF,
        SearchQuery(text="hydrologits", vector=[1.0, 0.0, 0.0], facets=["modes"], today=TODAY),
    )
    assert page.suggestion == "hydrologist"
    assert (len(arc.searches), len(arc.beside)) == ((1, 3) if words else (2, 4))
    assert page.total == DENSE_DEPTH + 2
    assert {f.value: f.count for f in page.facets["modes"]} == {
        "mission": 25,
        "remote": 27,
        "hybrid": 27,
    }


@pytest.mark.parametrize("failing", ["counts", "neighbours"])
def test_a_request_beside_the_page_that_fails_fails_the_search(
    arc: MeiliBackend, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    # The requests sent beside the page's are part of the search: their failure is its
    # failure (the error the page's own request would raise), never a page counted without them.
    post = arc._post_search

    def post_search(queries: list[dict[str, Any]], *, beside: bool = False) -> Any:
        asks_vector = any("vector" in query for query in queries)
        if beside and asks_vector == (failing == "neighbours"):
            raise BackendUnavailable("Meilisearch unreachable: refused")
        return post(queries, beside=beside)

    monkeypatch.setattr(arc, "_post_search", post_search)
    with pytest.raises(BackendUnavailable):
        hydrologists(arc)


def ranked(backend: MeiliBackend, **asked: Any) -> list[dict[str, Any]]:
    """Ids and ranking scores of one search asked of Meilisearch directly."""
    (result,) = backend._multi_search(
        [
            {
                "indexUid": backend.uid(EXPERTS_STAFF),
                "showRankingScore": True,
                "matchingStrategy": "all",
                "attributesToRetrieve": ["id"],
                **asked,
            }
        ]
    )
    return [{"id": int(h["id"]), "_rankingScore": h["_rankingScore"]} for h in result["hits"]]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.sampled_from(["hydrologist", "accountant", "hydrologist accountant", "expert"]),
    angle=st.floats(min_value=0.0, max_value=1.6),
    ratio=st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.7, 0.95, 1.0]),
    page=st.integers(min_value=1, max_value=3),
    per_page=st.sampled_from([1, 5, 10, 20]),
)
def test_a_page_fused_here_is_the_page_meilisearch_fuses(
    arc: MeiliBackend, text: str, angle: float, ratio: float, page: int, per_page: int
) -> None:
    # One vector search instead of two: the page is merged here from the keyword matches and
    # the neighbours by meaning the count reads anyway, by Meilisearch's own rule. Given the
    # lists Meilisearch's hybrid search merges (each as deep as the page's end), the merge
    # here is its page, hit for hit and score for score. (The search asks for `DENSE_DEPTH`
    # neighbours, at least as deep: the vector store, approximate, may then find a nearer one
    # that Meilisearch's shallower semantic half misses.)
    vector = [math.cos(angle), math.sin(angle), 0.0]
    depth = page * per_page
    keyword = ranked(arc, q=text, limit=depth)
    semantic = ranked(
        arc,
        limit=depth,
        vector=vector,
        hybrid={"embedder": "default", "semanticRatio": 1.0},
    )
    theirs = ranked(
        arc,
        q=text,
        page=page,
        hitsPerPage=per_page,
        vector=vector,
        hybrid={"embedder": "default", "semanticRatio": ratio},
    )
    plan = replace(PLAN, offset=(page - 1) * per_page, per_page=per_page, ratio=ratio)
    fused = meili_module._fuse(keyword, semantic, plan)
    assert [(h["id"], h["_rankingScore"]) for h in fused] == [
        (h["id"], h["_rankingScore"]) for h in theirs
    ]


class SlowEmbed:
    """A query model that takes its time: the words go out before the vector is known."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors
        self.texts: list[str] = []

    def __call__(self, text: str) -> list[float] | None:
        self.texts.append(text)
        time.sleep(0.05)
        return self.vectors.get(text)


@pytest.mark.parametrize("typed", ["hydrologist", "hydrologits"])
def test_a_page_whose_text_is_embedded_meanwhile_is_the_page_of_its_vector(
    arc: MeiliBackend, typed: str
) -> None:
    near, far = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]
    embed = SlowEmbed({"hydrologist": near, "hydrologits": far})
    fields: dict[str, Any] = {"facets": ["modes", "availability"], "today": TODAY}
    page = arc.search(EXPERTS_STAFF, SearchQuery(text=typed, embed=embed, **fields))
    given = arc.search(EXPERTS_STAFF, SearchQuery(text="hydrologist", vector=near, **fields))
    # A typo's own vector (far) is never searched with, nor embedded: the correction's is.
    assert embed.texts == ["hydrologist"]
    assert page.suggestion == (None if typed == "hydrologist" else "hydrologist")
    assert [hit.id for hit in page.hits] == [hit.id for hit in given.hits]
    assert (page.total, page.facets) == (given.total, given.facets)


def test_an_index_past_one_page_is_searched_by_the_server_until_its_words_are_read(
    meili: MeiliBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(meili_module, "WORDS_PAGE", 2)  # the roster is more than one page
    page, sent = roster_search(meili, "cardiologei", vector=None)
    assert page.suggestion == "cardiologie" and sent == 2  # corrected by the server's answers
    uid = meili.uid(EXPERTS_STAFF)
    for _ in range(600):  # the rest is read on a thread of its own
        if meili.vocabulary.get(uid) is not None:
            break
        time.sleep(0.05)
    page, sent = roster_search(meili, "cardiologei", vector=None)
    assert page.suggestion == "cardiologie" and sent == 1
    words = meili.vocabulary.get(uid)
    assert words is not None and words.closest("cardiologei", last=True) == ["cardiologie"]


def test_the_index_words_are_read_again_when_another_process_changed_the_index(
    meili: MeiliBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    roster_search(meili, "cardiology")  # the index's words are read
    load(
        another_process(meili),
        [{**ROSTER[1], "id": 5, "skills": ["hydrogeology"], "bio": "", "headline": "x"}],
    )
    monkeypatch.setattr(meili_module, "REFRESH_S", 0.0)
    roster_search(meili, "cardiology")  # finds the index changed: its words are read again
    uid = meili.uid(EXPERTS_STAFF)
    for _ in range(600):
        words = meili.vocabulary.get(uid)
        if words is not None and words.frequency.get("hydrogeology"):
            break
        time.sleep(0.05)
    monkeypatch.setattr(meili_module, "REFRESH_S", 300.0)
    page, sent = roster_search(meili, "hydrogeolgoy", vector=None)
    assert page.suggestion == "hydrogeology" and [hit.id for hit in page.hits] == [5]
    assert sent == 1
