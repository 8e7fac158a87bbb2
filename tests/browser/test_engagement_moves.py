"""An engagement's moves in a real browser: before its start date the expert reads from when
the work can be started instead of a button that would be refused; marking it completed asks
first in a dialog saying what it records, and answered, is done at once (in French and Arabic,
on a phone too)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from babel.dates import format_date

from service.models import Engagement, ExpertProfile, Institution, Role
from service.models.types import utcnow
from tests.browser.conftest import LiveSite
from tests.factories import make_engagement, make_need

PHONE = {"width": 390, "height": 844}
TITLE = "Former l'équipe d'épidémiologie à l'analyse de survie — تحليل البقاء"
STARTS_LATER = {
    "fr": "Vous pourrez le marquer comme commencé à partir du {}.",
    "ar": "يمكنكم تعليمه كبدأ ابتداءً من {}.",
}
ENDS_EARLY = {
    "fr": "La fin convenue est le {} : le marquer comme terminé aujourd'hui enregistre que le "
    "travail s'est achevé plus tôt que prévu. Cette action est irréversible.",
    "ar": "تاريخ الانتهاء المتفق عليه هو {}: تعليمه اليوم كمكتمل يسجّل أن العمل انتهى قبل موعده. "
    "لا يمكن التراجع عن ذلك.",
}


def _engagement(site: LiveSite, expert_id: int, status: str, **fields: Any) -> int:
    with site.session() as session:
        institution = session.get_one(Institution, site.ids["institution"])
        need = make_need(session, institution=institution, title=TITLE)
        expert = session.get_one(ExpertProfile, expert_id)
        return int(make_engagement(session, need=need, expert=expert, status=status, **fields).id)


@pytest.mark.parametrize(("locale", "viewport"), [("fr", None), ("ar", PHONE)])
def test_the_expert_reads_when_to_start_then_completes_after_a_question(
    signed_in: Any, live_site: LiveSite, locale: str, viewport: Any
) -> None:
    options = {"viewport": viewport} if viewport else {}
    expert = signed_in(f"moves-{locale}@engagement.example", Role.EXPERT, locale=locale, **options)
    today = utcnow().date()
    start = today + timedelta(days=12)
    later = _engagement(live_site, expert.expert_id, "confirmed", start_date=start)
    expert.page.goto(f"/expert/engagements/{later}")
    assert expert.page.locator(f"form[action='/engagements/{later}/start']").count() == 0
    said = expert.page.locator("[data-move-later='start']").inner_text()
    assert said == STARTS_LATER[locale].format(format_date(start, format="medium", locale=locale))
    expert.screenshot(f"engagement-moves/start-later-{locale}")

    planned = today + timedelta(days=21)
    active = _engagement(
        live_site,
        expert.expert_id,
        "active",
        start_date=today - timedelta(days=30),
        end_date=planned,
        started_at=utcnow() - timedelta(days=30),
    )
    expert.page.goto(f"/expert/engagements/{active}")
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        # The first time the expert thinks again; the second, they go ahead.
        (dialog.accept if len(asked) > 1 else dialog.dismiss)()

    expert.page.on("dialog", answer)
    button = expert.page.locator(f"form[action='/engagements/{active}/complete'] button")
    button.click()
    assert asked == [
        ENDS_EARLY[locale].format(format_date(planned, format="medium", locale=locale))
    ]
    with live_site.session() as session:
        assert session.get_one(Engagement, active).status == "active"
    with expert.page.expect_navigation():
        button.click()
    assert len(asked) == 2
    # Answered in the dialog: done at once, the page does not ask again.
    assert expert.page.locator("[data-asking]").count() == 0
    assert len(expert.flash()) == 1
    expert.screenshot(f"engagement-moves/completed-{locale}")
    with live_site.session() as session:
        done = session.get_one(Engagement, active)
        assert (done.status, done.ended_on) == ("delivered", today)
    assert expert.errors == []
