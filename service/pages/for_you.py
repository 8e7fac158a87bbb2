"""The expert's "Needs for you": on their home and needs pages, and as a small fragment that
htmx polls while the matcher ranks needs for a profile just saved."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from matching.explain import strength_order
from service.core.needs_for_you import ForYou, needs_for_you
from service.deps import RequireExpert, SessionDep
from service.errors import NotFound
from service.i18n import N_, ngettext_
from service.models import ExpertProfile
from service.pages.reasons import language_levels, match_band
from service.repos import experts as experts_repo
from service.templating import render_page_or_fragment

router = APIRouter(prefix="/expert")

# Seconds between two looks at the list while a ranking is on its way (htmx).
POLL_S = 3
EMPTY_MESSAGES = {
    "matching": N_(
        "Matching is in progress: your profile was just saved and the open needs that suit it "
        "are being ranked. This list updates by itself; without JavaScript, reload the page "
        "in a minute."
    ),
    "no_consent": N_(
        "You have not agreed to be matched, so no need is ranked for you. You can agree on your "
        "profile page."
    ),
    "incomplete": N_(
        "Your profile is not complete enough to rank needs for you: complete it on your profile "
        "page."
    ),
    "unavailable": N_(
        "Your availability has ended or needs confirming, so no need is ranked for you. Update "
        "your dates on your profile page."
    ),
    "no_open_needs": N_(
        "No need is open at the moment. New needs are ranked for you as they are posted."
    ),
    "all_set_aside": N_("None of the open needs fits your profile yet."),
    "none": N_(
        "No open need fits your profile closely enough yet. New needs are ranked for you as "
        "they are posted; meanwhile, browse every open need."
    ),
}


def set_aside_sentences(result: ForYou) -> list[str]:
    """Says, with counts, why the matcher set every open need aside for this expert."""
    b = result.blockers
    out = []
    if b.languages:
        out.append(
            ngettext_(
                "%(num)s asks for a language you have not listed",
                "%(num)s ask for a language you have not listed",
                b.languages,
            )
            % {"num": b.languages}
        )
    if b.modes:
        out.append(
            ngettext_(
                "%(num)s asks for an engagement mode you do not offer",
                "%(num)s ask for an engagement mode you do not offer",
                b.modes,
            )
            % {"num": b.modes}
        )
    if b.other:
        out.append(
            ngettext_(
                "%(num)s falls outside your dates or free hours",
                "%(num)s fall outside your dates or free hours",
                b.other,
            )
            % {"num": b.other}
        )
    return out


def for_you_context(session: SessionDep, expert: ExpertProfile, *, limit: int) -> dict[str, Any]:
    """Gets what the "Needs for you" fragment shows."""
    result = needs_for_you(session, expert=expert, limit=limit)
    # Strongest label first, the matcher's order kept among equal labels (docs/matching.md).
    bands = [match_band(score, x) for _, x, score in result.ranked]
    order = strength_order(bands)
    return {
        "for_you": result,
        "ranked": [result.ranked[i] for i in order],
        "bands": [bands[i] for i in order],
        "levels": language_levels({"languages": expert.languages}),
        "for_you_empty": EMPTY_MESSAGES[result.empty] if result.empty else "",
        "set_aside": set_aside_sentences(result),
        "poll_s": POLL_S,
        "for_you_limit": limit,
    }


@router.get("/for-you", response_class=HTMLResponse)
def for_you_fragment(
    request: Request,
    user: RequireExpert,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=10)] = 5,
) -> HTMLResponse:
    """Shows the "Needs for you" box alone (polled by htmx while a ranking is pending), or in
    a page of its own when the address is opened directly."""
    expert = experts_repo.get_expert_of_user(session, user.id or 0)
    if expert is None:
        raise NotFound(N_("You have no expert profile."))
    context = for_you_context(session, expert, limit=limit)
    return render_page_or_fragment(
        request, page="expert/for_you.html", fragment="expert/_for_you.html", context=context
    )
