"""Builders of raw expert and need data, as the lead's code will produce from the models."""

from __future__ import annotations

from typing import Any


def expert(id: int, **fields: Any) -> dict[str, Any]:  # noqa: A002 - mirrors the document field
    """Builds an expert record with plausible defaults."""
    base: dict[str, Any] = {
        "id": id,
        "display_name": f"Expert {id}",
        "headline": "Consultant",
        "bio": "Works with universities and hospitals.",
        "skills": [],
        "languages": ["en"],
        "origin_country": "SN",
        "residence_country": "FR",
        "city": "Paris",
        "sectors": ["education"],
        "modes": ["remote"],
        "available_from": None,
        "available_until": None,
        "hours_per_month": 10,
        "visibility": "institutions",
        "active": True,
        "email": f"expert{id}@example.org",
        "phone": f"+33 6 00 00 00 {id:02d}",
    }
    base.update(fields)
    return base


def need(id: int, **fields: Any) -> dict[str, Any]:  # noqa: A002 - mirrors the document field
    """Builds a need record with plausible defaults."""
    base: dict[str, Any] = {
        "id": id,
        "title": f"Need {id}",
        "description": "An institution needs help.",
        "skills": [],
        "sector": "health",
        "mode": "remote",
        "languages": ["fr"],
        "country": "SN",
        "city": "Dakar",
        "institution_name": "Université Cheikh Anta Diop",
        "status": "open",
        "start_from": "2025-03-01",
        "start_until": "2025-06-30",
        "hours_per_week": 4,
    }
    base.update(fields)
    return base
