"""The index's words correct a typo as the server's answers do, in fewer round trips.

The vocabulary's candidates are checked against every word it holds (no server), and a search
corrected from it against the same search corrected from Meilisearch's answers alone, on the
same index of a real server, for random one-edit typos.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.search import query as q
from service.search.base import SearchQuery
from service.search.documents import EXPERTS_STAFF, expert_documents, schema_for
from service.search.meili import MeiliBackend
from service.search.meili_words import IndexWords, meili_typos
from service.search.semantic import allowed_edits, edit_distance
from tests.search.conftest import MEILI_KEY, MEILI_URL, fresh_backend
from tests.search.factories import expert
from tests.search.test_contract import ROSTER, TODAY, load

# Words with close neighbours (one or two edits, a shared first letter or not), so that a typo
# often has several candidates and the counts decide between them.
WORDS = """
cardiology cardiologie cardiologist radiology radiologie radiologist hydrology hydrologist
hydrogeology statistics statistician statistique biostatistics epidemiology epidemiologist
pediatrics pediatrician paediatrics nurse nurses nursing midwife midwifery surgeon surgery
engineer engineering engineers accountant accounting accountants auditor auditing economist
economics agronomy agronomist agronome forestry forester geologist geology geography
geographer teacher teaching trainer training translator translation interpreter lawyer
mediator mediation planner planning hospital hospitals clinic clinical clinician pharmacist
pharmacy pharmacology logistics logistician network networks security secure databases
database analyst analysis analytics ecology ecologist biology biologist virology virologist
""".split()  # noqa: SIM905
FACETS = ("languages", "sectors", "modes", "availability")


def corpus(n: int = 150, seed: int = 7) -> list[dict[str, Any]]:
    """Experts whose headline, skills and bio draw from `WORDS`, some far more often."""
    rng = random.Random(seed)
    weights = [1 + (i % 7) ** 2 for i in range(len(WORDS))]
    experts = []
    for i in range(1, n + 1):
        picked = rng.choices(WORDS, weights=weights, k=6)
        experts.append(
            expert(
                100 + i,
                headline=" ".join(picked[:2]).capitalize(),
                skills=picked[2:4],
                bio=f"Works on {picked[4]} and {picked[5]}.",
                languages=["fr"] if i % 3 == 0 else ["en"],
                modes=["mission"] if i % 2 else ["remote"],
            )
        )
    return experts


def typo(word: str, kind: int, at: int, letter: str) -> str:
    """One edit of a word: an insertion, a deletion, a substitution or a transposition."""
    at %= len(word)
    if kind == 0:
        return word[:at] + letter + word[at:]
    if kind == 1:
        return word[:at] + word[at + 1 :]
    if kind == 2:
        return word[:at] + letter + word[at + 1 :]
    at = min(at, len(word) - 2)
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def words_of(experts: list[dict[str, Any]]) -> IndexWords:
    """The vocabulary of the staff index of these experts."""
    words = IndexWords(schema_for(EXPERTS_STAFF))
    words.add([expert_documents(e)[EXPERTS_STAFF] for e in experts])
    return words


def brute_closest(words: IndexWords, typed: str, *, last: bool) -> list[str] | None:
    """`IndexWords.closest` by looking at every word it holds."""
    folded = q.fold(typed)
    if folded in words.typo_words or (last and any(w.startswith(folded) for w in words.typo_words)):
        return None
    limit = allowed_edits(folded)
    near = [
        (edit_distance(folded, w, limit), w)
        for w in words.typo_words
        if meili_typos(folded, w, prefix=True) is not None
    ]
    near = [(d, w) for d, w in near if d <= limit]
    if not near:
        return []
    best = min(d for d, _ in near)
    return sorted(w for d, w in near if d == best)


EXPERTS = corpus() + ROSTER
VOCABULARY = words_of(EXPERTS)


@settings(max_examples=300, deadline=None)
@given(
    word=st.sampled_from(sorted(VOCABULARY.typo_words)),
    kind=st.integers(0, 3),
    at=st.integers(0, 20),
    letter=st.sampled_from("abcdeilnorstuyz"),
    last=st.booleans(),
)
def test_the_candidates_are_every_word_meilisearch_would_match(
    word: str, kind: int, at: int, letter: str, last: bool
) -> None:
    typed = typo(word, kind, at, letter)
    assert VOCABULARY.closest(typed, last=last) == brute_closest(VOCABULARY, typed, last=last)


def test_the_first_letter_counts_twice_and_short_words_take_no_typo() -> None:
    assert meili_typos("zardiology", "cardiology", prefix=False) == 2
    assert meili_typos("murse", "nurse", prefix=False) is None  # one typo allowed, costing two
    assert meili_typos("cradiology", "cardiology", prefix=False) == 1
    assert meili_typos("nurs", "nurse", prefix=False) is None  # under five letters: none
    assert meili_typos("nurze", "nurses", prefix=True) == 1
    assert VOCABULARY.closest("murse", last=False) == []
    assert VOCABULARY.closest("zardiology", last=False) == ["cardiology"]


def test_a_word_being_typed_is_not_corrected() -> None:
    assert VOCABULARY.closest("cardiolog", last=True) is None
    assert VOCABULARY.closest("cardiolog", last=False) == ["cardiology"]


def test_words_this_process_indexes_are_known_at_once() -> None:
    words = words_of(ROSTER)
    assert words.closest("hydrogeolgoy", last=False) == []
    words.add([expert_documents(expert(9, skills=["hydrogeology"]))[EXPERTS_STAFF]])
    assert words.closest("hydrogeolgoy", last=False) == ["hydrogeology"]
    assert words.guess(["hydrogeolgoy"], [0]).corrected == ["hydrogeology"]


def test_a_word_no_document_holds_and_nothing_is_close_to_leaves_the_typed_search() -> None:
    guess = VOCABULARY.guess(["xylophone", "cardiologei"], [0, 1])
    assert not guess.changed and guess.unknown == [0]


def test_equally_close_candidates_go_to_the_word_more_documents_hold() -> None:
    guess = VOCABULARY.guess(["nurss"], [0])
    assert guess.options == {0: ["nurse", "nurses"]}
    more = max(guess.options[0], key=lambda w: VOCABULARY.frequency[w])
    assert guess.corrected == [more]
    fewer = min(guess.options[0], key=lambda w: VOCABULARY.frequency[w])
    assert guess.choose({more: 1, fewer: 5}) == [fewer]


pytestmark_meili = pytest.mark.skipif(not MEILI_URL, reason="HOMEWARD_TEST_MEILI_URL not set")


@pytest.fixture(scope="module")
def both() -> Iterator[tuple[MeiliBackend, MeiliBackend]]:
    """One index on the real server, searched with the index's words and without them."""
    if not MEILI_URL:
        pytest.skip("HOMEWARD_TEST_MEILI_URL not set")
    with fresh_backend("meilisearch", dimensions=3) as made:
        assert isinstance(made, MeiliBackend)
        load(made, EXPERTS)
        old = MeiliBackend(
            url=MEILI_URL,
            api_key=MEILI_KEY,
            index_prefix=made.prefix,
            embedding_dimensions=3,
            correct_from_words=False,
        )
        yield made, old


def outcome(backend: MeiliBackend, query: SearchQuery) -> tuple[Any, ...]:
    """What a person sees of a search: suggestion, hits in order, total and facets."""
    page = backend.search(EXPERTS_STAFF, query)
    return page.suggestion, [hit.id for hit in page.hits], page.total, page.facets


@pytestmark_meili
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    word=st.sampled_from(sorted(VOCABULARY.typo_words)),
    kind=st.integers(0, 3),
    at=st.integers(0, 20),
    letter=st.sampled_from("abcdeilnorstuyz"),
    other=st.sampled_from(["", "engineer", "clinical", "xylophone", "santé", "nurse"]),
    first=st.booleans(),
    highlight=st.booleans(),
    vector=st.sampled_from([None, [0.0, 1.0, 0.0]]),
)
def test_a_typo_corrected_from_the_index_words_gives_the_page_the_server_gives(
    both: tuple[MeiliBackend, MeiliBackend],
    word: str,
    kind: int,
    at: int,
    letter: str,
    other: str,
    first: bool,
    highlight: bool,
    vector: list[float] | None,
) -> None:
    new, old = both
    typed = typo(word, kind, at, letter)
    text = " ".join(w for w in ([other, typed] if first else [typed, other]) if w)
    query = SearchQuery(
        text=text, facets=FACETS, today=TODAY, highlight=highlight, vector=vector, per_page=10
    )
    new.searches.clear()
    old.searches.clear()
    assert outcome(new, query) == outcome(old, query)
    assert len(new.searches) <= len(old.searches)
