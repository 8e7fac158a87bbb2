"""A declined institution is its own state everywhere: out of the verification queue, and its
own pages agree that it was declined, with the coordinator's reason and what it can do next.
Correcting its profile sends it back to the queue."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session

from service.models import Institution, Role
from tests.factories import make_institution, make_member, make_user
from tests.service.pages.helpers import log_in_as, post_form, soup_of, text_of

REASON = (
    "Doublon : l'Hôpital Principal de Dakar est déjà inscrit. "
    "Demandez à Mme Ndiaye de vous ajouter."
)


def declined_world(
    session: Session, make_client: Callable[[], TestClient]
) -> tuple[TestClient, TestClient, Institution]:
    """Two institutions awaiting verification; a coordinator declines one of them on its page."""
    make_institution(session, verified=False, name="Fondation Kay Nou", country="HT")
    member, institution = make_member(
        session, verified=False, name="Hopital principal de Dakar", type="hospital"
    )
    coordinator_user = make_user(session, role=Role.COORDINATOR)
    coordinator = log_in_as(make_client(), coordinator_user.email)
    response = post_form(
        coordinator,
        f"/coordinator/institutions/{institution.id}/review",
        {"decision": "declined", "reason": REASON},
    )
    assert response.status_code == 303, response.text[:1000]
    return coordinator, log_in_as(make_client(), member.email), institution


def test_a_declined_institution_leaves_the_verification_queue(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    coordinator, _, institution = declined_world(session, make_client)
    dashboard = text_of(soup_of(coordinator.get("/coordinator")))
    assert "1 institutions to verify" in dashboard or "1 institution to verify" in dashboard
    queue = soup_of(coordinator.get("/coordinator/institutions?status=pending"))
    names = [text_of(a) for a in queue.select("#institutions-results td a")]
    assert "Fondation Kay Nou" in names and "Hopital principal de Dakar" not in names
    declined = soup_of(coordinator.get("/coordinator/institutions?status=declined"))
    rows = declined.select("#institutions-results tbody tr")
    assert [text_of(r.select_one("td a")) for r in rows] == ["Hopital principal de Dakar"]
    assert text_of(rows[0].select_one("[data-verification]")) == "Verification declined"
    page = soup_of(coordinator.get(f"/coordinator/institutions/{institution.id}"))
    assert text_of(page.select_one("[data-verification]")) == "Verification declined"
    assert REASON in text_of(page.select_one("[data-review-note]"))


def test_the_declined_institutions_pages_agree_and_say_why_and_what_next(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    _, member, _ = declined_world(session, make_client)
    for path in ("/institution", "/institution/profile"):
        page = soup_of(member.get(path))
        badge = page.select_one("[data-verification]")
        assert badge is not None and text_of(badge) == "Verification declined", path
        said = text_of(page)
        assert "Pending verification" not in said and "Not verified" not in said, path
        assert REASON in said, path
        assert "goes back to the coordinators" in said, path
    form = soup_of(member.get("/institution/needs/new"))
    note = text_of(form.select_one("[data-drafts-only]"))
    assert note.startswith("A coordinator declined to verify your institution")
    assert "awaits verification" not in text_of(form)


def test_a_declined_institution_in_french_reads_it_in_french(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    _, member, _ = declined_world(session, make_client)
    post_form(member, "/language", {"locale": "fr", "next": "/institution"})
    page = soup_of(member.get("/institution"))
    assert text_of(page.select_one("[data-verification]")) == "Vérification refusée"
    assert "Son motif" in text_of(page.select_one("[data-verification-reason]"))


def test_correcting_the_profile_sends_the_institution_back_to_the_queue(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    coordinator, member, institution = declined_world(session, make_client)
    response = post_form(
        member,
        "/institution/profile",
        {
            "name": "Hôpital Principal de Dakar — service de gynécologie",
            "type": "hospital",
            "country": "SN",
            "city": "Dakar",
            "website": "https://hopitalprincipal.sn",
            "description": "Service de gynécologie-obstétrique, distinct de l'hôpital inscrit.",
        },
    )
    assert response.status_code == 303, response.text[:1000]
    queue = soup_of(coordinator.get("/coordinator/institutions?status=pending"))
    names = [text_of(a) for a in queue.select("#institutions-results td a")]
    assert "Hôpital Principal de Dakar — service de gynécologie" in names
    session.expire_all()
    stored = session.get(Institution, institution.id)
    assert stored is not None and stored.declined_at is None and not stored.verified
