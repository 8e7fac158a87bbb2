"""Health check."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from service.deps import SessionDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database does not answer."}},
)
def healthz(session: SessionDep) -> JSONResponse:
    """Says whether the database answers."""
    try:
        session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return JSONResponse(
            {"status": "error", "database": str(exc.__class__.__name__)}, status_code=503
        )
    return JSONResponse({"status": "ok", "database": "ok"})
