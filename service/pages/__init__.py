"""Server-rendered HTML pages."""

from fastapi import APIRouter, Depends

from service.pages import (
    accounts,
    assignment,
    coordinator,
    engagements,
    expert,
    imports,
    institution,
    notifications,
    privacy,
    public,
    reports,
    review,
    search,
)

# Every page shows the unread-notification count in its header.
router = APIRouter(include_in_schema=False, dependencies=[Depends(notifications.set_unread_count)])
router.include_router(public.router)
router.include_router(accounts.router)
router.include_router(expert.router)
router.include_router(institution.router)
router.include_router(coordinator.router)
router.include_router(imports.router)
for _module in (assignment, review, engagements, notifications, reports, privacy, search):
    router.include_router(_module.router)
