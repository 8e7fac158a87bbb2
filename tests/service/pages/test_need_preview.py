"""The need form's preview: how many experts could match the need being written, never who."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.core.indexing import reindex_all
from service.core.policy import Reader, ReaderKind
from service.core.preview import preview_count
from service.models import Role
from service.models.types import utcnow
from service.schemas.needs import NeedPreview
from service.search import SearchBackend
from tests.conftest import csrf_token
from tests.factories import make_expert, make_institution, make_member, make_need, make_user
from tests.service.pages.helpers import h1, log_in_as, post_form, soup_of, text_of

HTMX = {"HX-Request": "true"}
# A member of a verified institution: who may preview a need.
MEMBER = Reader(ReaderKind.MEMBER, user_id=1, institution_id=1)
TODAY = utcnow().date()
# Far enough ahead that the "ended" expert below is out of the window, but still available now.
WINDOW = {
    "start_from": TODAY + timedelta(days=60),
    "start_until": TODAY + timedelta(days=90),
    "duration_weeks": 6,
}
NAMES = {
    "counted": "Awa Diallo",
    "hybrid": "Moussa Sy",
    "inactive": "Inactive Ibrahima",
    "no_consent": "Private Penda",
    "stale": "Stale Samba",
    "mission_only": "Mission Mariama",
    "english_only": "English Eric",
    "ended": "Ending Fatou",
    "unrelated": "Hydrologist Hawa",
}


@pytest.fixture
def world(session: Session, engine: Engine, search_backend: SearchBackend) -> dict[str, Any]:
    """Epidemiologists who pass or fail one fact each, and one hydrologist; all indexed."""
    now = utcnow()
    # Everyone is free from today for a long while, unless said otherwise.
    free = {"available_from": TODAY, "available_until": TODAY + timedelta(days=400)}
    experts = {
        "counted": make_expert(session, display_name=NAMES["counted"], **free),
        "hybrid": make_expert(session, display_name=NAMES["hybrid"], modes=["hybrid"], **free),
        "inactive": make_expert(session, display_name=NAMES["inactive"], active=False, **free),
        "no_consent": make_expert(
            session, display_name=NAMES["no_consent"], consent_matching_at=None, **free
        ),
        "stale": make_expert(
            session,
            display_name=NAMES["stale"],
            availability_confirmed_at=now - timedelta(days=200),
            **free,
        ),
        "mission_only": make_expert(
            session, display_name=NAMES["mission_only"], modes=["mission"], **free
        ),
        "english_only": make_expert(
            session,
            display_name=NAMES["english_only"],
            languages=[{"code": "en", "level": "native"}],
            **free,
        ),
        "ended": make_expert(
            session,
            display_name=NAMES["ended"],
            available_from=TODAY,
            available_until=TODAY + timedelta(days=30),
        ),
        "unrelated": make_expert(
            session,
            display_name=NAMES["unrelated"],
            headline="Hydrologist",
            bio="River basin planning and flood modelling.",
            skills=["hydrology", "GIS"],
            **free,
        ),
    }
    session.commit()
    reindex_all(engine, search_backend)
    return experts


def _need(**fields: Any) -> NeedPreview:
    values: dict[str, Any] = {
        "title": "Epidemiology module",
        "description": "Co-teach a remote module on field surveillance.",
        "required_skills": ["epidemiology"],
        "mode": "remote",
        "languages": ["fr"],
    }
    values.update(fields)
    return NeedPreview.model_validate(values)


def test_counts_the_experts_who_pass_every_fact_and_share_a_word(
    world: dict[str, Any], session: Session, search_backend: SearchBackend
) -> None:
    # Without dates: the counted, the hybrid and the one whose availability ends soon.
    assert preview_count(session, search_backend, _need(), reader=MEMBER) == 3
    # With dates, the one whose availability ends before them drops out.
    assert preview_count(session, search_backend, _need(**WINDOW), reader=MEMBER) == 2
    # Without a required language, the English speaker is in.
    assert preview_count(session, search_backend, _need(languages=[], **WINDOW), reader=MEMBER) == 3
    # A mission: the mission-only expert is in; hybrid experts accept every mode.
    assert (
        preview_count(session, search_backend, _need(mode="mission", **WINDOW), reader=MEMBER) == 3
    )
    # A hybrid need accepts experts of either mode (the matcher ranks partial ones down).
    assert (
        preview_count(session, search_backend, _need(mode="hybrid", **WINDOW), reader=MEMBER) == 3
    )
    # Words nobody shares: nobody; the hydrologist is found by their own words.
    cardiac = _need(title="Cardiac surgery", description="Valve repair", required_skills=[])
    assert preview_count(session, search_backend, cardiac, reader=MEMBER) == 0
    hydrology = _need(
        title="Flood modelling", description="River basins", required_skills=["hydrology"]
    )
    assert preview_count(session, search_backend, hydrology, reader=MEMBER) == 1


def test_a_stricter_reconfirmation_drops_experts_who_confirmed_long_ago(
    world: dict[str, Any], session: Session, search_backend: SearchBackend
) -> None:
    assert preview_count(session, search_backend, _need(), reconfirm_days=365, reader=MEMBER) == 4
    assert preview_count(session, search_backend, _need(), reconfirm_days=90, reader=MEMBER) == 3


def _verified_member(client: TestClient, session: Session, *, locale: str = "en") -> Any:
    user = make_user(session, role=Role.INSTITUTION, locale=locale)
    institution = make_institution(session, member=user)
    log_in_as(client, user.email)
    return institution


def _form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "Epidemiology module",
        "description": "Co-teach a remote module on field surveillance.",
        "required_skills": "epidemiology",
        "sector": "health",
        "mode": "remote",
        "duration_weeks": "6",
        "hours_per_week": "4",
        "start_from": WINDOW["start_from"].isoformat(),
        "start_until": WINDOW["start_until"].isoformat(),
        "languages": ["fr", ""],
        "city": "Dakar",
        "status": "open",
    }
    data.update(overrides)
    return data


def test_htmx_gets_a_fragment_with_the_count_and_no_name(
    world: dict[str, Any], client: TestClient, session: Session
) -> None:
    _verified_member(client, session)
    response = client.post(
        "/institution/needs/preview",
        data={**_form(), "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert response.status_code == 200
    soup = soup_of(response)
    assert soup.find("html") is None and soup.find("form") is None  # a fragment, not a page
    assert text_of(soup.select_one("[data-preview-count]")) == "2 experts could match this need"
    text = response.text
    for name in NAMES.values():
        assert name not in text
    assert "@example.org" not in text and "Epidemiologist" not in text


def test_one_expert_is_singular_and_no_words_asks_for_a_description(
    world: dict[str, Any], client: TestClient, session: Session
) -> None:
    _verified_member(client, session)
    form = _form(title="Flood modelling", description="River basins", required_skills="hydrology")
    response = client.post(
        "/institution/needs/preview",
        data={**form, "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert text_of(soup_of(response).select_one("[data-preview-count]")) == (
        "1 expert could match this need"
    )
    response = client.post(
        "/institution/needs/preview",
        data={
            **_form(title="", description="", required_skills=""),
            "csrf_token": csrf_token(client),
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    assert soup_of(response).select_one("[data-preview-count]") is None
    assert "Describe what you need" in text_of(
        soup_of(response).select_one("[data-preview-problem]")
    )
    response = client.post(
        "/institution/needs/preview",
        data={**_form(start_from="not a date"), "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert "Check the dates" in text_of(soup_of(response).select_one("[data-preview-problem]"))


def test_without_javascript_the_form_comes_back_with_the_count(
    world: dict[str, Any], client: TestClient, session: Session
) -> None:
    _verified_member(client, session)
    response = post_form(client, "/institution/needs/preview", _form())
    assert response.status_code == 200
    soup = soup_of(response)
    assert h1(response) == "Post a need"
    form = soup.select_one("main form")
    assert form is not None and form["action"] == "/institution/needs/new"
    assert soup.select_one("#title")["value"] == "Epidemiology module"  # type: ignore[index]
    assert soup.select_one("#language-fr").has_attr("checked")  # type: ignore[union-attr]
    preview = soup.select_one("#need-preview")
    assert text_of(preview.select_one("[data-preview-count]")) == (  # type: ignore[union-attr]
        "2 experts could match this need"
    )
    for name in NAMES.values():
        assert name not in response.text


def test_the_edit_form_previews_and_stays_the_edit_form(
    world: dict[str, Any], client: TestClient, session: Session
) -> None:
    institution = _verified_member(client, session)
    need = make_need(session, institution=institution, title="Epidemiology module")
    page = soup_of(client.get(f"/institution/needs/{need.id}/edit"))
    button = page.select_one("button[data-preview-button]")
    assert (
        button is not None and button["formaction"] == f"/institution/needs/preview?need={need.id}"
    )
    response = post_form(client, f"/institution/needs/preview?need={need.id}", _form())
    soup = soup_of(response)
    assert h1(response) == "Edit need"
    assert soup.select_one("main form")["action"] == f"/institution/needs/{need.id}/edit"  # type: ignore[index]
    assert "2 experts could match this need" in text_of(soup.select_one("#need-preview"))


def test_the_form_asks_for_the_preview_as_it_changes(client: TestClient, session: Session) -> None:
    _verified_member(client, session)
    soup = soup_of(client.get("/institution/needs/new"))
    form = soup.select_one("main form")
    assert form is not None
    assert form["hx-post"] == "/institution/needs/preview"
    assert form["hx-trigger"] == "change delay:500ms"
    assert form["hx-target"] == "#need-preview"
    buttons = form.select("button[type=submit]")
    # Enter in a field sends the form with its first button: posting, not previewing.
    assert [text_of(b) for b in buttons] == ["Publish the need Save the draft", "Preview"]
    # The first says what it does with the status chosen (the other label is hidden by CSS).
    assert text_of(buttons[0].select_one(".when-open")) == "Publish the need"
    assert text_of(buttons[0].select_one(".when-draft")) == "Save the draft"
    assert buttons[1]["formaction"] == "/institution/needs/preview"
    status = soup.select_one("#need-preview")
    assert status is not None and status["aria-live"] == "polite"
    assert "Preview how many experts" in text_of(status)


def test_the_preview_is_in_french_for_a_french_member(
    world: dict[str, Any], client: TestClient, session: Session
) -> None:
    _verified_member(client, session, locale="fr")
    response = client.post(
        "/institution/needs/preview",
        data={**_form(), "csrf_token": csrf_token(client)},
        headers=HTMX,
    )
    assert text_of(soup_of(response).select_one("[data-preview-count]")) == (
        "2 experts pourraient correspondre à ce besoin"
    )


@pytest.mark.parametrize("who", ["expert", "coordinator", "unverified_member"])
def test_only_verified_members_may_preview(who: str, client: TestClient, session: Session) -> None:
    if who == "unverified_member":
        user, _ = make_member(session, verified=False)
    else:
        user = make_user(session, role=Role.EXPERT if who == "expert" else Role.COORDINATOR)
    log_in_as(client, user.email)
    response = post_form(client, "/institution/needs/preview", _form())
    assert response.status_code == 403
    assert "could match" not in response.text


def test_anonymous_visitors_are_sent_to_log_in(client: TestClient) -> None:
    response = post_form(client, "/institution/needs/preview", _form())
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_the_preview_needs_the_csrf_token(
    world: dict[str, Any], client: TestClient, session: Session
) -> None:
    _verified_member(client, session)
    response = client.post("/institution/needs/preview", data=_form(), headers=HTMX)
    assert response.status_code == 403
    assert "could match" not in response.text
    response = client.post(
        "/institution/needs/preview",
        data={**_form(), "csrf_token": "forged"},
        headers=HTMX,
    )
    assert response.status_code == 403
