"""Server-rendered HTML pages."""

from fastapi import APIRouter, Depends
from fastapi.params import Depends as DependsParam

from service.deps import load_page_frame
from service.pages import (
    accounts,
    assignment,
    compare,
    coordinator,
    email_change,
    engagements,
    expert,
    for_you,
    imports,
    institution,
    notifications,
    password_reset,
    privacy,
    public,
    reports,
    review,
    search,
    team,
)

# Every page shows the unread-notification count in its header, and links only to what the
# access policy lets the reader open: looked up together, in one worker thread.
DEPENDENCIES: list[DependsParam] = [Depends(load_page_frame)]

# In the order their paths are matched.
ROUTERS: tuple[APIRouter, ...] = (
    public.router,
    accounts.router,
    password_reset.router,
    email_change.router,
    expert.router,
    for_you.router,
    institution.router,
    team.router,
    coordinator.router,
    imports.router,
    assignment.router,
    compare.router,
    review.router,
    engagements.router,
    notifications.router,
    reports.router,
    privacy.router,
    search.router,
)
