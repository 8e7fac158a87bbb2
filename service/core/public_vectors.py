"""The public search vector of each expert: embedded from only what institutions may read.

The institutions' index hides the bio (and the city): the slice of the full profile vector that
coordinators search with was embedded from the bio too, so it would let a bio-only word find an
expert by meaning. Each expert therefore also gets a vector of its headline and skills alone
(`matching.texts.profile_public_text`), embedded by the search query model's member of the
encoder, stored beside the full one (model "<query model>:public") and carried by the
institutions' index instead.

Open needs get a search vector the same way (`NeedEmbedder`, model "<query model>:need"): from
their title, required skills and description, all of which any signed-in reader of the needs
index may read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Self

import numpy as np
from sqlmodel import Session, col, select

from matching.encoders import Block, Encoder, content_hash, member_block
from matching.matcher import StoredVector
from matching.records import ExpertRecord
from matching.texts import profile_public_text
from service.config import Settings, get_settings
from service.models import Embedding
from service.repos.embeddings import upsert_vectors

EXPERT = "expert"
NEED = "need"


def public_model(query_model: str) -> str:
    """Names the stored public vectors of a query model (a distinct `Embedding.model`)."""
    return f"{query_model}:public"


def need_model(query_model: str) -> str:
    """Names the stored search vectors of needs for a query model."""
    return f"{query_model}:need"


def public_document_vector(
    session: Session, owner_id: int, settings: Settings | None = None
) -> list[float] | None:
    """Gets the public search vector of an expert, if the worker has embedded it."""
    return _stored_vector(session, EXPERT, owner_id, public_model, settings)


def need_document_vector(
    session: Session, owner_id: int, settings: Settings | None = None
) -> list[float] | None:
    """Gets the search vector of a need, if the worker has embedded it."""
    return _stored_vector(session, NEED, owner_id, need_model, settings)


def _stored_vector(
    session: Session,
    owner_type: str,
    owner_id: int,
    model_of: Callable[[str], str],
    settings: Settings | None,
) -> list[float] | None:
    settings = settings or get_settings()
    if member_block(settings.embedding_model, settings.search_query_model) is None:
        return None
    row = session.exec(
        select(Embedding).where(
            Embedding.owner_type == owner_type,
            Embedding.owner_id == owner_id,
            Embedding.model == model_of(settings.search_query_model),
        )
    ).first()
    if row is None:
        return None
    return [round(float(x), 6) for x in np.frombuffer(row.vector, dtype=np.float32)]


class PublicEmbedder:
    """Embeds the public text of experts with the query model's block of the encoder."""

    owner_type = EXPERT
    model_of = staticmethod(public_model)

    def __init__(self, encoder: Encoder, block: Block) -> None:
        self.encoder = encoder
        self.block = block
        self.model = self.model_of(block.name)
        self.version = f"{encoder.version}#{block.name}"

    @classmethod
    def for_encoder(cls, encoder: Encoder, query_model: str) -> Self | None:
        """Gets the embedder when the encoder holds the query model (None: no hybrid search)."""
        block = member_block(encoder.name, query_model)
        if block is None or block.stop > encoder.dim:
            return None
        return cls(encoder, block)

    def stored(self, session: Session, ids: Sequence[int]) -> dict[int, str]:
        """Gets the content hash of the public vectors already stored for these experts."""
        if not ids:
            return {}
        rows = session.exec(
            select(Embedding.owner_id, Embedding.content_hash).where(
                Embedding.owner_type == self.owner_type,
                Embedding.model == self.model,
                col(Embedding.owner_id).in_(list(ids)),
            )
        )
        return {int(owner_id): digest for owner_id, digest in rows}

    def embed_changed(
        self, experts: Sequence[ExpertRecord], stored: dict[int, str]
    ) -> dict[int, StoredVector]:
        """Embeds the experts whose public text changed since their stored vector."""
        return self.embed_texts({int(e.expert_id): profile_public_text(e) for e in experts}, stored)

    def embed_texts(self, texts: dict[int, str], stored: dict[int, str]) -> dict[int, StoredVector]:
        """Embeds the texts (by owner id) that changed since their stored vector."""
        digests = {i: content_hash(text, self.version) for i, text in texts.items()}
        changed = [i for i, digest in digests.items() if stored.get(i) != digest and texts[i]]
        if not changed:
            return {}
        vectors = self.encoder.encode_documents(
            [texts[i] for i in changed], only=(self.block.name,)
        )[:, self.block.start : self.block.stop]
        return {
            i: StoredVector(digests[i], self.version, np.asarray(vector, dtype=np.float32))
            for i, vector in zip(changed, vectors, strict=True)
        }

    def store(self, session: Session, computed: dict[int, StoredVector]) -> None:
        """Writes computed public vectors in the caller's transaction (no commit)."""
        upsert_vectors(
            session,
            owner_type=self.owner_type,
            model=self.model,
            vectors=computed,
        )


class NeedEmbedder(PublicEmbedder):
    """Embeds the searchable text of needs (`matching.texts.need_search_text`) the same way."""

    owner_type = NEED
    model_of = staticmethod(need_model)
