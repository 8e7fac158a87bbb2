"""Keeps the matcher's candidate pool (Meilisearch) in step with its in-memory index: each
expert's pool vector, constraint fields and whether institutions may be proposed them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from matching.matcher import Matcher
from matching.pool import pool_fields, pool_vector
from matching.records import ExpertRecord
from service.core import policy
from service.models import ExpertProfile
from service.search.meili_pool import MeiliCandidatePool


def sync_pool(
    pool: MeiliCandidatePool,
    matcher: Matcher,
    experts: Sequence[ExpertProfile],
    records: Sequence[ExpertRecord],
    removed: Sequence[str],
) -> int:
    """Sends the pool the experts whose document changed and removes the departed ones;
    returns how many documents it sent."""
    pool.ensure_index()
    stored = pool.fingerprints()
    documents = []
    for expert, record in zip(experts, records, strict=True):
        if record.expert_id not in matcher.index:
            continue
        fields = pool_fields(record)
        open_ = policy.open_to_institutions(expert)
        print_ = _fingerprint(matcher, record, fields, open_=open_)
        if stored.get(record.expert_id) == print_:
            continue
        vector = pool_vector(matcher, matcher.index.vector(record.expert_id))
        document = pool.document(record.expert_id, vector, fields, open_=open_)
        document["fingerprint"] = print_
        documents.append(document)
    current = {r.expert_id for r in records}
    gone = sorted(set(removed) | (set(stored) - current))
    pool.upsert(documents)
    pool.delete(gone)
    return len(documents)


def _fingerprint(
    matcher: Matcher, record: ExpertRecord, fields: dict[str, object], *, open_: bool
) -> str:
    """What a pool document was made from: the embedded text's hash, the fields, the policy."""
    body = json.dumps([matcher.expert_hash(record), fields, open_], sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:24]
