"""The main journeys, in a real browser: an expert joins; an institution joins and posts in French."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import select

from service.models import ExpertProfile, Institution, Need, User
from tests.browser.conftest import LiveSite


def test_expert_registers_fills_the_profile_logs_out_and_in(
    visitor_factory: Any, live_site: LiveSite
) -> None:
    expert = visitor_factory()
    page = expert.page

    page.goto("/")
    expert.screenshot("landing")
    page.click("text=Join as an expert")
    page.fill("#display_name", "Mariama Bâ")
    page.fill("#email", "mariama@example.org")
    page.fill("#password", "a-long-enough-password")
    page.check("#consent_terms")
    page.click("main button[type=submit]")

    page.wait_for_url("**/expert/profile")
    assert "Complete your profile" in expert.flash()[0]
    page.fill("#headline", "Hydrologist, 15 years of water resource planning")
    page.fill(
        "#bio",
        "I plan water resources for river basins in West Africa and teach hydrology to engineers.",
    )
    # Skills become tags as they are typed (JavaScript), suggestions come from /api/skills.
    page.fill("#skill-new", "hydrology")
    page.keyboard.press("Enter")
    page.fill("#skill-new", "GIS, flood modelling")
    page.keyboard.press("Enter")
    # The Arabic comma and semicolon separate skills too.
    page.fill("#skill-new", "هيدرولوجيا، الري؛ السدود")
    page.keyboard.press("Enter")
    tags = page.locator("[data-tag-list] input[name=skills]:checked")
    assert [tags.nth(i).get_attribute("value") for i in range(tags.count())] == [
        "hydrology",
        "GIS",
        "flood modelling",
        "هيدرولوجيا",
        "الري",
        "السدود",
    ]
    page.fill("#skill-new", "epi")  # the arranged expert has epidemiology
    page.wait_for_function(
        "document.querySelectorAll('#skill-suggestions option[value=\"epidemiology\"]').length > 0"
    )
    page.fill("#skill-new", "")
    # Languages: one row per language; "Add a language" makes another row.
    page.select_option("#lang_code_0", "fr")
    page.select_option("#lang_level_0", "native")
    page.select_option("#lang_code_1", "en")
    page.select_option("#lang_level_1", "fluent")
    page.click("text=Add a language")
    page.select_option("#lang_code_2", "wo")
    page.select_option("#origin_country", "SN")
    page.select_option("#residence_country", "FR")
    page.select_option("#timezone", "Europe/Paris")
    page.check("#mode-remote")
    page.check("#mode-mission")
    page.fill("#hours_per_month", "12")
    page.check("#sector-water")
    expert.screenshot("expert-profile")
    page.click("form.profile-form button[type=submit]")

    page.wait_for_url("**/expert")
    assert expert.flash() == ["Your profile is saved."]
    assert page.locator("#completeness-meter").get_attribute("value") == "100"
    expert.screenshot("expert-home")

    page.click("nav.main-nav summary:has-text('Account')")
    page.click("nav.main-nav button:has-text('Log out')")
    page.wait_for_url(re.compile(r"/$"))
    assert expert.flash() == ["You are logged out."]
    expert.log_in("mariama@example.org", "a-long-enough-password")
    page.wait_for_url("**/expert")
    assert page.locator("h1").inner_text() == "Welcome, Mariama Bâ"
    assert "flood modelling" in page.locator("main").inner_text()

    with live_site.session() as session:
        user = session.exec(select(User).where(User.email == "mariama@example.org")).one()
        profile = session.exec(select(ExpertProfile).where(ExpertProfile.user_id == user.id)).one()
    assert profile.languages == [
        {"code": "fr", "level": "native"},
        {"code": "en", "level": "fluent"},
        {"code": "wo", "level": "professional"},
    ]
    assert (profile.origin_country, profile.residence_country) == ("SN", "FR")
    assert profile.timezone == "Europe/Paris" and profile.sectors == ["water"]
    assert expert.errors == []


def test_institution_registers_is_verified_and_posts_a_need_in_french(
    visitor_factory: Any, live_site: LiveSite
) -> None:
    member = visitor_factory(locale="fr-FR")
    page = member.page

    page.goto("/register/institution")
    assert page.locator("html").get_attribute("lang") == "fr"  # from the browser's language
    page.fill("#display_name", "Ousmane Sow")
    page.fill("#email", "ousmane@ucad.example")
    page.fill("#password", "a-long-enough-password")
    page.select_option("#locale", "fr")
    page.fill("#institution_name", "Faculté de médecine de Dakar")
    page.select_option("#institution_type", "university")
    page.select_option("#country", "SN")
    page.fill("#city", "Dakar")
    page.check("#consent_terms")
    page.click("main button[type=submit]")
    page.wait_for_url("**/institution")
    assert page.locator(".badge").first.inner_text() == "En attente de vérification"
    # Pending: no "Post a need" button, but told what happens next and invited to write drafts.
    assert page.locator("a.button[href='/institution/needs/new']").count() == 0
    assert page.locator("[data-review=pending] a[href='/institution/needs/new']").count() == 1

    coordinator = visitor_factory()
    coordinator.log_in(live_site.coordinator_email)
    coordinator.page.wait_for_url("**/coordinator")
    # The coordinator asks for more first; the member answers where they read the question.
    with live_site.session() as session:
        registered = session.exec(
            select(Institution).where(Institution.name == "Faculté de médecine de Dakar")
        ).one()
    coordinator.page.goto(f"/coordinator/institutions/{registered.id}")
    coordinator.page.select_option("#decision", "info_requested")
    coordinator.page.fill("#reason", "Merci d'indiquer le numéro d'agrément de la faculté.")
    coordinator.page.click("[data-review-form] button[type=submit]")
    coordinator.page.wait_for_url(f"**/coordinator/institutions/{registered.id}")
    page.reload()
    assert page.locator("[data-review=info_requested]").count() == 1
    answer = "Agrément n° 2011-0457 du ministère ; الاعتماد رقم 457."
    page.fill("#message", answer)
    page.click("form[data-reply-form] button[type=submit]")
    page.wait_for_url("**/institution#review-reply")
    assert page.locator("[data-verification]").first.inner_text() == (
        "Réponse envoyée, en attente d'examen"
    )
    assert answer in page.locator("[data-replies]").inner_text()
    member.screenshot("institution-answered-fr")
    coordinator.page.reload()
    assert answer in coordinator.page.locator("#replies").inner_text()
    coordinator.screenshot("coordinator-reads-answer")
    coordinator.page.goto("/coordinator")
    row = coordinator.page.locator("tr", has_text="Faculté de médecine de Dakar")
    coordinator.screenshot("coordinator-dashboard")
    row.locator("button:has-text('Verify')").click()
    coordinator.page.wait_for_url("**/coordinator")
    assert coordinator.flash() == ["Institution verified."]
    assert coordinator.page.locator("tr", has_text="Faculté de médecine de Dakar").count() == 0

    page.reload()
    assert page.locator(".badge").first.inner_text() == "Vérifiée"
    page.click("text=Publier un besoin")
    page.fill("#title", "Co-enseigner un module d'épidémiologie à distance")
    page.fill(
        "#description",
        "Notre faculté de médecine cherche un épidémiologiste pour co-enseigner un module "
        "de six semaines, à distance, en français.",
    )
    page.fill("#required_skills", "épidémiologie, biostatistique")
    page.select_option("#sector", "health")
    page.select_option("#mode", "remote")
    page.fill("#duration_weeks", "6")
    page.check("#language-fr")
    page.check("#support-stipend")
    member.screenshot("need-form-fr")
    page.click("main form button[type=submit]")

    page.wait_for_url(re.compile(r"/institution/needs/\d+$"))
    (published,) = member.flash()
    assert published.startswith("Votre besoin est publié. ")
    assert page.locator("h1").inner_text() == "Co-enseigner un module d'épidémiologie à distance"
    assert "Santé" in page.locator(".details").inner_text()
    member.screenshot("need-posted-fr")

    with live_site.session() as session:
        institution = session.exec(
            select(Institution).where(Institution.name == "Faculté de médecine de Dakar")
        ).one()
        need = session.exec(select(Need).where(Need.institution_id == institution.id)).one()
    assert institution.verified
    assert need.languages == ["fr"] and need.required_skills == ["épidémiologie", "biostatistique"]
    assert need.support == ["stipend"] and need.status == "open"
    assert member.errors == [] and coordinator.errors == []


def test_pages_work_without_javascript(visitor_factory: Any, live_site: LiveSite) -> None:
    visitor = visitor_factory(java_script_enabled=False)
    visitor.log_in(live_site.emails["expert"])
    page = visitor.page
    page.goto("/expert/profile")
    page.fill("#skill-new", "malaria control, One Health")
    page.uncheck("[data-tag-list] input[value=teaching]")
    page.select_option("#lang_code_2", "pt")
    page.click("form.profile-form button[type=submit]")
    page.wait_for_url("**/expert")
    with live_site.session() as session:
        profile = session.get(ExpertProfile, live_site.ids["expert"])
    assert profile is not None
    assert profile.skills == ["epidemiology", "biostatistics", "malaria control", "One Health"]
    assert [item["code"] for item in profile.languages] == ["fr", "en", "pt"]


def test_phone_layout(visitor_factory: Any) -> None:
    phone = visitor_factory(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.page.goto("/")
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the landing page scrolls sideways on a phone"
    phone.screenshot("landing-phone")
