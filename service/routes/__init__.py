"""The JSON API under /api/, authenticated by session cookie (with CSRF) or personal API token."""

from fastapi import APIRouter

from service.routes import (
    accounts,
    assignment,
    audit,
    engagements,
    experts,
    health,
    institutions,
    needs,
    notifications,
    privacy,
    proposals,
    reports,
    skills,
)

router = APIRouter()
router.include_router(health.router)
router.include_router(accounts.router)
router.include_router(experts.router)
router.include_router(institutions.router)
router.include_router(needs.router)
router.include_router(audit.router)
router.include_router(skills.router)
for _module in (proposals, assignment, engagements, notifications, reports, privacy):
    router.include_router(_module.router)
