"""Inviting a colleague in Chromium: a member of a hospital invites a colleague from the team
page, with the email in Arabic; the colleague opens the link, registers with the invited
address, lands in the institution's space, and the team page lists both of them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from sqlmodel import col, select

from service.models import InstitutionMember, OutgoingEmail, User
from tests.browser.conftest import AXE, CHROMIUM, HOW_TO_RUN, LiveSite, Visitor, serve_site
from tests.browser.test_accessibility import page_problems
from tests.factories import make_member

COLLEAGUE = "amal.benyoucef@chu-oran.dz"


@pytest.fixture(scope="module")
def team_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """A site with one member of a hospital awaiting verification."""
    if not CHROMIUM.exists():
        pytest.skip(HOW_TO_RUN)
    with serve_site(tmp_path_factory.mktemp("team-site")) as site:
        with site.session() as session:
            member, institution = make_member(
                session, verified=False, name="Centre Hospitalier Universitaire d'Oran"
            )
            member.display_name = "Hélène Benali"
            session.add(member)
            session.commit()
            site.emails.update(member=member.email)
            site.ids.update(institution=institution.id or 0)
        yield site


def _link(site: LiveSite) -> str:
    with site.session() as session:
        mail = session.exec(
            select(OutgoingEmail)
            .where(OutgoingEmail.to_address == COLLEAGUE)
            .order_by(col(OutgoingEmail.id).desc())
        ).first()
        assert mail is not None
        found = re.search(r"/join\?token=(\S+)", mail.body)
        assert found is not None, mail.body
        return "/join?token=" + unquote(found.group(1))


def test_a_colleague_is_invited_and_joins(browser: Any, team_site: LiveSite) -> None:
    site = team_site
    member = Visitor(browser, site, viewport={"width": 1280, "height": 900})
    member.context.add_init_script(path=str(AXE))
    try:
        member.log_in(site.emails["member"])
        member.page.click("[data-team-link] a")
        member.page.wait_for_load_state()
        assert member.page.url.endswith("/institution/team")
        member.page.fill("#email", COLLEAGUE)
        member.page.fill("#display_name", "أمل بن يوسف")
        member.page.select_option("#locale", "ar")
        member.page.click("[data-invite-form] button[type=submit]")
        member.page.wait_for_load_state()
        assert any("invitation is sent" in m for m in member.flash()), member.flash()
        assert COLLEAGUE in member.page.locator("[data-invitations]").inner_text()
        assert page_problems(member, "team/invited-en") == []
        assert member.errors == []
    finally:
        member.close()

    colleague = Visitor(browser, site, viewport={"width": 390, "height": 844})
    colleague.context.add_init_script(path=str(AXE))
    try:
        colleague.page.goto(_link(site))
        assert "Oran" in colleague.page.locator("h1").inner_text()
        assert colleague.page.input_value("#invited-email") == COLLEAGUE
        assert colleague.page.input_value("#display_name") == "أمل بن يوسف"
        colleague.page.fill("#password", "Oran-Ḥayy-2026!")
        colleague.page.check("#consent_terms")
        assert page_problems(colleague, "team/join-phone") == []
        colleague.page.click("[data-join-register] button[type=submit]")
        colleague.page.wait_for_load_state()
        assert colleague.page.url.endswith("/institution")
        colleague.page.goto("/institution/team")
        rows = colleague.page.locator("[data-members] tbody tr")
        assert rows.count() == 2
        assert COLLEAGUE in rows.nth(1).inner_text()
        assert page_problems(colleague, "team/members-phone-ar") == []
        assert colleague.errors == []
    finally:
        colleague.close()
    with site.session() as session:
        user = session.exec(select(User).where(User.email == COLLEAGUE)).one()
        membership = session.exec(
            select(InstitutionMember).where(InstitutionMember.user_id == user.id)
        ).one()
        assert membership.institution_id == site.ids["institution"]
