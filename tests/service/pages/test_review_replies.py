"""An institution asked for more information answers the coordinator with a message, where it
reads the question: the coordinator reads the answer beside the question with its date, is told
in the app and by email in their language, and the institution shows "answered, awaiting
review" until the coordinator decides. Refused, the home page comes back with why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.models import (
    Institution,
    InstitutionReply,
    Notification,
    OutgoingEmail,
    Role,
    User,
)
from tests.factories import PASSWORD, make_member, make_user
from tests.service.pages.helpers import (
    error_beside,
    flash_messages,
    log_in_as,
    post_form,
    soup_of,
    text_of,
)

QUESTION = "Merci d'ajouter le lien vers l'arrêté d'accréditation de votre faculté."
ANSWER = (
    "L'arrêté n° 2019-117 du ministère est en ligne : https://univ-oran1.example/accreditation. "
    "وأرفقنا نسخة من قرار الاعتماد الصادر عن الوزارة."
)


@dataclass
class Asked:
    member: User
    institution: Institution
    coordinator: User
    staff: TestClient
    browser: TestClient


def _asked(session: Session, make_client: Callable[[], TestClient], *, locale: str = "ar") -> Asked:
    """A pending institution whose member reads in Arabic (or `locale`), asked a question by a
    coordinator who reads in French."""
    member, institution = make_member(session, verified=False, name="جامعة وهران 1 أحمد بن بلة")
    member.locale = locale
    member.display_name = "Karima Benali"
    coordinator = make_user(session, role=Role.COORDINATOR, locale="fr")
    coordinator.display_name = "Aïssatou Ndiaye"
    session.add_all([member, coordinator])
    session.commit()
    staff = log_in_as(make_client(), coordinator.email)
    asked = post_form(
        staff,
        f"/coordinator/institutions/{institution.id}/review",
        {"decision": "info_requested", "reason": QUESTION},
    )
    assert asked.status_code == 303
    return Asked(member, institution, coordinator, staff, log_in_as(make_client(), member.email))


def _reply_form(browser: TestClient) -> dict[str, str]:
    """Gets the answer form's hidden fields, checking it is on the home page."""
    page = soup_of(browser.get("/institution"))
    form = page.select_one("form[data-reply-form]")
    assert form is not None, "no answer form on the home page"
    assert form["action"] == "/institution/reply" and form["method"] == "post"
    assert form.select_one("textarea[name=message]") is not None
    return {
        str(i["name"]): str(i["value"])
        for i in form.select("input[type=hidden]")
        if i["name"] != "csrf_token"
    }


def test_an_answer_reaches_the_coordinator_beside_the_question(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = _asked(session, make_client)
    hidden = _reply_form(world.browser)
    assert set(hidden) == {"asked_at"}

    sent = post_form(world.browser, "/institution/reply", {**hidden, "message": f"  {ANSWER}\n"})
    assert sent.status_code == 303 and sent.headers["location"] == "/institution#review-reply"
    home = world.browser.get("/institution")
    [said] = flash_messages(home)
    assert said == "أُرسل ردكم: أُبلغ المنسق وسيعيد النظر في مؤسستكم."
    page = soup_of(home)
    section = page.select_one("[data-review]")
    assert section is not None and section["data-review"] == "answered"
    badge = page.select_one("[data-verification]")
    assert badge is not None and badge["data-verification"] == "answered"
    assert QUESTION in text_of(section)
    replies = [text_of(li) for li in page.select("[data-replies] [data-reply]")]
    assert len(replies) == 1 and ANSWER in replies[0]
    # Still asked: the member may add to the answer.
    assert page.select_one("form[data-reply-form]") is not None

    session.expire_all()
    reply = session.exec(select(InstitutionReply)).one()
    assert (reply.message, reply.question) == (ANSWER, QUESTION)
    assert reply.author_id == world.member.id and reply.created_at is not None
    # The request that asked the members is done; the coordinator is told, in French.
    asked = session.exec(
        select(Notification).where(Notification.kind == "institution.info_requested")
    ).one()
    assert asked.done_at is not None
    told = session.exec(
        select(Notification).where(Notification.kind == "institution.answered")
    ).one()
    assert told.user_id == world.coordinator.id
    assert told.link == f"/coordinator/institutions/{world.institution.id}#replies"
    mail = session.exec(
        select(OutgoingEmail).where(OutgoingEmail.kind == "institution.answered")
    ).one()
    assert mail.to_address == world.coordinator.email
    assert world.institution.name in mail.subject and "Bonjour Aïssatou Ndiaye" in mail.body
    assert ANSWER not in mail.body  # the words stay on the page, behind the log-in

    # The coordinator reads the answer beside the question, with its date and author.
    review = soup_of(world.staff.get(f"/coordinator/institutions/{world.institution.id}"))
    note = review.select_one("[data-review-note]")
    assert note is not None and QUESTION in text_of(note)
    item = review.select_one("#replies [data-reply]")
    assert item is not None
    assert text_of(item.select_one("blockquote")) == ANSWER
    said = text_of(item.select_one(".meta"))
    assert said.startswith("Karima Benali") and str(reply.created_at.year) in said
    assert item.select_one("[data-reply-question]") is None
    badge = review.select_one("[data-verification]")
    assert badge is not None and badge["data-verification"] == "answered"
    listing = soup_of(world.staff.get("/coordinator/institutions?status=pending"))
    assert [str(b["data-verification"]) for b in listing.select("[data-verification]")] == [
        "answered"
    ]

    # The coordinator verifies: the answer is settled, nothing more is asked.
    verified = post_form(
        world.staff, f"/coordinator/institutions/{world.institution.id}/verify", {}
    )
    assert verified.status_code == 303
    page = soup_of(world.browser.get("/institution"))
    assert page.select_one("form[data-reply-form]") is None
    session.expire_all()
    institution = session.get(Institution, world.institution.id)
    assert institution is not None and institution.answered_at is None and institution.verified


def test_an_empty_or_overlong_answer_comes_back_beside_the_field(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = _asked(session, make_client, locale="en")
    hidden = _reply_form(world.browser)

    empty = post_form(world.browser, "/institution/reply", {**hidden, "message": "  \n "})
    assert empty.status_code == 422
    assert error_beside(empty, "message") == "This field is required."

    long = "Réponse détaillée ; " * 120
    too_long = post_form(world.browser, "/institution/reply", {**hidden, "message": long})
    assert too_long.status_code == 422
    assert "2000" in error_beside(too_long, "message")
    page = soup_of(too_long)
    typed = page.select_one("textarea[name=message]")
    assert typed is not None and typed.get_text() == long
    assert QUESTION in text_of(page.select_one("[data-review]"))
    session.expire_all()
    assert session.exec(select(InstitutionReply)).all() == []
    assert session.get(Institution, world.institution.id).answered_at is None  # type: ignore[union-attr]


def test_an_answer_after_the_coordinator_decided_meanwhile_is_a_409(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = _asked(session, make_client, locale="en")
    hidden = _reply_form(world.browser)
    post_form(
        world.staff,
        f"/coordinator/institutions/{world.institution.id}/review",
        {"decision": "declined", "reason": "Établissement introuvable au registre."},
    )

    late = post_form(world.browser, "/institution/reply", {**hidden, "message": ANSWER})
    assert late.status_code == 409
    page = soup_of(late)
    assert "decided on your institution meanwhile" in text_of(page.select_one(".form-error"))
    section = page.select_one("[data-review]")
    assert section is not None and section["data-review"] == "declined"
    assert page.select_one("form[data-reply-form]") is None
    # What they wrote is not lost: shown to be copied.
    assert text_of(page.select_one("[data-unsent-reply] blockquote")) == ANSWER
    session.expire_all()
    assert session.exec(select(InstitutionReply)).all() == []
    assert (
        session.exec(select(Notification).where(Notification.kind == "institution.answered")).all()
        == []
    )


def test_an_answer_to_a_question_replaced_meanwhile_keeps_the_text_and_shows_the_new_one(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = _asked(session, make_client, locale="en")
    hidden = _reply_form(world.browser)
    again = "Pouvez-vous aussi préciser le nombre d'étudiants inscrits ?"
    post_form(
        world.staff,
        f"/coordinator/institutions/{world.institution.id}/review",
        {"decision": "info_requested", "reason": again},
    )

    late = post_form(world.browser, "/institution/reply", {**hidden, "message": ANSWER})
    assert late.status_code == 409
    page = soup_of(late)
    assert "asked another question meanwhile" in text_of(page.select_one(".form-error"))
    assert again in text_of(page.select_one("[data-review]"))
    typed = page.select_one("textarea[name=message]")
    assert typed is not None and typed.get_text() == ANSWER
    # The form now carries the new question's time: sent again, it is accepted.
    resent = {
        str(i["name"]): str(i["value"])
        for i in page.select("form[data-reply-form] input[type=hidden]")
        if i["name"] != "csrf_token"
    }
    assert resent["asked_at"] != hidden["asked_at"]
    assert (
        post_form(world.browser, "/institution/reply", {**resent, "message": ANSWER}).status_code
        == 303
    )
    session.expire_all()
    assert [r.question for r in session.exec(select(InstitutionReply)).all()] == [again]


def test_asked_again_after_an_answer_the_coordinator_reads_the_earlier_exchange(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = _asked(session, make_client)
    post_form(
        world.browser, "/institution/reply", {**_reply_form(world.browser), "message": ANSWER}
    )
    again = "Merci ; et le nombre d'enseignants-chercheurs ?"
    post_form(
        world.staff,
        f"/coordinator/institutions/{world.institution.id}/review",
        {"decision": "info_requested", "reason": again},
    )
    home = soup_of(world.browser.get("/institution"))
    assert home.select_one("[data-review]")["data-review"] == "info_requested"  # type: ignore[index]
    # The new question has no answer yet on the member's page.
    assert home.select("[data-replies] [data-reply]") == []

    review = soup_of(world.staff.get(f"/coordinator/institutions/{world.institution.id}"))
    earlier = review.select_one("#replies [data-reply] [data-reply-question]")
    assert earlier is not None and QUESTION in text_of(earlier)
    assert review.select_one("[data-verification]")["data-verification"] == "info_requested"  # type: ignore[index]


def test_nothing_to_answer_without_a_question(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    member, _ = make_member(session, verified=False, name="Clinique Sainte-Thérèse")
    browser = log_in_as(make_client(), member.email)
    assert soup_of(browser.get("/institution")).select_one("form[data-reply-form]") is None
    refused = post_form(browser, "/institution/reply", {"message": ANSWER})
    assert refused.status_code == 409
    session.expire_all()
    assert session.exec(select(InstitutionReply)).all() == []


def test_an_erased_member_takes_their_answer_away_and_exported_it_before(
    session: Session, make_client: Callable[[], TestClient]
) -> None:
    world = _asked(session, make_client, locale="fr")
    sent = post_form(
        world.browser, "/institution/reply", {**_reply_form(world.browser), "message": ANSWER}
    )
    assert sent.status_code == 303
    exported = world.browser.get("/api/me/data").json()
    assert [r["message"] for r in exported["institution_replies"]] == [ANSWER]

    erased = post_form(world.browser, "/account/delete", {"password": PASSWORD})
    assert erased.status_code == 303
    session.expire_all()
    reply = session.exec(select(InstitutionReply)).one()
    assert reply.message == "[erased]" and reply.question == QUESTION
    review = soup_of(world.staff.get(f"/coordinator/institutions/{world.institution.id}"))
    item = review.select_one("#replies [data-reply]")
    assert item is not None and ANSWER not in text_of(item)
    # The coordinator reads in French: the answer's author is no longer named.
    assert text_of(item.select_one(".meta")).startswith("Un ancien membre a répondu le")
