"""Queries on the skills needs ask and their stored phrase vectors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt
from sqlmodel import Session, col, select

from service.models import Need, NeedStatus, SkillVector
from service.models.types import utcnow
from service.repos.upserts import upsert


def skills_of_open_needs(session: Session) -> set[str]:
    """Lists every skill open needs ask for, as written (trimmed)."""
    rows = session.exec(select(Need.required_skills).where(Need.status == NeedStatus.OPEN))
    return {str(skill).strip() for skills in rows for skill in skills or [] if str(skill).strip()}


def vectors_for(
    session: Session, *, texts: Iterable[str], model: str
) -> dict[str, npt.NDArray[np.float32]]:
    """Gets the stored vectors of these skills for a model (those not embedded yet are left out)."""
    wanted = sorted(set(texts))
    found: dict[str, npt.NDArray[np.float32]] = {}
    for start in range(0, len(wanted), 500):  # keeps the IN list short on every database
        rows = session.exec(
            select(SkillVector).where(
                SkillVector.model == model, col(SkillVector.text).in_(wanted[start : start + 500])
            )
        )
        for row in rows:
            found[row.text] = np.frombuffer(row.vector, dtype=np.float32)
    return found


def add_vectors(
    session: Session, *, model: str, vectors: Mapping[str, npt.NDArray[np.float32]]
) -> None:
    """Stores new skill vectors (no commit); a skill another worker stored meanwhile keeps its
    vector (the same text and model embed the same)."""
    now = utcnow()
    rows = []
    for text, vector in vectors.items():
        row = np.asarray(vector, dtype=np.float32)
        rows.append(
            {
                "text": text,
                "model": model,
                "dim": int(row.shape[0]),
                "vector": row.tobytes(),
                "updated_at": now,
            }
        )
    upsert(session, SkillVector, rows, keys=("text", "model"))
