"""The search vector of each need, embedded by the worker and sent with the need's document.

A need's title, required skills and description are embedded by the search query model's
block of the encoder (`NeedEmbedder`), again only when that text changes; the need's search
document then goes out through the outbox with the new vector, so the needs index finds it by
meaning as the experts' indexes find experts.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from matching.texts import need_search_text
from service.core.changes import need_document
from service.core.public_vectors import NeedEmbedder
from service.models import Institution, Need, NeedStatus
from service.search import outbox


def embed_need(session: Session, embedder: NeedEmbedder | None, need_id: int) -> bool:
    """Embeds a need whose searchable text changed and re-sends its document (no commit);
    tells whether it did."""
    return bool(embed_needs(session, embedder, [need_id]))


def embed_needs(
    session: Session, embedder: NeedEmbedder | None, need_ids: Sequence[int]
) -> list[int]:
    """Embeds the needs whose searchable text changed (or that have no vector yet) and
    re-sends their documents (no commit); returns their ids."""
    if embedder is None or not need_ids:
        return []
    needs = {
        need.id or 0: need
        for need in session.exec(select(Need).where(col(Need.id).in_(list(need_ids))))
    }
    texts = {
        need_id: need_search_text(need.title, need.required_skills, need.description)
        for need_id, need in needs.items()
    }
    computed = embedder.embed_texts(texts, embedder.stored(session, list(texts)))
    if not computed:
        return []
    embedder.store(session, computed)
    session.flush()
    # The documents are built from the needs and institutions as they are now, read FOR SHARE
    # (needs first, in id order, as every writer does): a request saving one of them has
    # queued its document first, so this waits for its commit and reads what it saved,
    # never sending after it a document built from the read above (embedding takes time).
    ids = sorted(computed)
    locked = session.exec(
        select(Need)
        .where(col(Need.id).in_(ids))
        .order_by(col(Need.id))
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    ).all()
    institutions = sorted({need.institution_id for need in locked})
    session.exec(
        select(Institution)
        .where(col(Institution.id).in_(institutions))
        .order_by(col(Institution.id))
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    ).all()
    for need in locked:
        outbox.sync_need(session, need=need_document(session, need))
    return [need.id or 0 for need in locked]


def embed_open_needs(session: Session, embedder: NeedEmbedder | None, *, batch: int = 64) -> int:
    """Gives every open need without a current vector one (the needs posted before needs
    search had meaning, or embedded by another model), committing each batch; returns how
    many it embedded."""
    if embedder is None:
        return 0
    ids = [
        int(i)
        for i in session.exec(
            select(Need.id).where(Need.status == NeedStatus.OPEN).order_by(col(Need.id))
        )
        if i is not None
    ]
    done = 0
    for start in range(0, len(ids), batch):
        done += len(embed_needs(session, embedder, ids[start : start + batch]))
        session.commit()
    return done
