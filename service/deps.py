"""FastAPI dependencies: the database session, the current user, roles, CSRF."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from service.core import changes, policy
from service.core.accounts import user_for_session, user_for_token
from service.core.notifications import unread_count
from service.core.policy import Action, Reader
from service.errors import CsrfRejected, NotAllowed, NotAuthenticated
from service.models import Institution, User
from service.models.types import utcnow
from service.repos import institutions as institutions_repo
from service.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    SessionSigner,
    csrf_tokens_match,
    hash_api_token,
    hash_session_token,
)
from service.state import AppState

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


async def get_state(request: Request) -> AppState:
    """Gets the application state loaded by the lifespan."""
    state: AppState = request.app.state.homeward
    return state


StateDep = Annotated[AppState, Depends(get_state)]

# Every dependency below that does no I/O is `async def`: FastAPI runs a plain `def` one in a
# worker thread, a hand-over that costs about 50 µs of CPU, more than most of them do. Those
# that query hand all their queries to one worker thread, and only when there is a user to find.


async def get_session(request: Request) -> AsyncIterator[Session]:
    """Yields one database session per request; routes commit before they return."""
    state: AppState = request.app.state.homeward
    # Opening a session touches no database: the first query checks a connection out.
    session = Session(state.engine, expire_on_commit=False)
    # Lets a privacy change reach the institutions' index before the response leaves.
    session.info[changes.SEARCH_KEY] = state.search
    try:
        yield session
    finally:
        if state.engine.dialect.name == "sqlite" or not session.in_transaction():
            # Nothing to hand back, or SQLite's rollback: a call into the library, no wait.
            session.close()
        else:
            # A database server's rollback is a round trip: not on the event loop.
            await run_in_threadpool(session.close)


SessionDep = Annotated[Session, Depends(get_session)]


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _credentials(request: Request) -> tuple[str | None, str | None] | None:
    """Reads (API token, session token) from the request; None when it carries neither valid.

    A session cookie whose signature fails, or that is too old, names no session: no query.
    """
    api_token = _bearer_token(request)
    if api_token is not None:
        return api_token, None
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    signer: SessionSigner = request.app.state.homeward.signer
    session_token = signer.loads(cookie)
    return (None, session_token) if session_token is not None else None


def _find_user(
    request: Request, session: Session, credentials: tuple[str | None, str | None]
) -> User | None:
    """Finds the user behind a personal API token or a live session."""
    api_token, session_token = credentials
    if api_token is not None:
        user = user_for_token(session, token_hash=hash_api_token(api_token), now=utcnow())
        if user is None:
            raise NotAuthenticated("This API token is not valid.")
        session.commit()
        request.state.via_token = True
        return user
    if session_token is None:
        return None
    session_id = hash_session_token(session_token)
    user = user_for_session(session, session_id=session_id, now=utcnow())
    if user is not None:
        request.state.session_id = session_id
    return user


def _look_up(
    request: Request,
    session: Session,
    credentials: tuple[str | None, str | None] | None,
    *,
    reader: bool,
    unread: bool,
) -> None:
    """Puts on the request what it lacks of its user, reader and unread count (the queries)."""
    state = request.state
    if not hasattr(state, "user"):
        state.user = _find_user(request, session, credentials) if credentials else None
    user: User | None = state.user
    if reader and not hasattr(state, "reader"):
        state.reader = policy.reader_for(session, user)
    if unread and not hasattr(state, "unread_count"):
        state.unread_count = unread_count(session, user=user) if user else 0


async def _identify(
    request: Request, session: Session, *, reader: bool = False, unread: bool = False
) -> None:
    """Looks up the request's user once per request, with its reader and unread count when
    asked: all the queries in one worker thread, none for a visitor without credentials."""
    state = request.state
    credentials = None
    if not hasattr(state, "user"):
        credentials = _credentials(request)
        if credentials is None:
            state.user = None
    missing = (
        not hasattr(state, "user")
        or (reader and not hasattr(state, "reader"))
        or (unread and not hasattr(state, "unread_count"))
    )
    if not missing:
        return
    if hasattr(state, "user") and state.user is None:
        # An anonymous reader: nothing to query.
        _look_up(request, session, None, reader=reader, unread=unread)
    else:
        await run_in_threadpool(
            _look_up, request, session, credentials, reader=reader, unread=unread
        )


async def get_optional_user(request: Request, session: SessionDep) -> User | None:
    """Finds the user behind a personal API token or a live session, if any."""
    await _identify(request, session)
    user: User | None = request.state.user
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


async def get_current_user(request: Request, session: SessionDep) -> User:
    """Requires a logged-in user."""
    await _identify(request, session)
    user: User | None = request.state.user
    if user is None:
        raise NotAuthenticated()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_session_user(request: Request, user: CurrentUser) -> User:
    """Requires a user logged in on the site: a personal API token cannot mint tokens."""
    if getattr(request.state, "via_token", False):
        raise NotAllowed("A personal API token cannot do this; log in on the site.")
    return user


SessionUser = Annotated[User, Depends(get_session_user)]


async def get_session_id(request: Request, user: SessionUser) -> str:
    """Gets the id of the current user's session."""
    session_id: str = request.state.session_id
    return session_id


SessionId = Annotated[str, Depends(get_session_id)]


async def get_caller_session_id(request: Request, user: CurrentUser) -> str | None:
    """Gets the id of the site session a request is made in; None for a personal API token."""
    session_id: str | None = getattr(request.state, "session_id", None)
    return session_id


CallerSessionId = Annotated[str | None, Depends(get_caller_session_id)]


async def get_reader(request: Request, session: SessionDep) -> Reader:
    """Gets the kind of reader behind the request, as the access policy sees them."""
    await _identify(request, session, reader=True)
    reader: Reader = request.state.reader
    return reader


ReaderDep = Annotated[Reader, Depends(get_reader)]


async def load_page_frame(request: Request, session: SessionDep) -> None:
    """Puts on the request what every page's header shows: the user, what the access policy
    lets them open (links), and their unread-notification count (one COUNT)."""
    await _identify(request, session, reader=True, unread=True)


def allowed(action: Action) -> object:
    """Builds a dependency that admits only the users the access policy lets take this action."""

    async def dependency(request: Request, session: SessionDep) -> User:
        await _identify(request, session, reader=True)
        user: User | None = request.state.user
        if user is None:
            raise NotAuthenticated()
        policy.require(request.state.reader, action)
        return user

    return Depends(dependency)


RequireStaff = Annotated[User, allowed(Action.COORDINATE)]
RequireAdmin = Annotated[User, allowed(Action.ADMINISTER)]
RequireExpert = Annotated[User, allowed(Action.ACT_AS_EXPERT)]
RequireMember = Annotated[User, allowed(Action.ACT_FOR_INSTITUTION)]
RequireRosterReader = Annotated[User, allowed(Action.BROWSE_ROSTER)]
RequireNeedPreview = Annotated[User, allowed(Action.PREVIEW_NEED)]
RequireSuggester = Annotated[User, allowed(Action.SUGGEST_EXPERT)]
RequireReplier = Annotated[User, allowed(Action.REPLY_TO_REVIEW)]


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
