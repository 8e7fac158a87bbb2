"""Search pages: what each reader sees of the roster and of the open needs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.config import Settings
from service.core.indexing import reindex_all
from service.models import ProposalOrigin, Role, User
from service.search import SearchBackend
from tests.conftest import login
from tests.factories import PASSWORD, make_expert, make_member, make_need, make_proposal, make_user
from tests.service.pages.search_backends import SEARCH_BACKENDS, search_backend_of


@pytest.fixture(params=SEARCH_BACKENDS)
def search_backend(
    request: pytest.FixtureRequest, settings: Settings, engine: Engine
) -> Iterator[SearchBackend]:
    """Each page runs on the database's own search backend (FTS5 or PostgreSQL) and, when a
    server is there, on Meilisearch: every backend shows the same page."""
    yield from search_backend_of(request.param, settings, engine)


def _world(session: Session, engine: Engine, search_backend: SearchBackend) -> dict[str, object]:
    awa = make_expert(
        session, display_name="Awa Diallo", skills=["épidémiologie", "biostatistique"]
    )
    make_expert(
        session,
        display_name="Lucía Gómez",
        headline="Ingeniera civil",
        skills=["ingeniería civil"],
        origin_country="CO",
        languages=[{"code": "es", "level": "native"}],
    )
    _, institution = make_member(session)
    need = make_need(session, institution=institution)
    reindex_all(engine, search_backend)
    return {"awa": awa, "need": need}


def test_roster_shows_names_facets_and_highlights(
    client: TestClient, session: Session, engine: Engine, search_backend: SearchBackend
) -> None:
    _world(session, engine, search_backend)
    login(client, make_user(session, role=Role.COORDINATOR).email, PASSWORD)
    soup = BeautifulSoup(
        client.get("/coordinator/roster", params={"q": "epidemiologie"}).text, "html.parser"
    )
    assert soup.select_one("label[for=q]").get_text() == "Search experts"  # type: ignore[union-attr]
    cards = soup.select(".expert-card")
    names = [c.h2.get_text(strip=True) for c in cards]
    assert names[0] == "Awa Diallo"
    if search_backend.name != "meilisearch":
        # Meilisearch's typo tolerance also lets the last word match "epidemiologist" in
        # Lucía's bio (one typo on a prefix), ranked after the exact match.
        assert names == ["Awa Diallo"]
    assert cards[0].select_one("mark") is not None
    facet_labels = [label.get_text(" ", strip=True) for label in soup.select(".facet label")]
    assert any(text.startswith("Senegal") and "(1)" in text for text in facet_labels)


def test_roster_filter_by_language(
    client: TestClient, session: Session, engine: Engine, search_backend: SearchBackend
) -> None:
    _world(session, engine, search_backend)
    login(client, make_user(session, role=Role.COORDINATOR).email, PASSWORD)
    soup = BeautifulSoup(
        client.get("/coordinator/roster", params={"language": "es"}).text, "html.parser"
    )
    assert [c.h2.get_text(strip=True) for c in soup.select(".expert-card")] == ["Lucía Gómez"]
    assert soup.select_one("input[name=language][value=es]").has_attr("checked")  # type: ignore[union-attr]


def test_institution_sees_skills_but_no_names(
    client: TestClient, session: Session, engine: Engine, search_backend: SearchBackend
) -> None:
    _world(session, engine, search_backend)
    member, _ = make_member(session, name="Hôpital Principal")
    login(client, member.email, PASSWORD)
    page = client.get("/institution/experts", params={"q": "epidemiologie"}).text
    assert "Awa Diallo" not in page
    assert "biostatistique" in page


def test_bad_filter_is_explained_on_the_page(
    client: TestClient, session: Session, engine: Engine, search_backend: SearchBackend
) -> None:
    _world(session, engine, search_backend)
    login(client, make_user(session, role=Role.COORDINATOR).email, PASSWORD)
    response = client.get("/coordinator/roster", params={"available": "someday"})
    assert response.status_code == 422
    alert = BeautifulSoup(response.text, "html.parser").select_one("[role=alert]")
    assert alert is not None and "Available: Choose “now”, a month" in _text(alert)


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"available": "notadate"}, "Disponible : Choisissez « now » (maintenant), un mois"),
        ({"available": "2027-13"}, "Disponible : Choisissez « now » (maintenant), un mois"),
        ({"available_from": "notadate"}, "available_from : Cette recherche n'a pas de tel filtre."),
        ({"page": "abc"}, "Page : Choisissez un numéro de page dans la liste."),
        ({"residence": "x" * 101}, "Pays de résidence : Ce filtre est trop long."),
    ],
)
def test_a_filter_the_search_cannot_use_is_left_out_in_the_readers_words(
    client: TestClient,
    session: Session,
    engine: Engine,
    search_backend: SearchBackend,
    params: dict[str, str],
    said: str,
) -> None:
    _world(session, engine, search_backend)
    login(client, make_user(session, role=Role.COORDINATOR, locale="fr").email, PASSWORD)
    query = {"q": "biostatistique", "language": "fr", **params}
    response = client.get("/coordinator/roster", params=query)
    # The form again, with what the person typed and ticked, and the results of the rest.
    assert response.status_code == 422
    soup = BeautifulSoup(response.text, "html.parser")
    alert = soup.select_one("[role=alert]")
    assert alert is not None and said in _text(alert)
    assert soup.select_one("input#q")["value"] == "biostatistique"  # type: ignore[index]
    assert soup.select_one("input[name=language][value=fr]").has_attr("checked")  # type: ignore[union-attr]
    assert [c.h2.get_text(strip=True) for c in soup.select(".expert-card")] == ["Awa Diallo"]


def test_needs_search_leaves_out_a_bad_start(
    client: TestClient, session: Session, engine: Engine, search_backend: SearchBackend
) -> None:
    world = _world(session, engine, search_backend)
    awa = session.get(User, world["awa"].user_id)  # type: ignore[attr-defined]
    assert awa is not None
    awa.locale = "ar"
    session.add(awa)
    session.commit()
    login(client, awa.email, PASSWORD)
    response = client.get("/expert/needs", params={"start": "soon", "available": "now"})
    assert response.status_code == 422
    soup = BeautifulSoup(response.text, "html.parser")
    said = _text(soup.select_one("[role=alert]"))
    assert "يبدأ: اختر «now» (الآن)" in said
    assert "متاح: لا يوجد عامل تصفية كهذا في هذا البحث." in said  # an expert's filter, not a need's
    assert soup.select(".need-card")


def test_needs_for_you_shows_ranked_needs_with_reasons(
    client: TestClient, session: Session, engine: Engine, search_backend: SearchBackend
) -> None:
    world = _world(session, engine, search_backend)
    awa = world["awa"]
    make_proposal(session, need=world["need"], expert=awa, origin=ProposalOrigin.EXPERT)  # type: ignore[arg-type]
    user = session.get(User, awa.user_id)  # type: ignore[attr-defined]
    assert user is not None
    login(client, user.email, PASSWORD)
    soup = BeautifulSoup(client.get("/expert/needs").text, "html.parser")
    section = soup.select_one("section[aria-labelledby=for-you]")
    assert section is not None
    assert "Co-enseigner un module d'épidémiologie" in section.get_text()
    reasons = section.select_one("[data-reasons]")
    assert reasons is not None
    assert "épidémiologie (close match: epidemiology)" in reasons.get_text()
    card_link = section.select_one(".need-card h3 a")
    assert card_link is not None and card_link["href"] == f"/expert/needs/{world['need'].id}"  # type: ignore[attr-defined]
    # Browsing every open need works for experts too.
    listed = [h.get_text(strip=True) for h in soup.select(".need-card h3")]
    assert listed.count("Co-enseigner un module d'épidémiologie") == 2


def test_a_misspelled_search_shows_the_corrected_results(
    client: TestClient, session: Session, engine: Engine, search_backend: SearchBackend
) -> None:
    _world(session, engine, search_backend)
    login(client, make_user(session, role=Role.COORDINATOR).email, PASSWORD)
    soup = BeautifulSoup(
        client.get("/coordinator/roster", params={"q": "biostatistqiue"}).text, "html.parser"
    )
    # Every backend corrects the word from its own vocabulary and says so.
    assert [c.h2.get_text(strip=True) for c in soup.select(".expert-card")] == ["Awa Diallo"]
    note = soup.select_one(".search-suggestion")
    assert note is not None and "biostatistique" in note.get_text()


def test_with_no_match_the_ticked_filters_stay_and_clear_in_one_click(
    client: TestClient, session: Session, engine: Engine, search_backend: SearchBackend
) -> None:
    _world(session, engine, search_backend)
    login(client, make_user(session, role=Role.COORDINATOR).email, PASSWORD)
    params = {"q": "irrigation", "language": "es"}
    soup = BeautifulSoup(client.get("/coordinator/roster", params=params).text, "html.parser")
    assert soup.select(".expert-card") == []
    ticked = soup.select_one("input[name=language][value=es]")
    assert ticked is not None and ticked.has_attr("checked")
    assert soup.select_one("form[role=search]").has_attr("data-autosubmit")  # type: ignore[union-attr]
    clear = soup.select_one("a.clear-filters")
    assert clear is not None and clear["href"] == "/coordinator/roster?q=irrigation"
    cleared = BeautifulSoup(client.get(str(clear["href"])).text, "html.parser")
    assert cleared.select_one("a.clear-filters") is None


def _text(node: object) -> str:
    return " ".join(node.get_text(" ", strip=True).split()) if node is not None else ""  # type: ignore[attr-defined]


FR_MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
AR_MONTHS = [
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
]


@pytest.mark.parametrize(
    ("locale", "now", "months"), [("fr", "Maintenant", FR_MONTHS), ("ar", "الآن", AR_MONTHS)]
)
def test_availability_facets_say_now_and_months_in_the_readers_language(
    client: TestClient,
    session: Session,
    engine: Engine,
    search_backend: SearchBackend,
    locale: str,
    now: str,
    months: list[str],
) -> None:
    today = date.today()
    make_expert(
        session,
        available_from=today - timedelta(days=1),
        available_until=today + timedelta(days=400),
    )
    reindex_all(engine, search_backend)
    login(client, make_user(session, role=Role.COORDINATOR, locale=locale).email, PASSWORD)
    soup = BeautifulSoup(client.get("/coordinator/roster").text, "html.parser")
    facet = next(f for f in soup.select(".facet") if f.select("input[name=available]"))
    labels = [_text(label) for label in facet.select("label")]
    assert labels[0] == f"{now} (1)"
    assert labels[1] == f"{months[today.month - 1]} {today.year} (1)"
    assert not any(label[:4].isdigit() for label in labels)  # no "2027-01" left
    # The value sent stays the one the search reads.
    assert facet.select("input")[1]["value"] == f"{today.year:04d}-{today.month:02d}"


def test_arabic_cards_point_the_reading_way_and_list_with_arabic_commas(
    client: TestClient, session: Session, engine: Engine, search_backend: SearchBackend
) -> None:
    _world(session, engine, search_backend)
    login(client, make_user(session, role=Role.COORDINATOR, locale="ar").email, PASSWORD)
    soup = BeautifulSoup(
        client.get("/coordinator/roster", params={"q": "epidemiologie"}).text, "html.parser"
    )
    meta = soup.select_one(".expert-card .meta")
    assert meta is not None
    assert meta.select_one(".towards").get_text() == "←"  # type: ignore[union-attr]
    # Latin words typed into the Arabic page's box read left to right.
    assert soup.select_one("input#q")["dir"] == "auto"  # type: ignore[index]
    assert "→" not in meta.get_text()
    assert "الفرنسية، الإنجليزية" in _text(meta)  # French، English
    # The skills that matched are tags as elsewhere, not text joined with the index's " ; ".
    skills = soup.select(".expert-card:first-child ul.tags li")  # Awa's (first on every backend)
    assert [_text(li) for li in skills] == ["épidémiologie", "biostatistique"]
    assert skills[0].select_one("mark") is not None
    assert ";" not in soup.select_one(".expert-card").get_text()  # type: ignore[union-attr]
    login(client, make_user(session, role=Role.COORDINATOR, locale="en").email, PASSWORD)
    soup = BeautifulSoup(
        client.get("/coordinator/roster", params={"q": "epidemiologie"}).text, "html.parser"
    )
    meta = soup.select_one(".expert-card .meta")
    assert meta is not None and meta.select_one(".towards").get_text() == "→"  # type: ignore[union-attr]
    assert "French, English" in _text(meta)


def test_with_no_match_every_facet_stays_and_the_page_offers_a_way_out(
    client: TestClient, session: Session, engine: Engine, search_backend: SearchBackend
) -> None:
    _world(session, engine, search_backend)
    login(client, make_user(session, role=Role.COORDINATOR).email, PASSWORD)
    params = {"q": "biostatistique", "country": "CO"}
    soup = BeautifulSoup(client.get("/coordinator/roster", params=params).text, "html.parser")
    assert soup.select(".expert-card") == []
    # Every facet is still there: the values ticking would find something with, counted.
    legends = [_text(legend) for legend in soup.select(".facet legend")]
    assert {"Country of origin", "Languages", "Modes"} <= set(legends)
    origin = {_text(label) for label in soup.select(".facet label") if "(" in label.get_text()}
    assert {"Senegal (1)", "Colombia (0)"} <= origin  # Senegal instead of Colombia: Awa
    assert "French (0)" in origin
    links = {_text(a): a["href"] for a in soup.select(".no-results a")}
    assert links == {
        "Clear the filters: 1 expert": "/coordinator/roster?q=biostatistique",
        "Search without the words: 1 expert": "/coordinator/roster?country=CO",
    }
    # Words alone that match nothing: every expert is one click away.
    soup = BeautifulSoup(
        client.get("/coordinator/roster", params={"q": "zzzqx"}).text, "html.parser"
    )
    assert {"Country of origin", "Languages"} <= {_text(x) for x in soup.select(".facet legend")}
    links = {_text(a): a["href"] for a in soup.select(".no-results a")}
    assert links == {"See all 2 experts": "/coordinator/roster"}


def test_a_page_past_the_last_leads_back_to_the_first(
    client: TestClient, session: Session, engine: Engine, search_backend: SearchBackend
) -> None:
    _world(session, engine, search_backend)
    login(client, make_user(session, role=Role.COORDINATOR).email, PASSWORD)
    params = {"language": "es", "page": "5"}
    soup = BeautifulSoup(client.get("/coordinator/roster", params=params).text, "html.parser")
    assert soup.select(".expert-card") == []
    links = {_text(a): a["href"] for a in soup.select(".no-results a")}
    assert links == {
        "This page is past the last one: back to the first page": "/coordinator/roster"
        "?language=es&page=1"
    }
    assert "No expert matches" not in _text(soup.select_one(".no-results"))
