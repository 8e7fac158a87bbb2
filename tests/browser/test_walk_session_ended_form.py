"""A session that ends while a person fills in a form loses nothing they typed: after logging in
again they are back on the form, filled as they sent it, told so in their language, and send
it themselves. Never a password or a CSRF token kept; never another account's form filled."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from service.models import (
    EngagementFeedback,
    ExpertProfile,
    Institution,
    InstitutionMember,
    Need,
    User,
    UserSession,
)
from service.models.types import utcnow
from tests.browser.conftest import LiveSite
from tests.factories import (
    PASSWORD,
    make_engagement,
    make_expert,
    make_member,
    make_need,
    make_user,
)

KEPT = "homeward.form.kept"
RESTORED = {
    "fr": (
        "Ce que vous aviez saisi avant la fin de votre session est de retour dans ce formulaire. "
        "Rien n'est encore enregistré : vérifiez-le, puis envoyez-le."
    ),
    "ar": "عاد ما كتبته قبل انتهاء جلستك إلى هذا النموذج. لم يُحفظ بعد: راجعه ثم أرسله.",
}
TITLE = "Co-enseigner l'épidémiologie de terrain — تدريس علم الأوبئة الميداني"
DESCRIPTION = (
    "Notre faculté de médecine de Saint-Louis cherche un·e épidémiologiste pour co-enseigner\n"
    "un module de six semaines, à distance, avec deux séances en direct par semaine.\n"
    "نبحث عن خبير في علم الأوبئة للتدريس عن بعد."
)


def _end_sessions(site: LiveSite, email: str) -> None:
    """Ends every session of an account on the server, as its expiry would."""
    with site.session() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        session.execute(
            update(UserSession)
            .where(col(UserSession.user_id) == user.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()


def _log_in_here(page: Any, email: str) -> None:
    """Logs in on the log-in page the site led to (it carries where to go back)."""
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")


def _kept(page: Any) -> str:
    return str(page.evaluate(f"() => window.sessionStorage.getItem({KEPT!r}) || ''"))


def _member(site: LiveSite, locale: str) -> str:
    with site.session() as session:
        member, _institution = make_member(session, verified=True, name="Université Gaston-Berger")
        member.locale = locale
        session.add(member)
        session.commit()
        return member.email


def test_the_need_form_comes_back_filled_after_logging_in_again(
    visitor_factory: Any, live_site: LiveSite
) -> None:
    email = _member(live_site, "fr")
    person = visitor_factory(locale="fr-FR")
    person.log_in(email)
    page = person.page
    page.goto("/institution/needs/new")
    start_from, start_until = date(2027, 2, 1), date(2027, 3, 15)
    page.fill("#title", TITLE)
    page.fill("#description", DESCRIPTION)
    page.fill("#required_skills", "épidémiologie, biostatistique, علم الأوبئة")
    page.select_option("#sector", "health")
    page.select_option("#mode", "hybrid")
    page.fill("#duration_weeks", "6")
    page.fill("#hours_per_week", "5")
    page.fill("#experts_wanted", "2")
    page.fill("#start_from", start_from.isoformat())
    page.fill("#start_until", start_until.isoformat())
    page.fill("#city", "Saint-Louis — سان لوي")
    page.check("#live_sessions")
    for code in ("fr", "ar"):
        page.check(f"#language-{code}")
    page.select_option("#language-other", "wo")
    supports = page.locator("input[name=support]")
    for index in range(supports.count()):
        supports.nth(index).check()
    page.select_option("#status", "draft")

    _end_sessions(live_site, email)
    with page.expect_navigation():
        page.click("main form[method=post] button[type=submit]:not([data-preview-button])")
    assert "/login?next=/institution/needs/new" in page.url
    assert person.flash() == [
        "Votre session avait pris fin : ce que vous avez envoyé n'a donc pas été enregistré. "
        "Reconnectez-vous, puis envoyez-le de nouveau."
    ]
    kept = _kept(page)
    assert TITLE in kept and "csrf_token" not in kept and PASSWORD not in kept

    _log_in_here(page, email)
    assert page.url.endswith("/institution/needs/new")
    notice = page.locator("[data-form-restored]")
    assert notice.inner_text() == RESTORED["fr"]
    assert page.input_value("#title") == TITLE
    assert page.input_value("#description") == DESCRIPTION
    assert page.input_value("#required_skills") == "épidémiologie, biostatistique, علم الأوبئة"
    assert page.input_value("#sector") == "health"
    assert page.input_value("#mode") == "hybrid"
    assert [page.input_value(f"#{n}") for n in ("duration_weeks", "hours_per_week")] == ["6", "5"]
    assert page.input_value("#experts_wanted") == "2"
    assert page.input_value("#start_from") == start_from.isoformat()
    assert page.input_value("#start_until") == start_until.isoformat()
    assert page.input_value("#city") == "Saint-Louis — سان لوي"
    assert page.is_checked("#live_sessions")
    assert page.is_checked("#language-fr") and page.is_checked("#language-ar")
    assert page.input_value("#language-other") == "wo"
    assert all(supports.nth(i).is_checked() for i in range(supports.count()))
    assert page.input_value("#status") == "draft"
    person.screenshot("session-ended/need-form-restored-fr")
    # Used once: the note is gone, and nothing was saved until the person sends it.
    assert _kept(page) == ""
    with live_site.session() as session:
        assert session.exec(select(Need).where(Need.title == TITLE)).first() is None

    with page.expect_navigation():
        page.click("main form[method=post] button[type=submit]:not([data-preview-button])")
    with live_site.session() as session:
        need = session.exec(select(Need).where(Need.title == TITLE)).one()
    assert need.description.replace("\r\n", "\n") == DESCRIPTION
    assert (need.mode, need.duration_weeks, need.experts_wanted) == ("hybrid", 6, 2)
    assert (need.start_from, need.start_until, need.status) == (start_from, start_until, "draft")
    assert sorted(need.languages) == ["ar", "fr", "wo"] and need.live_sessions
    page.goto("/institution/needs/new")
    assert page.locator("[data-form-restored]").count() == 0
    assert page.input_value("#title") == ""
    assert person.errors == []


def test_the_profile_comes_back_in_arabic_with_its_new_rows_and_skills(
    visitor_factory: Any, live_site: LiveSite
) -> None:
    with live_site.session() as session:
        user = make_user(session, locale="ar")
        make_expert(session, user=user, display_name="Amina Benali", skills=["hydrologie"])
        email = user.email
    person = visitor_factory(locale="ar")
    person.log_in(email)
    page = person.page
    page.goto("/expert/profile")
    page.fill("#display_name", "أمينة بن علي")
    page.fill("#headline", "مهندسة موارد مائية — hydrogéologue")
    page.fill(
        "#bio", "خبرة عشرين سنة في إدارة المياه الجوفية في المغرب العربي.\nÉtudes à Montréal."
    )
    page.fill("#skill-new", "نمذجة المياه الجوفية")
    page.keyboard.press("Enter")
    page.fill("#years_experience", "20")
    page.fill("#education", "Doctorat, École Polytechnique de Montréal")
    page.select_option("#origin_country", "DZ")
    page.select_option("#residence_country", "CA")
    page.fill("#city", "Montréal")
    page.fill("#phone", "+1 514 555 0199")
    page.fill("#hours_per_month", "12")
    page.fill("#available_from", "2027-01-04")
    page.fill("#available_until", "2027-12-17")
    page.click("[data-repeat-add]")
    rows = page.locator("[data-repeat-row]").count()
    page.select_option(f"#lang_code_{rows - 1}", "ar")
    page.select_option(f"#lang_level_{rows - 1}", "native")
    page.select_option("#visibility", "coordinators")

    _end_sessions(live_site, email)
    with page.expect_navigation():
        page.click("main form.profile-form button[type=submit]")
    assert "/login?next=/expert/profile" in page.url
    _log_in_here(page, email)
    assert page.url.endswith("/expert/profile")
    assert page.locator("[data-form-restored]").inner_text() == RESTORED["ar"]
    # The rows added for the form did not take the focus down the page: it opens at the notice.
    assert page.evaluate("() => [window.scrollY, document.activeElement.tagName]") == [0, "BODY"]
    assert page.input_value("#display_name") == "أمينة بن علي"
    assert page.input_value("#headline") == "مهندسة موارد مائية — hydrogéologue"
    assert page.input_value("#bio").startswith("خبرة عشرين سنة")
    assert page.locator("[data-tags=skills] input[value='نمذجة المياه الجوفية']").is_checked()
    assert page.input_value("#available_from") == "2027-01-04"
    assert page.input_value("#available_until") == "2027-12-17"
    assert page.input_value("#origin_country") == "DZ"
    assert page.input_value("#phone") == "+1 514 555 0199"
    assert page.input_value(f"#lang_code_{rows - 1}") == "ar"
    assert page.input_value(f"#lang_level_{rows - 1}") == "native"
    assert page.input_value("#visibility") == "coordinators"
    person.screenshot("session-ended/profile-restored-ar")

    with page.expect_navigation():
        page.click("main form.profile-form button[type=submit]")
    with live_site.session() as session:
        expert = session.exec(select(ExpertProfile).where(ExpertProfile.user_id == user.id)).one()
    assert expert.display_name == "أمينة بن علي"
    assert "نمذجة المياه الجوفية" in expert.skills and "hydrologie" in expert.skills
    assert {"code": "ar", "level": "native"} in expert.languages
    assert (expert.available_from, expert.available_until) == (date(2027, 1, 4), date(2027, 12, 17))
    assert person.errors == []


def test_another_account_logging_in_on_the_same_tab_gets_an_empty_form(
    visitor_factory: Any, live_site: LiveSite
) -> None:
    first, second = _member(live_site, "fr"), _member(live_site, "fr")
    person = visitor_factory(locale="fr-FR")
    person.log_in(first)
    page = person.page
    page.goto("/institution/needs/new")
    page.fill("#title", TITLE)
    page.fill("#city", "Saint-Louis")
    _end_sessions(live_site, first)
    with page.expect_navigation():
        page.click("main form[method=post] button[type=submit]:not([data-preview-button])")
    assert TITLE in _kept(page)

    _log_in_here(page, second)
    assert page.url.endswith("/institution/needs/new")
    assert page.locator("[data-form-restored]").count() == 0
    assert page.input_value("#title") == ""
    assert page.input_value("#city") != "Saint-Louis"  # the institution's own city, if any
    assert _kept(page) == ""
    assert person.errors == []


def test_a_form_answered_normally_keeps_nothing(visitor_factory: Any, live_site: LiveSite) -> None:
    email = _member(live_site, "fr")
    person = visitor_factory(locale="fr-FR")
    person.log_in(email)
    page = person.page
    page.goto("/institution/needs/new")
    page.fill("#title", "Former des sages-femmes à l'échographie")
    with page.expect_navigation():
        page.click("main form[method=post] button[type=submit]:not([data-preview-button])")
    # Refused (a description is required) and shown again by the site: nothing kept aside.
    assert page.locator(".error-summary").count() == 1
    kept = page.evaluate(
        "() => Object.keys(sessionStorage).filter((key) => key.startsWith('homeward.form'))"
    )
    assert kept == []
    page.goto("/institution/needs/new")
    assert page.locator("[data-form-restored]").count() == 0


def test_an_edit_kept_across_the_log_in_is_still_refused_if_the_need_changed_meanwhile(
    visitor_factory: Any, live_site: LiveSite
) -> None:
    email = _member(live_site, "fr")
    with live_site.session() as session:
        user = session.exec(select(User).where(User.email == email)).one()
        institution_id = session.exec(
            select(InstitutionMember.institution_id).where(InstitutionMember.user_id == user.id)
        ).one()
        institution = session.get(Institution, institution_id)
        assert institution is not None
        need = make_need(session, institution=institution, title="Former des biostatisticiens")
    person = visitor_factory(locale="fr-FR")
    person.log_in(email)
    page = person.page
    page.goto(f"/institution/needs/{need.id}/edit")
    page.fill("#title", TITLE)
    _end_sessions(live_site, email)
    with page.expect_navigation():
        page.click("main form[method=post] button[type=submit]:not([data-preview-button])")
    # Meanwhile, a colleague saves the need.
    with live_site.session() as session:
        changed = session.get(Need, need.id)
        assert changed is not None
        changed.hours_per_week = 8
        changed.updated_at = utcnow()
        session.add(changed)
        session.commit()

    _log_in_here(page, email)
    assert page.url.endswith(f"/institution/needs/{need.id}/edit")
    assert page.input_value("#title") == TITLE
    with page.expect_navigation():
        page.click("main form[method=post] button[type=submit]:not([data-preview-button])")
    # The version the person had read came back with the form: the colleague's save is not undone.
    assert "modifié" in page.locator("main .form-error").inner_text()
    assert page.input_value("#title") == TITLE
    with live_site.session() as session:
        kept = session.get(Need, need.id)
        assert kept is not None
        assert (kept.title, kept.hours_per_week) == ("Former des biostatisticiens", 8)
    # The browser logs the 409 page's status; nothing else went wrong.
    assert [e for e in person.errors if "(Conflict)" not in e] == []


IMPACT = (
    "أصبح فريق المختبر يحلّل عينات المياه بنفسه، وتكوّن أربعة تقنيين.\n"
    "Le laboratoire de Tlemcen publie désormais ses propres bulletins."
)


def test_a_refused_form_answered_at_another_address_comes_back_filled_on_its_page(
    visitor_factory: Any, live_site: LiveSite
) -> None:
    """The feedback form lives on the engagement's page but is posted to its own address, where
    a refusal is shown: the form sent again from there after the session ended leads back to the
    engagement's page, filled (it used to lead to that address, which answers no GET: a 405)."""
    with live_site.session() as session:
        user = make_user(session, locale="ar")
        expert = make_expert(session, user=user, display_name="أمينة بن علي")
        _member_user, institution = make_member(
            session, verified=True, name="Université de Tlemcen"
        )
        need = make_need(session, institution=institution, title="Analyse de l'eau potable")
        engagement_id = make_engagement(session, need=need, expert=expert, status="completed").id
        email = user.email
    engagement_page = f"/expert/engagements/{engagement_id}"
    person = visitor_factory(locale="ar")
    person.log_in(email)
    page = person.page
    page.goto(engagement_page)
    form = "main form[data-feedback-form]"
    page.select_option(f"{form} #rating", "5")
    page.fill(f"{form} #delivered", "ورشات تدريبية عن بعد — ateliers à distance")
    page.fill(f"{form} #hours", "-12")
    page.fill(f"{form} #impact", IMPACT)
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")
    # Refused beside its field, at the address the form was posted to; the address bar shows
    # the engagement's page, which a reload or a bookmark opens.
    assert page.locator(f"{form} #hours-error").count() == 1
    assert page.url.endswith(engagement_page)
    person.screenshot("session-ended/feedback-refused-ar")

    page.fill(f"{form} #hours", "36")
    _end_sessions(live_site, email)
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")
    assert f"/login?next={engagement_page}" in page.url
    assert IMPACT.splitlines()[0] in _kept(page)
    _log_in_here(page, email)
    assert page.url.endswith(engagement_page)
    assert page.locator("[data-form-restored]").inner_text() == RESTORED["ar"]
    assert page.input_value(f"{form} #rating") == "5"
    assert page.input_value(f"{form} #hours") == "36"
    assert page.input_value(f"{form} #impact") == IMPACT
    person.screenshot("session-ended/feedback-restored-ar")

    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")
    with live_site.session() as session:
        feedback = session.exec(
            select(EngagementFeedback).where(EngagementFeedback.engagement_id == engagement_id)
        ).one()
    assert (feedback.rating, feedback.hours, feedback.side) == (5, 36, "expert")
    assert feedback.impact.replace("\r\n", "\n") == IMPACT
    # The refusal's own 422 is the only resource the console reports.
    assert [e for e in person.errors if "status of 422" not in e] == []


def test_the_need_form_refused_for_its_dates_then_sent_after_the_session_ended_comes_back(
    visitor_factory: Any, live_site: LiveSite
) -> None:
    """The need form is posted to its own page's address: refused for its dates, corrected,
    then sent after the session ended, it comes back filled as corrected."""
    email = _member(live_site, "ar")
    person = visitor_factory(locale="ar")
    person.log_in(email)
    page = person.page
    page.goto("/institution/needs/new")
    page.fill("#title", TITLE)
    page.fill("#description", DESCRIPTION)
    page.fill("#required_skills", "épidémiologie, علم الأوبئة")
    page.fill("#duration_weeks", "6")
    page.fill("#hours_per_week", "5")
    page.fill("#start_from", "2027-03-15")
    page.fill("#start_until", "2027-02-01")
    with page.expect_navigation():
        page.click("main form[method=post] button[type=submit]:not([data-preview-button])")
    assert page.locator("#start_until-error").count() == 1
    page.fill("#start_until", "2027-04-30")
    _end_sessions(live_site, email)
    with page.expect_navigation():
        page.click("main form[method=post] button[type=submit]:not([data-preview-button])")
    _log_in_here(page, email)
    assert page.url.endswith("/institution/needs/new")
    assert page.locator("[data-form-restored]").inner_text() == RESTORED["ar"]
    assert page.input_value("#title") == TITLE
    assert page.input_value("#description") == DESCRIPTION
    assert page.input_value("#start_from") == "2027-03-15"
    assert page.input_value("#start_until") == "2027-04-30"
    person.screenshot("session-ended/need-refused-then-restored-ar")
    # The refusal's own 422 is the only resource the console reports.
    assert [e for e in person.errors if "status of 422" not in e] == []
