"""The confirm form's folded terms on /institution/proposals (walk, item 5): refused dates came
back under a closed fold, their error out of sight; 0 agreed hours was taken silently."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from service.models import Engagement
from tests.service.pages.helpers import error_beside, soup_of, text_of
from tests.service.pages.html_forms import HtmlForm
from tests.service.parties import engagement_of, member_of_institution


def _confirm(client: TestClient, session: Session, **typed: str) -> tuple[int, object]:
    _, institution = member_of_institution(client, session)
    engagement = engagement_of(session, institution, "accepted")
    page = client.get("/institution/proposals")
    fold = soup_of(page).select_one(f"form[action='/engagements/{engagement.id}/confirm'] details")
    assert fold is not None and not fold.has_attr("open")  # folded while nothing is wrong
    form = HtmlForm.of(page, f"/engagements/{engagement.id}/confirm")
    for name, value in typed.items():
        form.type(name, value)
    return int(engagement.id or 0), form.submit(client)


def test_refused_dates_open_their_fold_and_point_to_the_error(
    client: TestClient, session: Session
) -> None:
    engagement_id, response = _confirm(
        client, session, start_date="2027-02-01", end_date="2027-01-15", agreed_hours="24"
    )
    assert response.status_code == 422  # type: ignore[attr-defined]
    field = f"end_date-{engagement_id}-confirm"
    assert error_beside(response, field) == "The end date must not be before the start date."  # type: ignore[arg-type]
    fold = soup_of(response).select_one(
        f"form[action='/engagements/{engagement_id}/confirm'] details"
    )  # type: ignore[arg-type]
    assert fold is not None and fold.has_attr("open")
    summary = fold.select_one("summary")
    assert summary is not None and summary["aria-describedby"] == f"{field}-error"
    assert session.get(Engagement, engagement_id).status == "accepted"  # type: ignore[union-attr]


def test_zero_agreed_hours_is_refused_with_a_clear_message(
    client: TestClient, session: Session
) -> None:
    engagement_id, response = _confirm(
        client, session, start_date="2027-02-01", end_date="2027-03-12", agreed_hours="0"
    )
    assert response.status_code == 422  # type: ignore[attr-defined]
    said = error_beside(response, f"agreed_hours-{engagement_id}-confirm")  # type: ignore[arg-type]
    assert said == "Write the agreed hours as a number above 0, or leave the field empty."
    page = soup_of(response)  # type: ignore[arg-type]
    assert page.select_one(f"form[action='/engagements/{engagement_id}/confirm'] details[open]")
    assert "agreed hours" in text_of(page.select_one("[data-error-summary]")).lower()
    session.expire_all()
    assert session.get(Engagement, engagement_id).status == "accepted"  # type: ignore[union-attr]


def test_hours_left_empty_are_still_accepted(client: TestClient, session: Session) -> None:
    engagement_id, response = _confirm(
        client, session, start_date="2027-02-01", end_date="2027-03-12", agreed_hours=""
    )
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    session.expire_all()
    stored = session.get(Engagement, engagement_id)
    assert stored is not None and stored.status == "confirmed" and stored.agreed_hours is None


def test_the_agreed_hours_say_their_unit(client: TestClient, session: Session) -> None:
    _, institution = member_of_institution(client, session)
    engagement = engagement_of(session, institution, "accepted")
    page = soup_of(client.get("/institution/proposals"))
    field = f"agreed_hours-{engagement.id}-confirm"
    assert text_of(page.select_one(f"label[for={field}]")) == "Agreed hours, in total"
    assert text_of(page.select_one(f"#{field}-help")) == "For the whole engagement, not per week."
    assert page.select_one(f"#{field}")["aria-describedby"] == f"{field}-help"  # type: ignore[index]
