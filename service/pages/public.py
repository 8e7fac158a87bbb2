"""Public pages: the landing page with live figures, the privacy page, the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from service.deps import OptionalUser, SessionDep
from service.i18n import UI_LOCALES
from service.pages.accounts import remember_locale
from service.repos import stats as stats_repo
from service.templating import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def landing(request: Request, user: OptionalUser, session: SessionDep) -> HTMLResponse:
    """Shows what Homeward is, with live figures."""
    return render(request, "landing.html", {"figures": stats_repo.platform_figures(session)})


@router.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request, user: OptionalUser) -> HTMLResponse:
    """Says what is stored and who sees it."""
    return render(request, "privacy.html")


@router.post("/language")
def switch_language(
    request: Request,
    user: OptionalUser,
    session: SessionDep,
    locale: Annotated[str, Form(max_length=5)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> RedirectResponse:
    """Remembers the chosen interface language (on the account too, when logged in)."""
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if locale in UI_LOCALES:
        remember_locale(response, locale)
        if user is not None and user.locale != locale:
            user.locale = locale
            session.add(user)
            session.commit()
    return response
