"""The search vector of each need, embedded by the worker and sent with the need's document.

A need's title, required skills and description are embedded by the search query model's
block of the encoder (`NeedEmbedder`), again only when that text changes; the need's search
document then goes out through the outbox with the new vector, so the needs index finds it by
meaning as the experts' indexes find experts.
"""

from __future__ import annotations

from sqlmodel import Session

from matching.texts import need_search_text
from service.core.changes import need_document
from service.core.public_vectors import NeedEmbedder
from service.models import Need
from service.search import outbox


def embed_need(session: Session, embedder: NeedEmbedder | None, need_id: int) -> bool:
    """Embeds a need whose searchable text changed and re-sends its document (no commit);
    tells whether it did."""
    need = session.get(Need, need_id)
    if embedder is None or need is None:
        return False
    text = need_search_text(need.title, need.required_skills, need.description)
    computed = embedder.embed_texts({need_id: text}, embedder.stored(session, [need_id]))
    if not computed:
        return False
    embedder.store(session, computed)
    session.flush()
    outbox.sync_need(session, need=need_document(session, need))
    return True
