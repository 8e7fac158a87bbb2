"""Server-rendered HTML pages."""

from fastapi import APIRouter, Depends
from fastapi.params import Depends as DependsParam

from service.deps import get_reader
from service.pages import (
    accounts,
    assignment,
    compare,
    coordinator,
    engagements,
    expert,
    for_you,
    imports,
    institution,
    notifications,
    privacy,
    public,
    reports,
    review,
    search,
)

# Every page shows the unread-notification count in its header, and links only to what the
# access policy lets the reader open.
DEPENDENCIES: list[DependsParam] = [Depends(notifications.set_unread_count), Depends(get_reader)]

# In the order their paths are matched.
ROUTERS: tuple[APIRouter, ...] = (
    public.router,
    accounts.router,
    expert.router,
    for_you.router,
    institution.router,
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
