"""Account pages: register, log in, log out, change password, personal API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from service.core.accounts import (
    authenticate,
    change_password,
    end_all_sessions,
    end_session,
    issue_api_token,
    list_api_tokens,
    list_sessions,
    open_session,
    register_expert,
    register_institution,
    revoke_api_token,
)
from service.deps import CurrentUser, OptionalUser, SessionDep, SessionId, SessionUser, StateDep
from service.errors import FieldErrors, TooManyAttempts
from service.i18n import LOCALE_NAMES, N_, translate_message
from service.middleware import LOCALE_COOKIE, csrf_cookie
from service.models import InstitutionType, Role, User
from service.models.types import utcnow
from service.models.users import LOCALES
from service.pages.forms import read_form, validate_form
from service.routes.params import Id
from service.schemas.accounts import (
    ExpertRegistration,
    InstitutionRegistration,
    LoginForm,
    PasswordChange,
    TokenForm,
)
from service.security import (
    SESSION_COOKIE,
    hash_session_token,
    new_csrf_token,
    session_csrf_token,
)
from service.state import AppState
from service.templating import flash, render

router = APIRouter()

HOME_BY_ROLE = {
    Role.EXPERT: "/expert",
    Role.INSTITUTION: "/institution",
    Role.COORDINATOR: "/coordinator",
    Role.ADMIN: "/coordinator",
}


CONSENT_MISSING = N_("Please accept the privacy terms to register.")


def _safe_next(target: str | None) -> str | None:
    return target if target and target.startswith("/") and not target.startswith("//") else None


def client_ip_of(request: Request) -> str:
    """Gets the address a request comes from, as the limits on guessing count it."""
    return request.client.host if request.client else "unknown"


def home_for(user: User) -> str:
    """Gets the page a user lands on after logging in."""
    return HOME_BY_ROLE.get(Role(user.role), "/")


def start_session(
    response: Response, *, request: Request, state: AppState, session: Session, user: User
) -> None:
    """Opens a server-side session: its cookie, a CSRF token bound to it, the user's language.

    The browser's previous session, if any, ends: one browser holds one session.
    """
    previous = request.cookies.get(SESSION_COOKIE)
    previous_token = state.signer.loads(previous) if previous else None
    if previous_token is not None:
        end_session(session, session_id=hash_session_token(previous_token))
    token = open_session(
        session,
        user=user,
        user_agent=request.headers.get("user-agent", ""),
        max_age_s=state.settings.session_max_age_s,
    )
    session.commit()
    cookie = state.signer.dumps(token)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=state.settings.session_max_age_s,
        httponly=True,
        samesite="lax",
        secure=state.settings.cookie_secure,
    )
    secret = state.settings.secret_key
    secure = state.settings.cookie_secure
    response.headers.append(
        "set-cookie", csrf_cookie(session_csrf_token(secret, cookie), secure=secure)
    )
    remember_locale(response, user.locale)


def end_browser_session(response: Response, *, state: AppState) -> None:
    """Forgets the session cookie and hands the browser a fresh, session-less CSRF token."""
    response.delete_cookie(SESSION_COOKIE)
    response.headers.append(
        "set-cookie", csrf_cookie(new_csrf_token(), secure=state.settings.cookie_secure)
    )


def remember_locale(response: Response, locale: str) -> None:
    """Remembers the interface language in a cookie for a year."""
    response.set_cookie(
        LOCALE_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax", httponly=True
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request, user: OptionalUser, next: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    """Shows the log-in form."""
    if user is not None:
        return RedirectResponse(home_for(user), status_code=303)
    return render(
        request, "accounts/login.html", {"next": _safe_next(next) or "", "values": {}, "errors": {}}
    )


@router.post("/login")
async def login(request: Request, state: StateDep, session: SessionDep) -> Response:
    """Logs in; the same message for an unknown email and a wrong password."""
    data = await read_form(request)
    next_url = _safe_next(data.pop("next", None))
    form, errors = validate_form(LoginForm, data)
    user = None
    status = 422
    headers: dict[str, str] = {}
    if form is not None:
        try:
            user = authenticate(
                session,
                email=form.email,
                password=form.password,
                client_ip=client_ip_of(request),
                settings=state.settings,
            )
        except TooManyAttempts as exc:
            errors, status = (
                {"__all__": translate_message(exc.message, exc.params)},
                exc.status_code,
            )
            headers["retry-after"] = str(exc.retry_after_s)
        else:
            session.commit()
            if user is None:
                errors = {"__all__": N_("Wrong email or password.")}
    if user is None:
        values = {"email": data.get("email", "")}
        page = render(
            request,
            "accounts/login.html",
            {"next": next_url or "", "values": values, "errors": errors},
            status_code=status,
        )
        page.headers.update(headers)
        return page
    response = RedirectResponse(next_url or home_for(user), status_code=303)
    start_session(response, request=request, state=state, session=session, user=user)
    return response


@router.post("/logout")
def logout(request: Request, state: StateDep, session: SessionDep) -> Response:
    """Ends the session, on the server: its cookie opens nothing afterwards."""
    cookie = request.cookies.get(SESSION_COOKIE)
    token = state.signer.loads(cookie) if cookie else None
    if token is not None:
        end_session(session, session_id=hash_session_token(token))
        session.commit()
    response = RedirectResponse("/", status_code=303)
    end_browser_session(response, state=state)
    flash(response, request, N_("You are logged out."))
    return response


@router.get("/register", response_class=HTMLResponse)
def register_choice(request: Request, user: OptionalUser) -> HTMLResponse:
    """Lets a visitor choose: register as an expert or for an institution."""
    return render(request, "accounts/register.html")


@router.get("/register/expert", response_class=HTMLResponse)
def register_expert_page(request: Request, user: OptionalUser) -> HTMLResponse:
    """Shows the expert registration form."""
    return render(
        request,
        "accounts/register_expert.html",
        {"values": {"locale": request.state.locale}, "errors": {}},
    )


@router.post("/register/expert")
async def register_expert_submit(
    request: Request, state: StateDep, session: SessionDep
) -> Response:
    """Registers an expert and logs them in."""
    data = await read_form(request)
    data["consent_matching"] = data.get("consent_matching") == "on"
    form, errors = validate_form(ExpertRegistration, data)
    # Shown with the other errors at once, so one corrected form is enough.
    if data.get("consent_terms") != "on":
        form, errors = None, {**errors, "consent_terms": CONSENT_MISSING}
    if form is not None:
        try:
            user = register_expert(session, form=form)
        except FieldErrors as exc:
            errors = exc.errors
        else:
            session.commit()
            response = RedirectResponse("/expert/profile", status_code=303)
            start_session(response, request=request, state=state, session=session, user=user)
            flash(
                response,
                request,
                N_("Welcome to Homeward. Complete your profile so that we can match you."),
                "success",
            )
            return response
    data.pop("password", None)
    return render(
        request,
        "accounts/register_expert.html",
        {"values": data, "errors": errors},
        status_code=422,
    )


@router.get("/register/institution", response_class=HTMLResponse)
def register_institution_page(request: Request, user: OptionalUser) -> HTMLResponse:
    """Shows the institution registration form."""
    return render(
        request,
        "accounts/register_institution.html",
        {"values": {"locale": request.state.locale}, "errors": {}, "types": list(InstitutionType)},
    )


@router.post("/register/institution")
async def register_institution_submit(
    request: Request, state: StateDep, session: SessionDep
) -> Response:
    """Registers an institution (pending verification) and its first member."""
    data = await read_form(request)
    form, errors = validate_form(InstitutionRegistration, data)
    # Shown with the other errors at once, so one corrected form is enough.
    if data.get("consent_terms") != "on":
        form, errors = None, {**errors, "consent_terms": CONSENT_MISSING}
    if form is not None:
        try:
            user = register_institution(session, form=form)
        except FieldErrors as exc:
            errors = exc.errors
        else:
            session.commit()
            response = RedirectResponse("/institution", status_code=303)
            start_session(response, request=request, state=state, session=session, user=user)
            flash(
                response,
                request,
                N_("Your institution is registered. A coordinator will verify it shortly."),
                "success",
            )
            return response
    data.pop("password", None)
    return render(
        request,
        "accounts/register_institution.html",
        {"values": data, "errors": errors, "types": list(InstitutionType)},
        status_code=422,
    )


def account_context(
    request: Request,
    session: Session,
    user: User,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, object] | None = None,
    new_token: str | None = None,
    failed_form: str = "",
) -> dict[str, object]:
    # The page holds several forms: the summary of what to correct goes with the one sent.
    return {
        "errors": errors or {},
        "failed_form": failed_form,
        "new_token": new_token,
        "values": {"locale": user.locale, **(values or {})},
        "locales": list(LOCALE_NAMES.items()),
        "sessions": list_sessions(session, user=user),
        "current_session": getattr(request.state, "session_id", None),
        "tokens": list_api_tokens(session, user=user),
        "now": utcnow(),
        "pending_email": user.pending_email,
    }


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, user: CurrentUser, session: SessionDep) -> HTMLResponse:
    """Shows the account settings: language, password, sessions and API tokens."""
    return render(request, "accounts/account.html", account_context(request, session, user))


@router.post("/account/locale")
async def locale_submit(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """Changes the language of the account's interface and emails."""
    data = await read_form(request)
    locale = str(data.get("locale", ""))
    if locale not in LOCALES:
        errors = {"locale": N_("Choose one of the languages in the list.")}
        return render(
            request,
            "accounts/account.html",
            account_context(request, session, user, errors=errors, failed_form="locale"),
            status_code=422,
        )
    user.locale = locale
    session.add(user)
    session.commit()
    response = RedirectResponse("/account", status_code=303)
    remember_locale(response, locale)
    # The confirmation is shown in the language just chosen.
    flash(response, request, N_("Your language is saved."), "success")
    return response


EMAIL_CHANGE_CANCELLED = N_(
    "The change of your email address to %(email)s was cancelled with the password change: "
    "ask for it again if you still want it."
)


def flash_email_change_cancelled(response: Response, request: Request, email: str | None) -> None:
    """Says, after a new password, that the email change waiting was cancelled with it."""
    if email is not None:
        # Written now, in the reader's language; the address isolated from the sentence's
        # direction (a flash is text, not markup).
        words = translate_message(EMAIL_CHANGE_CANCELLED, {"email": f"\u2068{email}\u2069"})
        flash(response, request, words, "warning")


@router.post("/account/password")
async def password_submit(
    request: Request,
    user: SessionUser,
    session_id: SessionId,
    state: StateDep,
    session: SessionDep,
) -> Response:
    """Changes the password; this session continues, the others and every API token end."""
    form, errors = validate_form(PasswordChange, await read_form(request))
    status = 422
    if form is not None:
        try:
            done = change_password(
                session,
                user=user,
                current=form.current_password,
                new=form.new_password,
                settings=state.settings,
                keep_session=session_id,
            )
        except FieldErrors as exc:
            errors, status = exc.errors, exc.page_status
        else:
            session.commit()
            response = RedirectResponse("/account", status_code=303)
            flash(
                response,
                request,
                N_(
                    "Your password has been changed. Your other sessions and API tokens have ended."
                ),
                "success",
            )
            flash_email_change_cancelled(response, request, done.cancelled_email)
            return response
    return render(
        request,
        "accounts/account.html",
        account_context(request, session, user, errors=errors, failed_form="password"),
        status_code=status,
    )


@router.post("/account/sessions/end")
def sessions_end(
    request: Request, user: SessionUser, state: StateDep, session: SessionDep
) -> Response:
    """Logs out everywhere, this browser included."""
    end_all_sessions(session, user=user)
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    end_browser_session(response, state=state)
    flash(response, request, N_("You are logged out everywhere."), "success")
    return response


@router.post("/account/tokens")
async def token_submit(request: Request, user: SessionUser, session: SessionDep) -> Response:
    """Creates a personal API token and shows it once."""
    data = await read_form(request)
    form, errors = validate_form(TokenForm, data)
    if form is not None:
        try:
            _row, token = issue_api_token(
                session, user=user, name=form.name, expires_at=form.expires_at()
            )
        except FieldErrors as exc:
            errors = {"expires_on": exc.errors.get("expires_at", exc.message)}
        else:
            session.commit()
            return render(
                request,
                "accounts/account.html",
                account_context(request, session, user, new_token=token),
            )
    return render(
        request,
        "accounts/account.html",
        account_context(request, session, user, errors=errors, values=data, failed_form="token"),
        status_code=422,
    )


@router.post("/account/tokens/{token_id}/revoke")
def token_revoke(
    request: Request, token_id: Id, user: SessionUser, session: SessionDep
) -> Response:
    """Revokes one of the user's API tokens."""
    revoke_api_token(session, user=user, token_id=token_id)
    session.commit()
    response = RedirectResponse("/account#tokens", status_code=303)
    flash(response, request, N_("The token is revoked."), "success")
    return response
