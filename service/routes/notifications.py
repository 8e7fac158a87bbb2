"""In-app notifications over the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from service.core.notifications import mark_all_read, mark_read, public
from service.deps import CurrentUser, SessionDep
from service.i18n import current_locale
from service.models import NotificationPublic
from service.repos import notifications as notifications_repo
from service.routes.pagination import PageDep, PageOf, envelope
from service.routes.params import Id

router = APIRouter(prefix="/api/notifications", tags=["notifications"])


class NotificationPage(PageOf[NotificationPublic]):
    """A page of notifications, with how many are unread in all."""

    unread: int


class UnreadCount(BaseModel):
    unread: int


@router.get("", response_model=NotificationPage)
def list_notifications(
    user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    unread: Annotated[bool, Query()] = False,
) -> dict[str, Any]:
    """Lists the caller's notifications, newest first, with the unread count."""
    rows, total = notifications_repo.list_for_user(
        session, user.id or 0, unread_only=unread, offset=page.offset, limit=page.size
    )
    locale = current_locale.get()
    body = envelope([public(n, locale) for n in rows], total=total, page=page)
    body["unread"] = notifications_repo.count_unread(session, user.id or 0)
    return body


@router.post("/read-all", response_model=UnreadCount)
def read_all(user: CurrentUser, session: SessionDep) -> dict[str, int]:
    """Marks all the caller's notifications as read."""
    mark_all_read(session, reader=user)
    session.commit()
    return {"unread": 0}


@router.post("/{notification_id}/read", response_model=NotificationPublic)
def read(notification_id: Id, user: CurrentUser, session: SessionDep) -> NotificationPublic:
    """Marks one of the caller's notifications as read."""
    notification = mark_read(session, notification_id=notification_id, reader=user)
    session.commit()
    return public(notification, current_locale.get())
