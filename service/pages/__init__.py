"""Server-rendered HTML pages."""

from fastapi import APIRouter

from service.pages import accounts, coordinator, expert, institution, public

router = APIRouter(include_in_schema=False)
router.include_router(public.router)
router.include_router(accounts.router)
router.include_router(expert.router)
router.include_router(institution.router)
router.include_router(coordinator.router)
