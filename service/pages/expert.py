"""The expert's pages: their space and their profile editor."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.core.experts import update_profile
from service.deps import RequireExpert, SessionDep
from service.errors import NotFound
from service.models import ExpertProfile, LanguageLevel, Mode, User
from service.models.experts import SECTORS
from service.pages.forms import read_form, validate_form
from service.repos import experts as experts_repo
from service.schemas.experts import ExpertProfileUpdate
from service.templating import flash, render

router = APIRouter(prefix="/expert")

LIST_FIELDS = ("skills", "modes", "sectors")


def _own_profile(session: SessionDep, user: User) -> ExpertProfile:
    expert = experts_repo.get_expert_of_user(session, user.id or 0)
    if expert is None:
        raise NotFound("You have no expert profile.")
    return expert


def _form_values(expert: ExpertProfile) -> dict[str, object]:
    values: dict[str, object] = expert.model_dump()
    values["languages_text"] = ", ".join(
        f"{item.get('code')}:{item.get('level')}" for item in expert.languages
    )
    values["consent_matching"] = expert.consent_matching_at is not None
    return values


def _parse_languages(text: str) -> list[dict[str, str]]:
    """Reads 'fr:native, en:fluent' into language entries; a bare code means professional."""
    entries = []
    for part in text.replace(";", ",").split(","):
        code, _, level = part.strip().partition(":")
        if code:
            entries.append(
                {"code": code.strip(), "level": level.strip() or LanguageLevel.PROFESSIONAL}
            )
    return entries


@router.get("", response_class=HTMLResponse)
def home(request: Request, user: RequireExpert, session: SessionDep) -> HTMLResponse:
    """Shows the expert's space."""
    return render(request, "expert/home.html", {"expert": _own_profile(session, user)})


@router.get("/profile", response_class=HTMLResponse)
def profile_page(request: Request, user: RequireExpert, session: SessionDep) -> HTMLResponse:
    """Shows the profile editor."""
    expert = _own_profile(session, user)
    return render(request, "expert/profile.html", _editor_context(_form_values(expert), {}))


def _editor_context(values: dict[str, object], errors: dict[str, str]) -> dict[str, object]:
    return {
        "values": values,
        "errors": errors,
        "sectors": SECTORS,
        "modes": list(Mode),
        "levels": list(LanguageLevel),
    }


@router.post("/profile")
async def profile_submit(request: Request, user: RequireExpert, session: SessionDep) -> Response:
    """Saves the profile, or shows it again with the errors beside the fields."""
    expert = _own_profile(session, user)
    data = await read_form(request, list_fields=LIST_FIELDS)
    languages_text = str(data.pop("languages_text", ""))
    data["languages"] = _parse_languages(languages_text)
    data["consent_matching"] = data.get("consent_matching") == "on"
    for name in ("available_from", "available_until", "years_experience"):
        if data.get(name) == "":
            data[name] = None
    form, errors = validate_form(ExpertProfileUpdate, data)
    if form is None:
        if "languages" in errors:
            errors["languages_text"] = errors.pop("languages")
        values = {**data, "languages_text": languages_text}
        return render(
            request, "expert/profile.html", _editor_context(values, errors), status_code=422
        )
    update_profile(session, expert=expert, actor=user, data=form)
    session.commit()
    response = RedirectResponse("/expert", status_code=303)
    flash(response, request, "Your profile is saved.", "success")
    return response
