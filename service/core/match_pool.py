"""Keeps the matcher's candidate pool (Meilisearch) in step with its in-memory index: each
expert's pool vector, constraint fields and whether institutions may be proposed them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from matching.matcher import Matcher
from matching.pool import (
    indexed_pool_vectors,
    pool_dimensions,
    pool_fields,
    pool_vector,
    stored_layout,
)
from matching.records import ExpertRecord
from service.core import policy
from service.models import ExpertProfile
from service.search.meili_pool import PARTS, MeiliCandidatePool

# The smaller layout a pool may hold instead of the whole row (`MeiliCandidatePool(columns=)`):
# the document section's blocks, which carry nearly all of the dense relevance's weight. Not
# the service's default: it indexed 1.3 times faster but searched no faster, and lost some
# recall (docs/deploy.md, "Candidates from Meilisearch").
DOCUMENT_SECTION = ("document",)
REFILE_CHUNK = 10_000  # experts whose group is computed at a time


def pool_columns(matcher: Matcher, sections: tuple[str, ...] = DOCUMENT_SECTION) -> list[int]:
    """The columns of a pool vector the pool holds: the stored blocks of `sections`, in
    stored order, and the padding column (last)."""
    layout = stored_layout(matcher)
    slots = sorted(
        slot
        for section in sections
        for block in matcher.encoder.blocks
        if (slot := matcher.slot(section, block.name)) is not None
    )
    columns = [column for slot in slots for column in range(*layout[slot])]
    return [*columns, pool_dimensions(matcher) - 1]


def pool_fingerprints(pool: MeiliCandidatePool) -> dict[str, str]:
    """Creates the pool's index if needed and gets what each of its documents was made from."""
    pool.ensure_index()
    return pool.fingerprints()


def send_to_pool(
    pool: MeiliCandidatePool,
    matcher: Matcher,
    experts: Sequence[ExpertProfile],
    records: Sequence[ExpertRecord],
    *,
    known: Mapping[str, str] | None = None,
) -> int:
    """Sends the pool the indexed experts whose document differs from what it holds (`known`,
    the fingerprints by expert id; None sends every one); returns how many it sent."""
    documents = []
    for expert, record in zip(experts, records, strict=True):
        if record.expert_id not in matcher.index:
            continue
        fields = pool_fields(record)
        open_ = policy.open_to_institutions(expert)
        print_ = filed_under(
            _fingerprint(matcher, record, fields, open_=open_, dimensions=pool.dimensions), pool
        )
        if known is not None and known.get(record.expert_id) == print_:
            continue
        vector = pool_vector(matcher, matcher.index.vector(record.expert_id))
        document = pool.document(record.expert_id, vector, fields, open_=open_)
        document["fingerprint"] = print_
        documents.append(document)
    pool.upsert(documents)
    return len(documents)


def filed_under(content: str, pool: MeiliCandidatePool) -> str:
    """A document's fingerprint: what it was made from and, with shared partitions, the
    version of the centroids it was filed under (so that new centroids re-file it)."""
    return content if pool.version is None else f"{content}:{pool.version}"


def refile_pool(pool: MeiliCandidatePool, matcher: Matcher, known: Mapping[str, str]) -> int:
    """Files the indexed experts' documents filed under other centroids (or none) under the
    pool's partitions: their `group`, `grouping` and fingerprint only, as partial updates
    (their vectors and fields are current: `send_to_pool` has sent what changed); returns how
    many it re-filed."""
    if pool.partitions is None or pool.version is None:
        return 0
    stale = [
        (expert_id, made.split(":")[0])
        for expert_id, made in known.items()
        if expert_id in matcher.index and made != filed_under(made.split(":")[0], pool)
    ]
    documents = []
    for start in range(0, len(stale), REFILE_CHUNK):
        chunk = stale[start : start + REFILE_CHUNK]
        groups = pool.partitions.assign(indexed_pool_vectors(matcher, [i for i, _ in chunk]))
        documents += [
            {
                "id": expert_id,
                "group": int(group),
                "grouping": pool.version,
                "fingerprint": filed_under(content, pool),
            }
            for (expert_id, content), group in zip(chunk, groups, strict=True)
        ]
    pool.upsert(documents, partial_=True)
    return len(documents)


def prune_pool(pool: MeiliCandidatePool, matcher: Matcher, known: Mapping[str, str]) -> None:
    """Removes from the pool the experts the matcher's index no longer holds."""
    pool.delete(sorted(expert_id for expert_id in known if expert_id not in matcher.index))


def _fingerprint(
    matcher: Matcher,
    record: ExpertRecord,
    fields: dict[str, object],
    *,
    open_: bool,
    dimensions: int,
) -> str:
    """What a pool document was made from: the embedded text's hash, the fields, the policy
    and the pool's layout (its dimension, and how many parts its `part` field counts)."""
    made = [matcher.expert_hash(record), fields, open_, dimensions, PARTS]
    body = json.dumps(made, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:24]
