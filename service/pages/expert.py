"""The expert's pages: their space and their profile editor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.core.engagements import ACTION_LABELS, engagement_view
from service.core.experts import update_profile
from service.core.needs import (
    NEED_ENDED,
    express_interest,
    interested_experts,
    readable_need,
    seen_need,
    withdraw_interest,
)
from service.core.policy import NeedView
from service.core.proposals import OfferState, explanation_for_people, offer_state
from service.deps import RequireExpert, SessionDep, StateDep
from service.errors import NotFound
from service.i18n import N_
from service.models import EngagementStatus, ExpertProfile, LanguageLevel, Mode, User
from service.models.experts import SECTORS
from service.pages.engagement_words import TO_THE_EXPERT, TONE_TO_THE_EXPERT
from service.pages.for_you import for_you_context
from service.pages.forms import read_form, validate_form
from service.pages.reasons import reasons
from service.repos import engagements as engagements_repo
from service.repos import experts as experts_repo
from service.repos import institutions as institutions_repo
from service.repos import proposals as proposals_repo
from service.routes.params import Id
from service.routes.skills import skills_in_use
from service.schemas.experts import ExpertProfileUpdate
from service.templating import flash, render

router = APIRouter(prefix="/expert")

LIST_FIELDS = ("skills", "modes", "sectors")
MAX_LANGUAGE_ROWS = 20
SUGGESTED_SKILLS = 200
HOME_NEEDS = 5
BIO_MIN_CHARS = 80


def _own_profile(session: SessionDep, user: User) -> ExpertProfile:
    expert = experts_repo.get_expert_of_user(session, user.id or 0)
    if expert is None:
        raise NotFound(N_("You have no expert profile."))
    return expert


@dataclass(frozen=True)
class Completeness:
    percent: int
    missing: list[tuple[str, str]]


def completeness(expert: ExpertProfile) -> Completeness:
    """Says how complete a profile is for the matcher, and what is missing (anchor, message)."""
    # A short text is not an empty one: the person who wrote a line is told what is still short.
    bio_missing = (
        N_("a few more lines about your work (80 characters at least)")
        if expert.bio.strip()
        else N_("a few lines about your work")
    )
    checks = [
        ("headline", bool(expert.headline), N_("a headline")),
        ("bio", len(expert.bio) >= BIO_MIN_CHARS, bio_missing),
        ("skills", len(expert.skills) >= 3, N_("at least three skills")),
        ("languages", bool(expert.languages), N_("the languages you work in")),
        (
            "origin_country",
            bool(expert.origin_country and expert.residence_country),
            N_("your countries of origin and residence"),
        ),
        ("modes", bool(expert.modes), N_("how you can help (remote, mission)")),
        ("hours_per_month", expert.hours_per_month > 0, N_("the hours you can give each month")),
        ("sectors", bool(expert.sectors), N_("your sectors")),
    ]
    done = sum(1 for _, ok, _ in checks if ok)
    missing = [(anchor, message) for anchor, ok, message in checks if not ok]
    return Completeness(percent=round(100 * done / len(checks)), missing=missing)


def _form_values(expert: ExpertProfile) -> dict[str, object]:
    values: dict[str, object] = expert.model_dump()
    values["consent_matching"] = expert.consent_matching_at is not None
    return values


def _read_languages(data: dict[str, Any]) -> list[dict[str, str]]:
    """Reads the repeated rows lang_code_N / lang_level_N; a row without a language is skipped."""
    entries: list[dict[str, str]] = []
    seen: set[str] = set()
    for index in range(MAX_LANGUAGE_ROWS):
        code = str(data.pop(f"lang_code_{index}", "")).strip()
        level = str(data.pop(f"lang_level_{index}", "")).strip() or LanguageLevel.PROFESSIONAL
        if code and code not in seen:
            seen.add(code)
            entries.append({"code": code, "level": level})
    for key in [k for k in data if k.startswith(("lang_code_", "lang_level_"))]:
        data.pop(key)
    return entries


def _editor_context(
    state: StateDep, session: SessionDep, values: dict[str, object], errors: dict[str, str]
) -> dict[str, object]:
    languages = list(values.get("languages") or [])  # type: ignore[call-overload]
    # One empty row to add a language without JavaScript, two when there is none yet.
    rows = languages + [{"code": "", "level": ""}] * (2 if not languages else 1)
    return {
        "values": values,
        "errors": errors,
        "sectors": SECTORS,
        "modes": list(Mode),
        "levels": list(LanguageLevel),
        "language_rows": rows,
        "suggested_skills": [s.skill for s in skills_in_use(state, session)[:SUGGESTED_SKILLS]],
    }


@router.get("", response_class=HTMLResponse)
def home(request: Request, user: RequireExpert, session: SessionDep) -> HTMLResponse:
    """Shows the expert's space: where to go, and what the profile still lacks."""
    expert = _own_profile(session, user)
    return render(
        request,
        "expert/home.html",
        {
            "expert": expert,
            "completeness": completeness(expert),
            **for_you_context(session, expert, limit=HOME_NEEDS),
        },
    )


@router.get("/profile", response_class=HTMLResponse)
def profile_page(
    request: Request, user: RequireExpert, state: StateDep, session: SessionDep
) -> HTMLResponse:
    """Shows the profile editor."""
    expert = _own_profile(session, user)
    return render(
        request, "expert/profile.html", _editor_context(state, session, _form_values(expert), {})
    )


@router.post("/profile")
async def profile_submit(
    request: Request, user: RequireExpert, state: StateDep, session: SessionDep
) -> Response:
    """Saves the profile, or shows it again with the errors beside the fields."""
    expert = _own_profile(session, user)
    data = await read_form(request, list_fields=LIST_FIELDS)
    data["languages"] = _read_languages(data)
    data["consent_matching"] = data.get("consent_matching") == "on"
    for name in ("available_from", "available_until", "years_experience"):
        if data.get(name) == "":
            data[name] = None
    if data.get("hours_per_month") == "":
        data["hours_per_month"] = 0
    form, errors = validate_form(ExpertProfileUpdate, data)
    if form is None:
        return render(
            request,
            "expert/profile.html",
            _editor_context(state, session, data, errors),
            status_code=422,
        )
    update_profile(session, expert=expert, actor=user, data=form)
    session.commit()
    response = RedirectResponse("/expert", status_code=303)
    flash(response, request, N_("Your profile is saved."), "success")
    return response


@router.get("/needs/{need_id}", response_class=HTMLResponse)
def need_page(
    request: Request, need_id: Id, user: RequireExpert, session: SessionDep
) -> HTMLResponse:
    """Shows a need in full, why it suits the expert if ranked, and 'I'm interested' while it
    is open; of a need that ended, what the policy lets the expert see (see policy.need_view)."""
    expert = _own_profile(session, user)
    need, view = seen_need(session, need_id=need_id, reader=user)
    ended = NEED_ENDED.get(need.status, "")
    if view == NeedView.ENDED:
        return render(
            request, "expert/need_ended.html", {"need": need, "ended": ended}, status_code=410
        )
    proposal = proposals_repo.get_for_pair(session, need_id=need_id, expert_id=expert.id or 0)
    institution = institutions_repo.get_institution(session, need.institution_id)
    said = (
        reasons(
            explanation_for_people(proposal.explanation),
            levels={str(i.get("code")): str(i.get("level", "")) for i in expert.languages},
            country=institution.country if institution else "",
        )
        if proposal is not None
        else []
    )
    offer = offer_state(session, proposal=proposal)
    return render(
        request,
        "expert/need.html",
        {
            "need": need,
            "ended": ended,
            "institution": institution,
            "reasons": said,
            "interested": (expert.id or 0) in interested_experts(session, need_id=need_id),
            "offer": offer,
            "offer_sentence": TO_THE_EXPERT[EngagementStatus(offer.status)] if offer else "",
            "offer_tone": TONE_TO_THE_EXPERT[EngagementStatus(offer.status)] if offer else "",
            "e": _offer_engagement(session, offer, user),
            "labels": ACTION_LABELS,
        },
    )


def _offer_engagement(session: SessionDep, offer: OfferState | None, user: User) -> Any:
    """Gets the offer as an engagement the expert may answer on the need's page, if any."""
    if offer is None or offer.status != EngagementStatus.OFFERED:
        return None
    engagement = engagements_repo.get_engagement(session, offer.engagement_id)
    return engagement_view(session, engagement=engagement, reader=user) if engagement else None


@router.post("/needs/{need_id}/interest")
def interest(request: Request, need_id: Id, user: RequireExpert, session: SessionDep) -> Response:
    """Records that the expert is interested in a need; the coordinator sees it on review."""
    expert = _own_profile(session, user)
    need = readable_need(session, need_id=need_id, reader=user)
    express_interest(session, need=need, expert=expert, actor=user)
    session.commit()
    response = RedirectResponse(f"/expert/needs/{need_id}", status_code=303)
    flash(
        response,
        request,
        N_("Thank you: the coordinators see that you are interested in this need."),
        "success",
    )
    return response


@router.post("/needs/{need_id}/interest/withdraw")
def withdraw(request: Request, need_id: Id, user: RequireExpert, session: SessionDep) -> Response:
    """Withdraws the expert's interest in a need; the coordinators no longer see it."""
    expert = _own_profile(session, user)
    need = readable_need(session, need_id=need_id, reader=user)
    withdrawn = withdraw_interest(session, need=need, expert=expert, actor=user)
    session.commit()
    response = RedirectResponse(f"/expert/needs/{need_id}", status_code=303)
    if withdrawn:
        flash(response, request, N_("Your interest in this need is withdrawn."), "success")
    else:  # withdrawn already (from another tab), or never said
        flash(response, request, N_("The coordinators do not see you as interested in this need."))
    return response
