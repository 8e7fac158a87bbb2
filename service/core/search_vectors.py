"""Vectors for hybrid search: the slice of each expert's stored vector that the small query model
compares with, and that model, loaded once per web process and shared by every request."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from functools import lru_cache

import numpy as np
from sqlmodel import Session, select

from matching.encoders import Block, Encoder, PrecisionSetting, load_encoder, member_block
from service.config import Settings, get_settings
from service.models import Embedding
from service.search.base import Embed

log = logging.getLogger(__name__)
MAX_QUERY_CHARS = 500
# Words of a search text the query model embeds (the keyword search uses them all). e5's cost
# grows with the tokens, ~1.7 ms CPU each on the shared machine (18 ms for 6 tokens, 110 ms for
# 65; a need title 22 ms at p50, bench/query_models.py), and meaning is in the first words of
# anything typed in a search box: the benchmark's titles have at most 21.
MAX_QUERY_WORDS = 24
# Texts whose vectors are remembered: a filter ticked, a page turned or a suggestion followed
# searches the same text again, and a remembered vector costs microseconds instead of an
# encoder call (tens of milliseconds). 2,048 vectors of 384 floats take about 3 MB.
CACHED_QUERIES = 2048


def search_block(settings: Settings) -> Block | None:
    """Gets the block of the stored vectors the query model compares with (None: lexical only)."""
    return member_block(settings.embedding_model, settings.search_query_model)


def document_vector(
    session: Session, owner_id: int, settings: Settings | None = None
) -> list[float] | None:
    """Gets the search vector of an expert: its stored vector's query-model block, if any."""
    settings = settings or get_settings()
    block = search_block(settings)
    if block is None:
        return None
    row = session.exec(
        select(Embedding).where(
            Embedding.owner_type == "expert",
            Embedding.owner_id == owner_id,
            Embedding.model == settings.embedding_model,
        )
    ).first()
    if row is None or row.dim < block.stop:
        return None
    vector = np.frombuffer(row.vector, dtype=np.float32)[block.start : block.stop]
    return [round(float(x), 6) for x in vector]


class QueryEmbedder:
    """Embeds search texts with the query model, loaded on first use (one thread, one call at
    a time: a title takes milliseconds), remembering the vectors of recent texts."""

    def __init__(
        self,
        model: str,
        *,
        enabled: bool,
        cached: int = CACHED_QUERIES,
        precision: PrecisionSetting = "auto",
    ) -> None:
        self.model = model
        self.precision = precision
        self.enabled = enabled
        self._encoder: Encoder | None = None
        self._lock = threading.Lock()
        self._cached = cached
        # float32 arrays: 1.5 kB a vector (a list of Python floats would take 12 kB)
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed(self, text: str) -> list[float] | None:
        """Gets the query vector of a text, or None when hybrid search is off or fails."""
        text = " ".join(text.split()[:MAX_QUERY_WORDS])[:MAX_QUERY_CHARS]
        if not self.enabled or not text:
            return None
        with self._lock:
            known = self._recent.get(text)
            if known is not None:
                self._recent.move_to_end(text)
                return [float(x) for x in known]
            try:
                if self._encoder is None:
                    self._encoder = load_encoder(self.model, threads=1, precision=self.precision)
                vector = np.asarray(self._encoder.encode_queries([text])[0], dtype=np.float32)
            except Exception:  # a missing model must not break the search box
                log.exception("query model %s failed; searching by keywords only", self.model)
                self.enabled = False
                return None
            self._recent[text] = vector
            if len(self._recent) > self._cached:
                self._recent.popitem(last=False)
        return [float(x) for x in vector]


@lru_cache(maxsize=4)
def _embedder(model: str, enabled: bool, precision: PrecisionSetting) -> QueryEmbedder:
    return QueryEmbedder(model, enabled=enabled, precision=precision)


def query_embedder(settings: Settings) -> QueryEmbedder:
    """Gets the process's query embedder for these settings (off unless models are loaded)."""
    enabled = settings.load_encoder and search_block(settings) is not None
    return _embedder(settings.search_query_model, enabled, settings.embedding_precision)


def search_embed(settings: Settings) -> Embed | None:
    """Gets what embeds a search's text for the semantic half of hybrid search, or None while
    the query embedder is off: the search then takes the keyword path from the start rather
    than a hybrid one that ends with no vector (a common word's sample, read for nothing)."""
    embedder = query_embedder(settings)
    return embedder.embed if embedder.enabled else None
