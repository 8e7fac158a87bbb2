"""Stored vectors: one row per owner and model, replaced when its text or model changes."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sqlmodel import Session, col, select

from matching.matcher import StoredVector
from service.models import Embedding
from service.models.types import utcnow


def upsert_vectors(
    session: Session, *, owner_type: str, model: str, vectors: Mapping[int, StoredVector]
) -> None:
    """Writes vectors of one model by owner id, in the caller's transaction (no commit)."""
    if not vectors:
        return
    existing = {
        row.owner_id: row
        for row in session.exec(
            select(Embedding).where(
                Embedding.owner_type == owner_type,
                Embedding.model == model,
                col(Embedding.owner_id).in_(list(vectors)),
            )
        )
    }
    now = utcnow()
    for owner_id, stored in vectors.items():
        row = existing.get(owner_id) or Embedding(
            owner_type=owner_type,
            owner_id=owner_id,
            model=model,
            model_version="",
            content_hash="",
            dim=0,
            vector=b"",
        )
        row.model_version = stored.version
        row.content_hash = stored.content_hash
        row.dim = int(stored.vector.shape[0])
        row.vector = np.asarray(stored.vector, dtype=np.float32).tobytes()
        row.updated_at = now
        session.add(row)
