"""Stored vectors: one row per owner and model, replaced when its text or model changes."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sqlmodel import Session

from matching.matcher import StoredVector
from service.models import Embedding
from service.models.types import utcnow
from service.repos.upserts import upsert

# What a newer vector replaces; the key (owner_type, owner_id, model) stays.
REPLACED = ("model_version", "content_hash", "dim", "vector", "updated_at")


def upsert_vectors(
    session: Session, *, owner_type: str, model: str, vectors: Mapping[int, StoredVector]
) -> None:
    """Writes vectors of one model by owner id, in the caller's transaction (no commit); a
    vector another process stored meanwhile for the same owner is replaced, not collided with."""
    now = utcnow()
    upsert(
        session,
        Embedding,
        [
            {
                "owner_type": owner_type,
                "owner_id": owner_id,
                "model": model,
                "model_version": stored.version,
                "content_hash": stored.content_hash,
                "dim": int(stored.vector.shape[0]),
                "vector": np.asarray(stored.vector, dtype=np.float32).tobytes(),
                "updated_at": now,
            }
            for owner_id, stored in vectors.items()
        ],
        keys=("owner_type", "owner_id", "model"),
        set_=lambda new: {column: new[column] for column in REPLACED},
        refresh=True,
    )
