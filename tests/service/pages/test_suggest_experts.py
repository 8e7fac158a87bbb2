"""An institution that found a fitting expert in the roster suggests them for one of its open
needs; the coordinator sees the suggestion on the need's review page and may offer them the
engagement. The institution never learns the expert's name or contacts through it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.core.indexing import reindex_all
from service.models import (
    Engagement,
    ExpertProfile,
    ExpertSuggestion,
    Institution,
    MatchProposal,
    Need,
    Notification,
    OutgoingEmail,
    Role,
    User,
)
from service.search import SearchBackend
from tests.factories import make_expert, make_member, make_need, make_user
from tests.service.pages.helpers import (
    error_beside,
    flash_messages,
    log_in_as,
    post_form,
    soup_of,
    text_of,
)

ARABIC_TITLE = "تدريس مقرر علم الأوبئة عن بعد لطلبة الماجستير"


@dataclass
class Roster:
    member: User
    institution: Institution
    arabic_need: Need
    other_need: Need
    fatou: ExpertProfile
    coordinator: User


def _roster(session: Session, engine: Engine, search_backend: SearchBackend) -> Roster:
    coordinator = make_user(
        session, role=Role.COORDINATOR, email="aissatou.ndiaye@programme.example"
    )
    coordinator.display_name = "Aïssatou Ndiaye"
    session.add(coordinator)
    member, institution = make_member(session, name="جامعة الجزائر 1", country="DZ", city="الجزائر")
    arabic_need = make_need(
        session, institution=institution, title=ARABIC_TITLE, languages=["ar", "fr"]
    )
    other_need = make_need(
        session, institution=institution, title="Encadrement de thèses en hydrologie"
    )
    make_need(session, institution=institution, title="Brouillon : génie civil", status="draft")
    fatou = make_expert(
        session,
        user=make_user(session, email="fatou.sarr@universite.example"),
        display_name="Fatou Sarr",
        headline="Épidémiologiste, enseignante-chercheuse",
        skills=["épidémiologie", "biostatistique", "enseignement à distance"],
        phone="+33 6 12 34 56 78",
    )
    reindex_all(engine, search_backend)
    return Roster(member, institution, arabic_need, other_need, fatou, coordinator)


def _suggest_form(page: object, expert_id: int) -> tuple[list[tuple[str, str, bool]], str]:
    """Gets the need choices of an expert card's suggestion form (value, label, selected) and
    where the form posts."""
    soup = page  # a BeautifulSoup
    select_ = soup.select_one(f"select#suggest-need-{expert_id}")  # type: ignore[attr-defined]
    assert select_ is not None, "no suggestion form on the card"
    form_id = select_["form"]
    form = soup.select_one(f"form#{form_id}")  # type: ignore[attr-defined]
    assert form is not None and form["method"] == "post"
    assert form.select_one("input[name=csrf_token]") is not None
    choices = [
        (str(o.get("value", "")), text_of(o), o.has_attr("selected"))
        for o in select_.select("option")
    ]
    return choices, str(form["action"])


def test_an_institution_suggests_an_expert_the_coordinator_offers_them_the_engagement(
    session: Session,
    engine: Engine,
    search_backend: SearchBackend,
    make_client: Callable[[], TestClient],
) -> None:
    world = _roster(session, engine, search_backend)
    fatou_id = world.fatou.id or 0
    institution = log_in_as(make_client(), world.member.email)

    roster = institution.get("/institution/experts", params={"q": "épidémiologie"})
    assert roster.status_code == 200
    page = soup_of(roster)
    assert "Fatou Sarr" not in roster.text and "+33 6 12 34 56 78" not in roster.text
    choices, action = _suggest_form(page, fatou_id)
    # Two open needs: none chosen for them; the draft is not offered.
    assert choices == [
        ("", "Choose a need", False),
        (str(world.arabic_need.id), ARABIC_TITLE, False),
        (str(world.other_need.id), "Encadrement de thèses en hydrologie", False),
    ]
    # The form posts to the roster's query, which the roster comes back to.
    assert action == f"/institution/experts/{fatou_id}/suggest?q=%C3%A9pid%C3%A9miologie"
    back = "/institution/experts?q=%C3%A9pid%C3%A9miologie"

    response = post_form(institution, action, {"need_id": world.arabic_need.id})
    assert response.status_code == 303 and response.headers["location"] == back
    shown = flash_messages(institution.get(back))
    assert any("the coordinator will review your suggestion" in m for m in shown), shown

    session.expire_all()
    suggestion = session.exec(select(ExpertSuggestion)).one()
    assert (suggestion.need_id, suggestion.expert_id) == (world.arabic_need.id, fatou_id)
    assert suggestion.suggested_by_id == world.member.id and suggestion.created_at is not None
    told = session.exec(select(Notification).where(Notification.kind == "need.suggestion")).all()
    assert [n.user_id for n in told] == [world.coordinator.id]
    assert told[0].link == f"/coordinator/needs/{world.arabic_need.id}#interested"
    assert ARABIC_TITLE in told[0].title and "جامعة الجزائر 1" in told[0].body
    mails = session.exec(select(OutgoingEmail).where(OutgoingEmail.kind == "need.suggestion")).all()
    assert [m.to_address for m in mails] == [world.coordinator.email]
    assert "Fatou Sarr" not in told[0].body

    # Suggesting again changes nothing, and says so kindly.
    again = post_form(institution, action, {"need_id": world.arabic_need.id})
    assert again.status_code == 303
    assert any("already suggested" in m for m in flash_messages(institution.get(back)))
    session.expire_all()
    assert len(session.exec(select(ExpertSuggestion)).all()) == 1
    assert (
        len(session.exec(select(Notification).where(Notification.kind == "need.suggestion")).all())
        == 1
    )

    # The institution's need page counts the suggestion, and never names the expert.
    need_page = institution.get(f"/institution/needs/{world.arabic_need.id}")
    count = soup_of(need_page).select_one("[data-suggested-count]")
    assert count is not None and text_of(count).startswith("You suggested 1 expert from")
    assert "Fatou Sarr" not in need_page.text and "fatou.sarr@" not in need_page.text
    other_page = soup_of(institution.get(f"/institution/needs/{world.other_need.id}"))
    assert other_page.select_one("[data-suggested-count]") is None

    # The coordinator sees her by name, labelled, with the offer.
    coordinator = log_in_as(make_client(), world.coordinator.email)
    review = soup_of(coordinator.get(f"/coordinator/needs/{world.arabic_need.id}"))
    item = review.select_one(f"[data-interested-expert='{fatou_id}']")
    assert item is not None
    assert text_of(item.select_one("a")) == "Fatou Sarr"
    assert item.select_one("[data-suggested]") is not None
    assert "Suggested by the institution" in text_of(item)
    assert item.select_one("[data-said-interested]") is None
    history = [text_of(li) for li in review.select("[data-history] li")]
    assert any("The institution suggested Fatou Sarr" in line for line in history), history
    form = item.select_one("form")
    assert form is not None
    offered = post_form(coordinator, str(form["action"]), {})
    assert offered.status_code == 303, offered.text[:500]
    session.expire_all()
    proposal = session.exec(
        select(MatchProposal).where(
            MatchProposal.need_id == world.arabic_need.id, MatchProposal.expert_id == fatou_id
        )
    ).one()
    assert proposal.status == "approved" and proposal.decided_by_id == world.coordinator.id
    engagement = session.exec(select(Engagement).where(Engagement.proposal_id == proposal.id)).one()
    assert engagement.status == "offered"


def test_the_only_open_need_is_chosen_and_a_draft_only_institution_sees_no_form(
    session: Session, engine: Engine, search_backend: SearchBackend, client: TestClient
) -> None:
    member, institution = make_member(session, name="Hôpital régional de Thiès")
    need = make_need(session, institution=institution, title="Former des sages-femmes")
    drafting, drafts_only = make_member(session, name="Université Gaston Berger")
    make_need(session, institution=drafts_only, title="Brouillon", status="draft")
    expert = make_expert(session, display_name="Mariama Bâ", skills=["obstétrique"])
    reindex_all(engine, search_backend)

    page = soup_of(log_in_as(client, member.email).get("/institution/experts"))
    choices, _ = _suggest_form(page, expert.id or 0)
    assert choices == [(str(need.id), "Former des sages-femmes", True)]

    client.cookies.clear()
    page = soup_of(log_in_as(client, drafting.email).get("/institution/experts"))
    assert page.select_one(".expert-card") is not None
    assert page.select("[data-suggest]") == [] and page.select("form[id^=suggest-]") == []


def test_an_unverified_institution_and_an_expert_cannot_suggest(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    pending, institution = make_member(session, verified=False, name="Clinique Sainte-Thérèse")
    need = make_need(session, institution=institution)
    expert_user = make_user(session)
    expert = make_expert(session, user=expert_user, display_name="Oumar Kâ")

    as_pending = post_form(
        log_in_as(make_client(), pending.email),
        f"/institution/experts/{expert.id}/suggest",
        {"need_id": need.id},
    )
    assert as_pending.status_code == 403
    assert "awaiting verification" in text_of(soup_of(as_pending))
    as_expert = post_form(
        log_in_as(make_client(), expert_user.email),
        f"/institution/experts/{expert.id}/suggest",
        {"need_id": need.id},
    )
    assert as_expert.status_code == 403
    assert "Only institutions suggest experts" in text_of(soup_of(as_expert))
    session.expire_all()
    assert session.exec(select(ExpertSuggestion)).all() == []


def _card(page: object, expert_id: int) -> object:
    card = page.select_one(f"[data-suggest='{expert_id}']")  # type: ignore[attr-defined]
    assert card is not None, "the expert's card has no suggestion form"
    return card


def _kept_search(page: object) -> tuple[str, list[str]]:
    """Gets the search words and the ticked filters the roster shows."""
    words = page.select_one("form[role=search] input[name=q]")  # type: ignore[attr-defined]
    ticked = page.select("form[role=search] input[type=checkbox][checked]")  # type: ignore[attr-defined]
    return str(words["value"]), sorted(f"{box['name']}={box['value']}" for box in ticked)


def test_a_suggestion_without_a_need_comes_back_beside_its_card_with_the_search_kept(
    session: Session,
    engine: Engine,
    search_backend: SearchBackend,
    make_client: Callable[[], TestClient],
) -> None:
    world = _roster(session, engine, search_backend)
    fatou_id = world.fatou.id or 0
    browser = log_in_as(make_client(), world.member.email)
    query = "q=épidémiologie&language=fr"
    before = soup_of(browser.get(f"/institution/experts?{query}"))
    _, action = _suggest_form(before, fatou_id)
    assert action.startswith(f"/institution/experts/{fatou_id}/suggest?q=")

    refused = post_form(browser, action, {"need_id": ""})
    assert refused.status_code == 422
    page = soup_of(refused)
    assert error_beside(refused, f"suggest-need-{fatou_id}") == (
        "Choose one of your open needs to suggest this expert for."
    )
    assert text_of(_card(page, fatou_id)).endswith(
        "Choose one of your open needs to suggest this expert for."
    )
    assert _kept_search(page) == ("épidémiologie", ["language=fr"])
    assert _suggest_form(page, fatou_id)[1] == action
    assert page.select("[data-suggest-refused]") == []
    session.expire_all()
    assert session.exec(select(ExpertSuggestion)).all() == []


def test_a_need_closed_meanwhile_is_refused_beside_the_card_with_the_choice_kept(
    session: Session,
    engine: Engine,
    search_backend: SearchBackend,
    make_client: Callable[[], TestClient],
) -> None:
    world = _roster(session, engine, search_backend)
    fatou_id = world.fatou.id or 0
    browser = log_in_as(make_client(), world.member.email)
    _, action = _suggest_form(
        soup_of(browser.get("/institution/experts", params={"q": "biostatistique"})), fatou_id
    )
    # Another member closes the need while this page is open.
    world.other_need.status = "closed"
    session.add(world.other_need)
    session.commit()

    refused = post_form(browser, action, {"need_id": world.other_need.id})
    assert refused.status_code == 409
    page = soup_of(refused)
    assert error_beside(refused, f"suggest-need-{fatou_id}") == (
        "This need is closed: it takes no more suggestions."
    )
    choices, _ = _suggest_form(page, fatou_id)
    # Still shown as chosen (it cannot be sent again); the open need remains to choose.
    assert choices == [
        ("", "Choose a need", False),
        (str(world.other_need.id), "Encadrement de thèses en hydrologie", True),
        (str(world.arabic_need.id), ARABIC_TITLE, False),
    ]
    kept = page.select_one(f"select#suggest-need-{fatou_id} option[selected]")
    assert kept is not None and kept.has_attr("disabled")
    assert _kept_search(page) == ("biostatistique", [])
    session.expire_all()
    assert session.exec(select(ExpertSuggestion)).all() == []
    assert session.exec(select(Notification)).all() == []


def test_an_expert_gone_from_the_roster_meanwhile_is_said_on_the_page(
    session: Session,
    engine: Engine,
    search_backend: SearchBackend,
    make_client: Callable[[], TestClient],
) -> None:
    world = _roster(session, engine, search_backend)
    fatou_id = world.fatou.id or 0
    browser = log_in_as(make_client(), world.member.email)
    _, action = _suggest_form(
        soup_of(browser.get("/institution/experts", params={"q": "épidémiologie"})), fatou_id
    )
    # She makes her profile visible to coordinators only while the page is open.
    world.fatou.visibility = "coordinators"
    session.add(world.fatou)
    session.commit()
    reindex_all(engine, search_backend)

    refused = post_form(browser, action, {"need_id": world.arabic_need.id})
    assert refused.status_code == 404
    page = soup_of(refused)
    # Her card is gone: why the suggestion was not sent is said above the results.
    assert page.select_one(f"[data-suggest='{fatou_id}']") is None
    said = page.select_one(f"[data-suggest-refused='{fatou_id}'] [role=alert]")
    assert text_of(said) == "This expert is no longer in the roster you can see."
    assert _kept_search(page) == ("épidémiologie", [])
    assert "Fatou Sarr" not in refused.text
    session.expire_all()
    assert session.exec(select(ExpertSuggestion)).all() == []


def test_refusals_in_arabic_are_said_in_arabic_beside_the_card(
    session: Session,
    engine: Engine,
    search_backend: SearchBackend,
    make_client: Callable[[], TestClient],
) -> None:
    world = _roster(session, engine, search_backend)
    fatou_id = world.fatou.id or 0
    world.member.locale = "ar"
    session.add(world.member)
    session.commit()
    browser = log_in_as(make_client(), world.member.email)
    refused = post_form(
        browser, f"/institution/experts/{fatou_id}/suggest?q=%C3%A9pid%C3%A9miologie", {}
    )
    assert refused.status_code == 422
    said = error_beside(refused, f"suggest-need-{fatou_id}")
    assert said and "Choose" not in said and any("\u0600" <= c <= "\u06ff" for c in said)
    assert _kept_search(soup_of(refused))[0] == "épidémiologie"


def test_crafted_suggestions_are_refused_and_record_nothing(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    member, institution = make_member(session)
    _, elsewhere = make_member(session, name="Autre université")
    theirs = make_need(session, institution=elsewhere, title="Pas à nous")
    expert = make_expert(session, display_name="Léa Nguyễn")
    browser = log_in_as(make_client(), member.email)
    url = f"/institution/experts/{expert.id}/suggest"

    not_a_need = post_form(browser, url, {"need_id": "12abc"})
    assert not_a_need.status_code == 422
    # Another institution's need is not found, said on the roster.
    assert post_form(browser, url, {"need_id": theirs.id}).status_code == 404
    assert post_form(browser, "/institution/experts/999999/suggest", {}).status_code == 422
    session.expire_all()
    assert session.exec(select(ExpertSuggestion)).all() == []


def test_a_suggested_expert_no_longer_open_to_institutions_is_not_offerable(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    coordinator = make_user(session, role=Role.COORDINATOR)
    member, institution = make_member(session)
    need = make_need(session, institution=institution)
    expert = make_expert(session, display_name="Nadia El Amrani")
    browser = log_in_as(make_client(), member.email)
    assert (
        post_form(browser, f"/institution/experts/{expert.id}/suggest", {"need_id": need.id})
    ).status_code == 303
    expert.visibility = "coordinators"
    session.add(expert)
    session.commit()

    staff = log_in_as(make_client(), coordinator.email)
    item = soup_of(staff.get(f"/coordinator/needs/{need.id}")).select_one(
        f"[data-interested-expert='{expert.id}']"
    )
    assert item is not None and item.select_one("form") is None
    assert "visible to coordinators only" in text_of(item.select_one("[data-unavailable]"))
    refused = post_form(staff, f"/coordinator/needs/{need.id}/interested/{expert.id}", {})
    assert refused.status_code == 409
    session.expire_all()
    assert session.exec(select(Engagement)).all() == []
