"""FastAPI dependencies: the database session, the current user, roles, CSRF."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from service.core import changes, policy
from service.core.accounts import user_for_session, user_for_token
from service.core.policy import Action, Reader
from service.errors import CsrfRejected, NotAllowed, NotAuthenticated
from service.models import Institution, User
from service.models.types import utcnow
from service.repos import institutions as institutions_repo
from service.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    csrf_tokens_match,
    hash_api_token,
    hash_session_token,
)
from service.state import AppState

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def get_state(request: Request) -> AppState:
    """Gets the application state loaded by the lifespan."""
    state: AppState = request.app.state.homeward
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    """Yields one database session per request; routes commit before they return."""
    with Session(state.engine, expire_on_commit=False) as session:
        # Lets a privacy change reach the institutions' index before the response leaves.
        session.info[changes.SEARCH_KEY] = state.search
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def get_optional_user(request: Request, state: StateDep, session: SessionDep) -> User | None:
    """Finds the user behind a personal API token or a live session, if any."""
    if hasattr(request.state, "user"):
        cached: User | None = request.state.user
        return cached
    user: User | None = None
    token = _bearer_token(request)
    if token is not None:
        user = user_for_token(session, token_hash=hash_api_token(token), now=utcnow())
        if user is None:
            raise NotAuthenticated("This API token is not valid.")
        session.commit()
        request.state.via_token = True
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        session_token = state.signer.loads(cookie) if cookie else None
        if session_token is not None:
            session_id = hash_session_token(session_token)
            user = user_for_session(session, session_id=session_id, now=utcnow())
            if user is not None:
                request.state.session_id = session_id
    request.state.user = user
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


def get_current_user(user: OptionalUser) -> User:
    """Requires a logged-in user."""
    if user is None:
        raise NotAuthenticated()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_session_user(request: Request, user: CurrentUser) -> User:
    """Requires a user logged in on the site: a personal API token cannot mint tokens."""
    if getattr(request.state, "via_token", False):
        raise NotAllowed("A personal API token cannot do this; log in on the site.")
    return user


SessionUser = Annotated[User, Depends(get_session_user)]


def get_session_id(request: Request, user: SessionUser) -> str:
    """Gets the id of the current user's session."""
    session_id: str = request.state.session_id
    return session_id


SessionId = Annotated[str, Depends(get_session_id)]


def get_reader(request: Request, user: OptionalUser, session: SessionDep) -> Reader:
    """Gets the kind of reader behind the request, as the access policy sees them."""
    if hasattr(request.state, "reader"):
        cached: Reader = request.state.reader
        return cached
    reader = policy.reader_for(session, user)
    request.state.reader = reader
    return reader


ReaderDep = Annotated[Reader, Depends(get_reader)]


def allowed(action: Action) -> object:
    """Builds a dependency that admits only the users the access policy lets take this action."""

    def dependency(user: CurrentUser, reader: ReaderDep) -> User:
        policy.require(reader, action)
        return user

    return Depends(dependency)


RequireStaff = Annotated[User, allowed(Action.COORDINATE)]
RequireAdmin = Annotated[User, allowed(Action.ADMINISTER)]
RequireExpert = Annotated[User, allowed(Action.ACT_AS_EXPERT)]
RequireMember = Annotated[User, allowed(Action.ACT_FOR_INSTITUTION)]
RequireRosterReader = Annotated[User, allowed(Action.BROWSE_ROSTER)]
RequireNeedPreview = Annotated[User, allowed(Action.PREVIEW_NEED)]


def get_member_institution(user: RequireMember, session: SessionDep) -> Institution:
    """Gets the institution the current member acts for."""
    institution = institutions_repo.get_institution_of_user(session, user.id or 0)
    if institution is None:
        raise NotAllowed("Your account is not attached to an institution.")
    return institution


MemberInstitution = Annotated[Institution, Depends(get_member_institution)]


async def verify_csrf(request: Request) -> None:
    """Refuses a state-changing request made with cookies unless it echoes the CSRF token."""
    if request.method in SAFE_METHODS or _bearer_token(request) is not None:
        return
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise CsrfRejected()
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    # The middleware worked out the token this browser must echo: bound to its session cookie
    # when it has one, so a token from another session (or from before log-in) is refused.
    if not csrf_tokens_match(getattr(request.state, "csrf_token", None), submitted):
        raise CsrfRejected()
