"""Search: one interface over SQLite FTS5, PostgreSQL full-text search and Meilisearch."""

from service.search.base import (
    BackendUnavailable,
    FacetCount,
    Hit,
    InvalidFacet,
    InvalidFilter,
    InvalidQuery,
    InvalidSort,
    Range,
    SearchBackend,
    SearchError,
    SearchPage,
    SearchQuery,
    UnknownIndex,
)
from service.search.documents import (
    EXPERTS_PUBLIC,
    EXPERTS_STAFF,
    INDEXES,
    NEEDS,
    expert_documents,
    need_documents,
)

__all__ = [
    "EXPERTS_PUBLIC",
    "EXPERTS_STAFF",
    "INDEXES",
    "NEEDS",
    "BackendUnavailable",
    "FacetCount",
    "Hit",
    "InvalidFacet",
    "InvalidFilter",
    "InvalidQuery",
    "InvalidSort",
    "Range",
    "SearchBackend",
    "SearchError",
    "SearchPage",
    "SearchQuery",
    "UnknownIndex",
    "expert_documents",
    "need_documents",
]
