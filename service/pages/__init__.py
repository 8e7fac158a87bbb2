"""Server-rendered HTML pages."""

from fastapi import APIRouter, Depends

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
router = APIRouter(
    include_in_schema=False,
    dependencies=[Depends(notifications.set_unread_count), Depends(get_reader)],
)
router.include_router(public.router)
router.include_router(accounts.router)
router.include_router(expert.router)
router.include_router(for_you.router)
router.include_router(institution.router)
router.include_router(coordinator.router)
router.include_router(imports.router)
for _module in (assignment, compare, review, engagements, notifications, reports, privacy, search):
    router.include_router(_module.router)
