"""What each index holds: field schemas and the mapping from domain data to index documents.

Documents are built from a whitelist of fields. What `experts_public` holds and who is in it
come from the access policy (service/core/policy.py): the fields an institution sees of an
expert it browses, and only the experts open to institutions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from service.core.policy import EXPERT_FIELDS, ExpertView, listed_for_institutions
from service.search.base import Document, UnknownIndex

EXPERTS_STAFF = "experts_staff"
EXPERTS_PUBLIC = "experts_public"
NEEDS = "needs"
INDEXES = (EXPERTS_STAFF, EXPERTS_PUBLIC, NEEDS)

PRIVATE_EXPERT_FIELDS = frozenset({"email", "phone"})
# The vectors an expert record may carry, each with the fields it was embedded from: the full
# profile (matching.texts.profile_document_text) and the public one, from what institutions may
# read (matching.texts.profile_public_text). An index gets the first vector whose fields it
# holds, every one of them, so semantic search never reveals to a reader what the index hides
# from their keyword search (the institutions' index has no bio: it gets the public vector).
VECTOR_SOURCES = frozenset({"headline", "skills", "bio"})
PUBLIC_VECTOR_SOURCES = frozenset({"headline", "skills"})
# A need's vector is embedded from its title, skills and description (matching.texts.
# need_search_text), all of which the needs index holds.
NEED_VECTOR_SOURCES = frozenset({"title", "skills", "description"})
VECTORS = (
    ("embedding", VECTOR_SOURCES),
    ("public_embedding", PUBLIC_VECTOR_SOURCES),
    ("need_embedding", NEED_VECTOR_SOURCES),
)


@dataclass(frozen=True)
class Searchable:
    """A full-text field, its BM25 weight and its PostgreSQL weight class."""

    name: str
    weight: float
    pg_class: str
    snippet: bool = False


@dataclass(frozen=True)
class Window:
    """A date interval on the document that a date or month filter must overlap."""

    name: str
    start_field: str
    end_field: str


@dataclass(frozen=True)
class IndexSchema:
    """Which fields of an index are searched, filtered, faceted and sorted."""

    name: str
    fields: tuple[str, ...]
    searchable: tuple[Searchable, ...]
    keywords: tuple[str, ...]
    list_fields: frozenset[str]
    numbers: tuple[str, ...]
    booleans: tuple[str, ...]
    window: Window
    sortable: tuple[str, ...]
    highlight: tuple[str, ...]

    @property
    def facetable(self) -> tuple[str, ...]:
        """Lists the fields whose values can be counted."""
        return (*self.keywords, self.window.name)

    @property
    def filterable(self) -> tuple[str, ...]:
        """Lists the fields a filter may name."""
        return (*self.keywords, *self.numbers, *self.booleans, self.window.name)


_EXPERT_FIELDS = (
    "id",
    "display_name",
    "headline",
    "bio",
    "skills",
    "languages",
    "origin_country",
    "residence_country",
    "city",
    "sectors",
    "modes",
    "available_from",
    "available_until",
    "hours_per_month",
    "visibility",
    "active",
)
_EXPERT_SEARCHABLE = (
    Searchable("display_name", 3.0, "A"),
    Searchable("skills", 3.0, "A"),
    Searchable("headline", 2.0, "B"),
    Searchable("sectors", 1.5, "B"),
    Searchable("bio", 1.0, "C", snippet=True),
    Searchable("city", 1.0, "C"),
)
_EXPERT_KEYWORDS = (
    "origin_country",
    "residence_country",
    "languages",
    "sectors",
    "modes",
    "skills",
    "city",
)
_EXPERT_LISTS = frozenset({"skills", "languages", "sectors", "modes"})
_AVAILABILITY = Window("availability", "available_from", "available_until")
_EXPERT_SORTABLE = ("display_name", "hours_per_month", "available_from")
_EXPERT_HIGHLIGHT = ("display_name", "headline", "skills", "bio")

# The index institutions search holds exactly what the access policy shows them of an expert
# they browse (skills and background: no name, bio, city or contact detail), so no query can
# find an expert by a field the reader could not read.
_SUMMARY = EXPERT_FIELDS[ExpertView.SUMMARY]
_PUBLIC_FIELDS = tuple(f for f in _EXPERT_FIELDS if f in _SUMMARY)
_PUBLIC_SEARCHABLE = tuple(s for s in _EXPERT_SEARCHABLE if s.name in _SUMMARY)
_PUBLIC_KEYWORDS = tuple(f for f in _EXPERT_KEYWORDS if f in _SUMMARY)
_PUBLIC_SORTABLE = tuple(f for f in _EXPERT_SORTABLE if f in _SUMMARY)
_PUBLIC_HIGHLIGHT = tuple(f for f in _EXPERT_HIGHLIGHT if f in _SUMMARY)

SCHEMAS: dict[str, IndexSchema] = {
    EXPERTS_STAFF: IndexSchema(
        name=EXPERTS_STAFF,
        fields=(*_EXPERT_FIELDS, "email", "phone"),
        searchable=(
            *_EXPERT_SEARCHABLE,
            Searchable("email", 1.0, "D"),
            Searchable("phone", 1.0, "D"),
        ),
        keywords=(*_EXPERT_KEYWORDS, "visibility"),
        list_fields=_EXPERT_LISTS,
        numbers=("hours_per_month",),
        booleans=("active",),
        window=_AVAILABILITY,
        sortable=_EXPERT_SORTABLE,
        highlight=_EXPERT_HIGHLIGHT,
    ),
    EXPERTS_PUBLIC: IndexSchema(
        name=EXPERTS_PUBLIC,
        fields=_PUBLIC_FIELDS,
        searchable=_PUBLIC_SEARCHABLE,
        keywords=_PUBLIC_KEYWORDS,
        list_fields=_EXPERT_LISTS,
        numbers=("hours_per_month",),
        booleans=(),
        window=_AVAILABILITY,
        sortable=_PUBLIC_SORTABLE,
        highlight=_PUBLIC_HIGHLIGHT,
    ),
    NEEDS: IndexSchema(
        name=NEEDS,
        fields=(
            "id",
            "title",
            "description",
            "skills",
            "sector",
            "mode",
            "languages",
            "country",
            "city",
            "institution_name",
            "status",
            "start_from",
            "start_until",
            "hours_per_week",
        ),
        searchable=(
            Searchable("title", 3.0, "A"),
            Searchable("skills", 3.0, "A"),
            Searchable("institution_name", 2.0, "B"),
            Searchable("sector", 1.5, "B"),
            Searchable("description", 1.0, "C", snippet=True),
            Searchable("city", 1.0, "C"),
        ),
        keywords=(
            "sector",
            "mode",
            "languages",
            "skills",
            "country",
            "city",
            "institution_name",
            "status",
        ),
        list_fields=frozenset({"skills", "languages"}),
        numbers=("hours_per_week",),
        booleans=(),
        window=Window("start", "start_from", "start_until"),
        sortable=("title", "start_from", "hours_per_week"),
        highlight=("title", "skills", "description"),
    ),
}

# Equivalent ways of naming a skill. Meilisearch gets them as synonyms; the SQL backends
# expand single-word query terms with them.
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("ml", "machine learning", "apprentissage automatique", "aprendizaje automático"),
    ("ai", "artificial intelligence", "intelligence artificielle", "inteligencia artificial"),
    ("nlp", "natural language processing", "traitement automatique des langues"),
    ("js", "javascript"),
    ("ts", "typescript"),
    ("k8s", "kubernetes"),
    ("gis", "geographic information systems", "sig"),
    ("hr", "human resources", "ressources humaines", "recursos humanos"),
    ("ict", "information and communication technologies", "tic"),
    ("epidemiology", "épidémiologie", "epidemiología", "epidemiologia"),
    ("obgyn", "obstetrics and gynecology", "gynécologie obstétrique"),
    ("mooc", "online course", "cours en ligne"),
)


def schema_for(index: str) -> IndexSchema:
    """Gets the schema of a logical index."""
    try:
        return SCHEMAS[index]
    except KeyError:
        raise UnknownIndex(f"unknown search index {index!r}") from None


def expert_documents(doc: Mapping[str, Any]) -> dict[str, Document | None]:
    """Maps an expert to its document in each expert index (None: must be absent there)."""
    staff = _project(doc, SCHEMAS[EXPERTS_STAFF])
    public: Document | None = _project(doc, SCHEMAS[EXPERTS_PUBLIC])
    # A document's "active" already means active and consenting to matching.
    if not listed_for_institutions(
        active=bool(staff.get("active")),
        consenting=True,
        visibility=str(staff.get("visibility")),
    ):
        public = None
    return {EXPERTS_STAFF: staff, EXPERTS_PUBLIC: public}


def need_documents(doc: Mapping[str, Any]) -> dict[str, Document | None]:
    """Maps a need to its document in the needs index (None unless the need is open)."""
    mapped = _project(doc, SCHEMAS[NEEDS])
    return {NEEDS: mapped if mapped.get("status") == "open" else None}


def _project(doc: Mapping[str, Any], schema: IndexSchema) -> Document:
    """Copies the whitelisted fields of a schema, normalised; never anything else."""
    out: Document = {}
    for name in schema.fields:
        out[name] = _normalise(name, doc.get(name), schema)
    if not isinstance(out["id"], int) or isinstance(out["id"], bool):
        raise ValueError("a search document needs an integer 'id'")
    held = set(schema.fields)
    source = next((key for key, fields in VECTORS if held >= fields), None)
    vector = doc.get(source) if source else None
    if vector is not None:
        out["embedding"] = [float(x) for x in vector]
    return out


def _normalise(name: str, value: Any, schema: IndexSchema) -> Any:
    """Gives every field one canonical shape, whatever the caller passed."""
    if name in schema.list_fields:
        items = [str(v).strip() for v in (value or []) if str(v).strip()]
        if name == "languages":
            items = [v.lower() for v in items]
        return list(dict.fromkeys(items))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if name in ("origin_country", "residence_country", "country") and value:
        return str(value).strip().upper()
    if name in schema.numbers or name == "id":
        return int(value) if value is not None else None
    if name == "active":
        return bool(value)
    if isinstance(value, str):
        return value.strip()
    return value
