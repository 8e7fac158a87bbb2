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
from service.schemas.errors import API_ERRORS

router = APIRouter()
router.include_router(health.router)
# Every operation under /api/ declares the error bodies it may answer, once, here.
api = APIRouter(responses=API_ERRORS)
for _module in (
    accounts,
    experts,
    institutions,
    needs,
    audit,
    skills,
    proposals,
    assignment,
    engagements,
    notifications,
    reports,
    privacy,
):
    api.include_router(_module.router)
router.include_router(api)
