"""Search that understands, on every backend, with the real query model (e5) and real vectors:
across languages, through typos, and never past what the reader's index may show."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from matching.encoders import Encoder, load_encoder
from matching.records import ExpertRecord
from matching.texts import profile_document_text
from service.config import Settings, get_settings
from service.core.changes import expert_changed
from service.core.indexing import drain_outbox
from service.core.matching import MatchingEngine
from service.core.public_vectors import PublicEmbedder
from service.core.search_vectors import QueryEmbedder
from service.main import create_app
from service.models import Role
from service.search.base import SearchBackend, SearchPage, SearchQuery
from service.search.documents import EXPERTS_PUBLIC, EXPERTS_STAFF
from service.security import SessionSigner
from service.state import AppState
from tests.conftest import login
from tests.factories import PASSWORD, make_expert, make_institution, make_user
from tests.search.conftest import BACKENDS, fresh_backend
from tests.search.factories import expert
from tests.search.test_contract import TODAY, load
from tests.service.pages.helpers import soup_of, text_of

E5_DIMENSIONS = 384

ROSTER = [
    expert(
        1,
        headline="Biostatistician, clinical trials",
        skills=["biostatistics", "survival analysis", "R"],
        bio="Designs and analyses randomised trials for a university hospital.",
    ),
    expert(
        2,
        headline="Pediatrician",
        skills=["pediatrics", "neonatal care"],
        bio="Consultant at a children's hospital.",
    ),
    expert(
        3,
        headline="Pédiatre",
        skills=["pédiatrie", "vaccination"],
        bio="Consultations de pédiatrie en centre de santé.",
        languages=["fr"],
    ),
    expert(
        4,
        headline="Hydrologist",
        skills=["groundwater modelling", "flood risk"],
        bio="Models rivers and aquifers.",
    ),
    # Two accountants institutions cannot tell apart: only the first one's bio (which
    # institutions may not read) is about bees.
    expert(
        5,
        headline="Chartered accountant",
        skills=["auditing", "payroll"],
        bio="Keeps forty beehives and teaches beekeeping and honey production to farmers.",
    ),
    expert(
        6,
        headline="Chartered accountant",
        skills=["auditing", "payroll"],
        bio="Works with small businesses on their annual accounts.",
    ),
    expert(
        7,
        headline="Backend software engineer",
        skills=["python", "kubernetes"],
        bio="Builds web services.",
    ),
    expert(
        8,
        headline="Civil engineer",
        skills=["bridges", "reinforced concrete"],
        bio="Designs road bridges.",
    ),
]


def _record(raw: dict[str, Any]) -> ExpertRecord:
    return ExpertRecord(
        expert_id=str(raw["id"]), headline=raw["headline"], skills=raw["skills"], bio=raw["bio"]
    )


@pytest.fixture(scope="module")
def e5() -> Encoder:
    """The bundled query model, as the matcher's encoder (document side)."""
    return load_encoder("e5", threads=1)


@pytest.fixture(scope="module")
def embed() -> QueryEmbedder:
    """The web process's query embedder."""
    return QueryEmbedder("e5", enabled=True)


@pytest.fixture(scope="module")
def roster(e5: Encoder) -> list[dict[str, Any]]:
    """The roster with its full vectors (whole profile) and public vectors (headline, skills),
    embedded as the worker embeds them."""
    records = [_record(raw) for raw in ROSTER]
    full = e5.encode_documents([profile_document_text(r) for r in records])
    public = PublicEmbedder.for_encoder(e5, "e5")
    assert public is not None
    computed = public.embed_changed(records, {})
    return [
        {
            **raw,
            "embedding": full[n].tolist(),
            "public_embedding": computed[raw["id"]].vector.tolist(),
        }
        for n, raw in enumerate(ROSTER)
    ]


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, roster: list[dict[str, Any]]
) -> Iterator[SearchBackend]:
    """A backend of each kind available, holding the roster and its e5 vectors."""
    with fresh_backend(request.param, dimensions=E5_DIMENSIONS) as made:
        load(made, roster)
        yield made


def search(
    backend: SearchBackend,
    embed: QueryEmbedder,
    index: str,
    text: str,
    *,
    ratio: float = 0.5,
    hybrid: bool = True,
) -> SearchPage:
    """Searches as the web process does: the text, and its vector from the query model."""
    vector = embed.embed(text) if hybrid else None
    query = SearchQuery(text=text, vector=vector, semantic_ratio=ratio, today=TODAY)
    return backend.search(index, query)


def ranked(page: SearchPage) -> list[int]:
    return [hit.id for hit in page.hits]


@pytest.mark.parametrize("index", [EXPERTS_STAFF, EXPERTS_PUBLIC])
def test_a_french_query_finds_an_english_biostatistician(
    backend: SearchBackend, embed: QueryEmbedder, index: str
) -> None:
    assert ranked(search(backend, embed, index, "biostatistique"))[0] == 1


@pytest.mark.parametrize("index", [EXPERTS_STAFF, EXPERTS_PUBLIC])
def test_a_trade_named_in_french_or_english_finds_the_same_people(
    backend: SearchBackend, embed: QueryEmbedder, index: str
) -> None:
    french = ranked(search(backend, embed, index, "pédiatre"))
    english = ranked(search(backend, embed, index, "pediatrician"))
    assert set(french[:2]) == set(english[:2]) == {2, 3}


@pytest.mark.parametrize("hybrid", [False, True], ids=["keywords", "hybrid"])
def test_a_misspelled_trade_finds_the_pediatrician(
    backend: SearchBackend, embed: QueryEmbedder, hybrid: bool
) -> None:
    page = search(backend, embed, EXPERTS_STAFF, "pediatrcian", hybrid=hybrid)
    assert ranked(page)[0] == 2
    # Every backend says which correction it searched for (Meilisearch too, from the words
    # its own typo tolerance matched).
    assert page.suggestion == "pediatrician"


def test_coordinators_find_an_expert_by_the_meaning_of_their_bio(
    backend: SearchBackend, embed: QueryEmbedder
) -> None:
    # The bio is in the coordinators' index and in the vector it carries.
    assert ranked(search(backend, embed, EXPERTS_STAFF, "beekeeping", hybrid=False)) == [5]
    assert ranked(search(backend, embed, EXPERTS_STAFF, "apiculture", ratio=1.0))[0] == 5


@pytest.mark.parametrize("text", ["beekeeping", "apiculture", "honey production"])
def test_institutions_cannot_find_an_expert_by_their_bio(
    backend: SearchBackend, embed: QueryEmbedder, text: str
) -> None:
    assert ranked(search(backend, embed, EXPERTS_PUBLIC, text, hybrid=False)) == []
    for ratio in (0.5, 1.0):
        found = ranked(search(backend, embed, EXPERTS_PUBLIC, text, ratio=ratio))
        # By meaning the beekeeper is exactly where their twin is, whose bio is not about bees:
        # the institutions' vector knows nothing the institutions could not read (both found
        # next to each other, or neither, under the floor of meaning).
        assert (5 in found) == (6 in found), found
        if 5 in found:
            assert abs(found.index(5) - found.index(6)) == 1, found


def test_the_institutions_index_carries_the_public_vector(
    backend: SearchBackend, embed: QueryEmbedder, roster: list[dict[str, Any]]
) -> None:
    # A query equal to a public text finds its expert first in either index; the public and
    # full vectors differ wherever a bio adds meaning.
    full = np.asarray(roster[4]["embedding"])
    public = np.asarray(roster[4]["public_embedding"])
    assert float(full @ public) < 0.99
    assert ranked(search(backend, embed, EXPERTS_PUBLIC, "hydrologist", ratio=1.0))[0] == 4


@pytest.fixture
def e5_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Makes e5 both the stored model and the query model of the process's settings."""
    monkeypatch.setenv("HOMEWARD_EMBEDDING_MODEL", "e5")
    monkeypatch.setenv("HOMEWARD_SEARCH_QUERY_MODEL", "e5")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_profile_change_reaches_the_index_with_its_new_vectors(
    kind: str,
    e5: Encoder,
    embed: QueryEmbedder,
    engine: Engine,
    session: Session,
    e5_settings: None,
) -> None:
    changing = make_expert(
        session, headline="Civil engineer", skills=["bridges"], bio="Designs road bridges."
    )
    make_expert(
        session,
        headline="General practitioner",
        skills=["family medicine"],
        bio="Runs a rural clinic.",
    )
    make_expert(
        session, headline="Chartered accountant", skills=["auditing"], bio="Audits companies."
    )
    matching = MatchingEngine(e5, search_query_model="e5")
    with fresh_backend(kind, dimensions=E5_DIMENSIONS) as backend:
        matching.sync(engine)  # embeds, stores the vectors and enqueues the documents
        drain_outbox(engine, backend)
        changing.headline, changing.skills = "Pediatrician", ["pediatrics", "neonatal care"]
        changing.bio = "Consultant at a children's hospital."
        session.add(changing)
        expert_changed(session, changing)
        session.commit()
        drain_outbox(engine, backend)
        for index in (EXPERTS_STAFF, EXPERTS_PUBLIC):
            # The new words are searchable at once; the vectors still tell the old profile.
            assert ranked(search(backend, embed, index, "pediatrician", hybrid=False)) == [
                changing.id
            ]
            assert ranked(search(backend, embed, index, "pédiatre", ratio=1.0))[0] != changing.id
        assert matching.sync(engine).embedded == 1  # the worker embeds the changed profile
        drain_outbox(engine, backend)
        for index in (EXPERTS_STAFF, EXPERTS_PUBLIC):
            assert ranked(search(backend, embed, index, "pédiatre", ratio=1.0))[0] == changing.id


def _nonsense(seed: int) -> str:
    """A query of random letters, as bench/search_quality.py draws them (not hand-picked)."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return " ".join(
        "".join(rng.choice(letters) for _ in range(rng.randint(6, 10))) for _ in range(2)
    )


@pytest.mark.parametrize("text", ["xqzvbnm kkrtpl", *(_nonsense(seed) for seed in range(3))])
def test_gibberish_finds_no_expert(backend: SearchBackend, embed: QueryEmbedder, text: str) -> None:
    # Every text has nearest neighbours by meaning; none this far from everyone is a match.
    # (The coordinators' index, whose whole-profile vectors the floor was measured on; the
    # institutions' shorter public vectors sit nearer any text: not measured yet.)
    page = search(backend, embed, EXPERTS_STAFF, text)
    assert (page.total, ranked(page)) == (0, [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("biostatistique", 1),  # French
        ("bioestadística", 1),  # Spanish
        ("pediatria", 2),  # Portuguese
        ("طبيب أطفال", 2),  # Arabic: a children's doctor
        ("hidrólogo", 4),  # Spanish
    ],
)
def test_a_query_in_another_language_still_clears_the_floor(
    backend: SearchBackend, embed: QueryEmbedder, text: str, expected: int
) -> None:
    assert expected in ranked(search(backend, embed, EXPERTS_STAFF, text))[:2]


def test_the_roster_page_finds_no_expert_for_gibberish_and_says_what_to_try(
    e5: Encoder,
    engine: Engine,
    session: Session,
    settings: Settings,
    search_backend: SearchBackend,
    e5_settings: None,
) -> None:
    # The application as served: e5 stores the vectors and embeds the search box's text.
    served = settings.model_copy(
        update={"load_encoder": True, "embedding_model": "e5", "search_query_model": "e5"}
    )
    make_expert(
        session,
        headline="Biostatistician, clinical trials",
        skills=["biostatistics", "survival analysis"],
        bio="Designs and analyses randomised trials for a university hospital.",
    )
    make_expert(
        session, headline="Hydrologist", skills=["groundwater modelling"], bio="Models aquifers."
    )
    coordinator = make_user(session, role=Role.COORDINATOR, locale="fr")
    session.commit()
    MatchingEngine(e5, search_query_model="e5").sync(engine)
    drain_outbox(engine, search_backend)
    state = AppState(
        settings=served,
        engine=engine,
        signer=SessionSigner(served.secret_key, max_age_s=served.session_max_age_s),
        search=search_backend,
    )
    with TestClient(create_app(state=state), follow_redirects=False) as client:
        login(client, coordinator.email, PASSWORD)
        found = soup_of(client.get("/coordinator/roster", params={"q": "biostatistique"}))
        assert "Biostatistician, clinical trials" in text_of(found.select_one(".expert-card"))
        empty = soup_of(client.get("/coordinator/roster", params={"q": "xqzvbnm kkrtpl"}))
        assert empty.select(".expert-card") == []
        no_results = text_of(empty.select_one(".no-results"))
        assert "Aucun expert ne correspond à cette recherche." in no_results
        assert {text_of(a) for a in empty.select(".no-results a")} == {"Voir les 2 experts"}


def served_client(
    engine: Engine, settings: Settings, search_backend: SearchBackend, e5: Encoder
) -> TestClient:
    """The application as served: e5 stores the vectors and embeds the search box's text."""
    served = settings.model_copy(
        update={"load_encoder": True, "embedding_model": "e5", "search_query_model": "e5"}
    )
    MatchingEngine(e5, search_query_model="e5").sync(engine)
    drain_outbox(engine, search_backend)
    state = AppState(
        settings=served,
        engine=engine,
        signer=SessionSigner(served.secret_key, max_age_s=served.session_max_age_s),
        search=search_backend,
    )
    return TestClient(create_app(state=state), follow_redirects=False)


def test_the_institutions_roster_does_not_search_gibberish_by_meaning(
    e5: Encoder,
    engine: Engine,
    session: Session,
    settings: Settings,
    search_backend: SearchBackend,
    e5_settings: None,
) -> None:
    # The user walk: "xqzzkw" listed two unrelated experts by mere nearness to their shorter
    # public vectors (matching/plausibility.py: it is not language, so keywords only).
    make_expert(
        session,
        headline="Epidemiologist",
        skills=["epidemiology", "disease surveillance"],
        bio="Tracks outbreaks for a ministry of health.",
    )
    make_expert(
        session, headline="Hydrologist", skills=["groundwater modelling"], bio="Models aquifers."
    )
    member = make_user(session, role=Role.INSTITUTION)
    make_institution(session, member=member)
    session.commit()
    with served_client(engine, settings, search_backend, e5) as client:
        login(client, member.email, PASSWORD)
        for text in ("xqzzkw", "asdfghjkl qwerty", "a" * 300):
            empty = soup_of(client.get("/institution/experts", params={"q": text}))
            assert empty.select(".expert-card") == [], text
            no_results = text_of(empty.select_one(".no-results"))
            assert "No expert matches this search." in no_results
        for text in ("épidémiologie", "علم الأوبئة"):
            found = soup_of(client.get("/institution/experts", params={"q": text}))
            cards = [text_of(card) for card in found.select(".expert-card")]
            assert cards and "Epidemiologist" in cards[0], text
