"""Notification pages: the list with its unread count, email choices, and the staff outbox."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.core.notifications import (
    categories_for,
    mark_all_read,
    mark_read,
    notification_text,
    save_email_prefs,
    wants_email,
)
from service.deps import CurrentUser, RequireStaff, SessionDep
from service.i18n import current_locale
from service.pages.forms import read_form
from service.repos import notifications as notifications_repo
from service.routes.pagination import PageDep
from service.routes.params import Id
from service.templating import flash, render

router = APIRouter()


def _pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request, user: CurrentUser, session: SessionDep, page: PageDep
) -> HTMLResponse:
    """Lists the user's notifications, newest first; unread ones stand out."""
    rows, total = notifications_repo.list_for_user(
        session, user.id or 0, offset=page.offset, limit=page.size
    )
    return render(
        request,
        "notifications/list.html",
        {
            "notifications": rows,
            # Each in the reader's language of today, not the one it was written in.
            "texts": {n.id: notification_text(n, current_locale.get()) for n in rows},
            "total": total,
            "page": page.number,
            "pages": _pages(total, page.size),
            "query_prefix": "",
        },
    )


@router.post("/notifications/read-all")
def read_all(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """Marks every notification as read."""
    mark_all_read(session, reader=user)
    session.commit()
    response = RedirectResponse("/notifications", status_code=303)
    flash(response, request, "All notifications are marked as read.", "success")
    return response


@router.post("/notifications/{notification_id}/read")
def read_one(
    request: Request, notification_id: Id, user: CurrentUser, session: SessionDep
) -> Response:
    """Marks a notification as read and opens what it is about."""
    notification = mark_read(session, notification_id=notification_id, reader=user)
    session.commit()
    target = notification.link if notification.link.startswith("/") else "/notifications"
    return RedirectResponse(target, status_code=303)


@router.get("/account/notifications", response_class=HTMLResponse)
def prefs_page(request: Request, user: CurrentUser) -> HTMLResponse:
    """Shows which emails the user receives."""
    categories = categories_for(user)
    chosen = {name for name in categories if wants_email(user, name)}
    return render(request, "notifications/prefs.html", {"categories": categories, "chosen": chosen})


@router.post("/account/notifications")
async def prefs_submit(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """Saves which emails the user receives."""
    data = await read_form(request)
    save_email_prefs(session, user=user, chosen={name for name, v in data.items() if v == "on"})
    session.commit()
    response = RedirectResponse("/account/notifications", status_code=303)
    flash(response, request, "Your email choices are saved.", "success")
    return response


@router.get("/coordinator/outbox", response_class=HTMLResponse)
def outbox_page(
    request: Request, user: RequireStaff, session: SessionDep, page: PageDep
) -> HTMLResponse:
    """Shows the outgoing emails: without an SMTP server, this is where they stay."""
    rows, total = notifications_repo.list_emails(session, offset=page.offset, limit=page.size)
    return render(
        request,
        "notifications/outbox.html",
        {
            "emails": rows,
            "total": total,
            "page": page.number,
            "pages": _pages(total, page.size),
            "query_prefix": "",
        },
    )
