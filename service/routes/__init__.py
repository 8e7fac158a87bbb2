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

# Outside /api/: the health check.
ROUTERS: tuple[APIRouter, ...] = (health.router,)

# Every operation under /api/ declares the error bodies it may answer (`API_ERRORS`), once, where
# the application includes these.
API_ROUTERS: tuple[APIRouter, ...] = (
    accounts.router,
    experts.router,
    institutions.router,
    needs.router,
    audit.router,
    skills.router,
    proposals.router,
    assignment.router,
    engagements.router,
    notifications.router,
    reports.router,
    privacy.router,
)

__all__ = ["API_ERRORS", "API_ROUTERS", "ROUTERS"]
