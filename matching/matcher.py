"""The matcher: index experts, rank experts for a need and needs for an expert, with reasons."""

from __future__ import annotations

import math
import sys
import zlib
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from matching.constraints import Assessment, MatchPolicy, assess, expert_exclusion
from matching.encoders import Encoder, content_hash, release_freed_memory
from matching.explain import build_explanation, phrases_to_embed
from matching.fusion import FusionWeights, detect_language, fuse_scores, zscore
from matching.index import Storage, VectorIndex, tie_key, top_k_indices
from matching.population import BlockMoments
from matching.records import Candidate, ExpertRecord, Explanation, NeedRecord
from matching.texts import (
    PROFILE_SECTIONS,
    QUERY_SIDES,
    RECIPE_VERSION,
    SECTION_MODELS,
    need_query_text,
    need_side_texts,
    normalise_skill,
    profile_section_texts,
)

FloatArray = NDArray[np.float32]

# Which need side is compared with which profile section, per model block: signal names are
# "<model>.<section>" for the query side against a section, "<model>.title_headline" for the
# need's title against the expert's headline.
_SIGNAL_PAIRS: tuple[tuple[str, str, str], ...] = (
    ("document", "query", "document"),
    ("headline", "query", "headline"),
    ("title_headline", "title", "headline"),
)
_PHRASE_CACHE_SIZE = 50_000
# Embedded needs kept by text (about 10 kB each): an expert's job ranks every open need.
_NEED_CACHE_SIZE = 2048


class LexicalScorer(Protocol):
    """Keyword search backend: BM25-like scores (higher is better) of experts for a text."""

    def __call__(self, query: str, limit: int) -> Mapping[str, float]:
        """Scores the experts matching the query."""
        ...


@dataclass(frozen=True)
class Scores:
    """A need's scores over some experts (one value a position): each signal, the lexical
    score, the feedback stage's extras and the fused relevance."""

    signals: dict[str, FloatArray]
    lexical: FloatArray | None
    extra: dict[str, FloatArray]
    relevance: FloatArray


@dataclass(frozen=True)
class StoredVector:
    """An expert's vector as persisted by the service, with what it was computed from."""

    content_hash: str
    version: str
    vector: FloatArray


@lru_cache(maxsize=4096)
def _language(text: str) -> str:
    """The language of a need's text, guessed once per text: "needs for you" weighs every
    open need on each expert job (a stopword count of each text was 5 % of that job)."""
    return detect_language(text)


class Matcher:
    """Ranks experts for needs from meaning, keywords and hard facts, with explanations."""

    def __init__(
        self,
        encoder: Encoder,
        *,
        policy: MatchPolicy | None = None,
        weights_for: Callable[[str], FusionWeights] = FusionWeights.for_language,
        today: Callable[[], date] = date.today,
        storage: Storage = "int8",
    ) -> None:
        self.encoder = encoder
        self.policy = policy or MatchPolicy()
        self.weights_for = weights_for
        self.today = today
        self.version = f"{encoder.name}:{encoder.version}:recipe{RECIPE_VERSION}"
        self._dim = encoder.dim
        # Only the blocks each section is embedded with are stored: (section, model) -> block.
        self._slots: dict[tuple[str, str], int] = {}
        layout: list[tuple[int, int]] = []
        for number, section in enumerate(PROFILE_SECTIONS):
            for block in encoder.document_blocks(SECTION_MODELS[section]):
                self._slots[(section, block.name)] = len(layout)
                offset = number * self._dim
                layout.append((offset + block.start, offset + block.stop))
        self.index = VectorIndex(self._dim * len(PROFILE_SECTIONS), blocks=layout, storage=storage)
        # The models each need side is embedded with: those whose blocks some signal compares
        # (the title meets only the headline, which only USE embeds), and the phrase model,
        # whose block explanations cut out. e5 and MiniLM embedded the title for nothing, and
        # padded to the description's length in the same batch it cost as much as it.
        self._side_models: dict[str, tuple[str, ...]] = {}
        for side in QUERY_SIDES:
            sections = {section for _, s, section in _SIGNAL_PAIRS if s == side}
            self._side_models[side] = tuple(
                block.name
                for block in encoder.blocks
                if any((section, block.name) in self._slots for section in sections)
                or block == encoder.phrase_block
            )
        # Records are kept without their bio, which only explanations read: it is kept
        # zlib-compressed apart (the largest field; ~40 % smaller). Hashes as raw digests.
        self._experts: dict[str, ExpertRecord] = {}
        self._bios: dict[str, bytes] = {}
        self._hashes: dict[str, bytes] = {}
        self._phrases: OrderedDict[str, FloatArray] = OrderedDict()
        self._need_vectors: OrderedDict[tuple[str, ...], FloatArray] = OrderedDict()
        # Spread of the indexed rows, built on the first `rank_needs` and kept in step.
        self._moments: BlockMoments | None = None
        # Normalised skills per expert, and who holds each skill: for skill feedback.
        self._skills: dict[str, tuple[str, ...]] = {}
        # Lists, not sets: 100k experts hold ~800k skills, and a small set costs 200+ bytes.
        self._holders: dict[str, list[str]] = defaultdict(list)
        # Skill weights (idf) and each expert's skill norm, computed when first needed and
        # kept until the skills or the number of experts change.
        self._idf: dict[str, float] = {}
        self._skill_norms: dict[str, float] = {}
        self._holder_rows: dict[str, NDArray[np.intp]] = {}
        self._row_norms: NDArray[np.float64] = np.zeros(0)  # by row; NaN: not computed yet
        self._skill_state: tuple[int, int] = (0, 0)  # (skill changes, experts) they are for
        self._skill_changes = 0

    # --- indexing --------------------------------------------------------------------------

    def slot(self, section: str, model: str) -> int | None:
        """The index block holding a profile section as one model embeds it (None: that
        model does not embed that section)."""
        return self._slots.get((section, model))

    def expert_hash(self, expert: ExpertRecord) -> str:
        """Content hash of what gets embedded for an expert, under this encoder and recipe."""
        return content_hash("\x1f".join(profile_section_texts(expert)), self.version)

    def embed_experts(self, experts: Sequence[ExpertRecord]) -> FloatArray:
        """Embeds experts: one row each, the sections side by side."""
        if not experts:
            return np.zeros((0, self.index.dim), dtype=np.float32)
        sections = [profile_section_texts(e) for e in experts]
        blocks = [
            self.encoder.encode_documents(
                [texts[i] for texts in sections], only=SECTION_MODELS[section]
            )
            for i, section in enumerate(PROFILE_SECTIONS)
        ]
        return np.concatenate(blocks, axis=1).astype(np.float32)

    def index_experts(
        self,
        experts: Iterable[ExpertRecord],
        stored: Mapping[str, StoredVector] | None = None,
    ) -> dict[str, StoredVector]:
        """Adds or replaces experts; embeds only those without a current stored vector.

        Returns the vectors it computed, for the caller to persist.
        """
        stored = stored or {}
        # In input order: new experts take index rows in the order given, whether their
        # vectors were stored or are computed now.
        indexed: list[tuple[ExpertRecord, str]] = []
        vectors: list[FloatArray | None] = []
        fresh: list[int] = []  # positions in `indexed` to embed now
        for expert in experts:
            digest = self.expert_hash(expert)
            if self._hashes.get(expert.expert_id) == bytes.fromhex(digest):
                self._remember(expert)  # structured fields may have changed
                continue
            known = stored.get(expert.expert_id)
            if known is not None and known.content_hash == digest and known.version == self.version:
                vectors.append(known.vector)
            else:
                fresh.append(len(indexed))
                vectors.append(None)
            indexed.append((expert, digest))
        computed: dict[str, StoredVector] = {}
        embedded = self.embed_experts([indexed[i][0] for i in fresh])
        for position, vector in zip(fresh, embedded, strict=True):
            expert, digest = indexed[position]
            computed[expert.expert_id] = StoredVector(digest, self.version, vector)
            vectors[position] = vector
        if indexed:
            ids = [expert.expert_id for expert, _ in indexed]
            replaced = self._rows_of(ids)
            if self._moments is not None:
                self._moments.add(replaced, -1.0)
            self.index.upsert(ids, np.stack([v for v in vectors if v is not None]))
            if self._moments is not None:
                self._moments.add(self._rows_of(ids))
            for expert, digest in indexed:
                self._remember(expert)
                self._hashes[expert.expert_id] = bytes.fromhex(digest)
        return computed

    def reserve(self, experts: int) -> None:
        """Makes room in the index for this many experts and an eighth more, for those who
        register next (a sync knows its count up front; room never filled costs nothing)."""
        self.index.reserve(experts + experts // 8)

    def _rows_of(self, ids: Sequence[str]) -> NDArray[np.intp]:
        """Distinct index rows of the ids already indexed."""
        rows = {self.index.row(i) for i in ids if i in self.index}
        return np.array(sorted(rows), dtype=np.intp)

    def _remember(self, expert: ExpertRecord) -> None:
        """Keeps the record and its normalised skills."""
        # Skills repeat across profiles: one shared string each (about a third of the memory
        # 100k records take), and a tuple is half the size of a frozenset.
        if expert.bio:
            self._bios[expert.expert_id] = zlib.compress(expert.bio.encode("utf-8"))
        else:
            self._bios.pop(expert.expert_id, None)
        self._experts[expert.expert_id] = replace(
            expert,
            bio="",
            skills=[sys.intern(str(s)) for s in expert.skills],
            languages=[sys.intern(str(c)) for c in expert.languages],
        )
        normalised = (sys.intern(str(s)) for s in map(normalise_skill, expert.skills) if s)
        skills = tuple(dict.fromkeys(normalised))
        if self._skills.get(expert.expert_id) == skills:
            # Same skills (a refresh reads the rows changed inside its overlap again, and most
            # changes leave skills alone): the skill weights and norms stay valid.
            return
        self._forget_skills(expert.expert_id)
        self._skill_changes += 1
        self._skills[expert.expert_id] = skills
        for skill in skills:
            self._holders[skill].append(expert.expert_id)

    def _forget_skills(self, expert_id: str) -> None:
        self._skill_changes += 1
        for skill in self._skills.pop(expert_id, ()):
            holders = self._holders[skill]
            holders.remove(expert_id)
            if not holders:
                del self._holders[skill]

    def remove(self, expert_id: str) -> bool:
        """Removes an expert from the index; tells whether it was there."""
        self._experts.pop(expert_id, None)
        self._bios.pop(expert_id, None)
        self._hashes.pop(expert_id, None)
        self._forget_skills(expert_id)
        if self._moments is not None:
            self._moments.add(self._rows_of([expert_id]), -1.0)
        return self.index.remove([expert_id]) == 1

    def __len__(self) -> int:
        return len(self.index)

    def prepare_population(self, *, joint: bool = False) -> None:
        """Builds the index's block moments now (one pass; seconds at 100k experts) rather
        than on the first `rank_needs`; they are kept in step from then on. `joint` keeps the
        moments across blocks too (a pool ranker's fused relevance needs them)."""
        self.population(joint=joint)
        release_freed_memory()  # the batches that built the index leave freed heap behind

    def population(self, *, joint: bool = False) -> BlockMoments:
        """The index's moments, kept in step with every change (built on first use; once
        joint, always joint)."""
        if self._moments is None or (joint and not self._moments.joint):
            self._moments = BlockMoments(self.index, joint=joint)
        return self._moments

    def kept(self, expert_id: str) -> ExpertRecord:
        """The indexed record of an expert as kept in memory (no bio: enough for constraints)."""
        return self._experts[expert_id]

    def record(self, expert_id: str) -> ExpertRecord:
        """The indexed record of an expert, bio included."""
        bio = self._bios.get(expert_id)
        kept = self._experts[expert_id]
        return replace(kept, bio=zlib.decompress(bio).decode("utf-8")) if bio else kept

    # --- ranking ---------------------------------------------------------------------------

    def embed_need(self, need: NeedRecord) -> FloatArray:
        """Embeds a need's sides: one row per entry of `QUERY_SIDES` (cached by text)."""
        texts = need_side_texts(need)
        vectors = self._need_vectors.get(texts)
        if vectors is None:
            vectors = self._encode_sides(texts)
            self._need_vectors[texts] = vectors
            # The explanations compare profile phrases with the need's text: its phrase
            # vector is a block of the one just computed (one model pass fewer).
            phrases = self.encoder.phrases_within(vectors)
            if phrases is not None:
                self._keep_phrases(texts, phrases)
            while len(self._need_vectors) > _NEED_CACHE_SIZE:
                self._need_vectors.popitem(last=False)
        self._need_vectors.move_to_end(texts)
        return vectors

    def _encode_sides(self, texts: tuple[str, ...]) -> FloatArray:
        """A need's side texts embedded, each side with only the models it is compared by
        (the other blocks of its row left at zero); sides needing the same models share a
        call."""
        everything = tuple(block.name for block in self.encoder.blocks)
        groups: dict[tuple[str, ...], list[int]] = {}
        for row, side in enumerate(QUERY_SIDES):
            groups.setdefault(self._side_models[side], []).append(row)
        if list(groups) == [everything] or not self.encoder.members:
            return self.encoder.encode_queries(list(texts))
        vectors = np.zeros((len(texts), self.encoder.dim), dtype=np.float32)
        for models, rows in groups.items():
            only = None if models == everything else models
            vectors[rows] = self.encoder.encode_queries([texts[r] for r in rows], only=only)
        return vectors

    def signal_scores(self, query_vectors: FloatArray) -> dict[str, FloatArray]:
        """Cosine of every indexed expert per signal ("<model>.<pair>")."""
        names: list[str] = []
        queries: list[tuple[int, FloatArray]] = []
        for block in self.encoder.blocks:
            for pair, side, section in _SIGNAL_PAIRS:
                slot = self._slots.get((section, block.name))
                if slot is not None:
                    names.append(f"{block.name}.{pair}")
                    query = query_vectors[QUERY_SIDES.index(side), block.start : block.stop]
                    queries.append((slot, query))
        # One pass over the index for every signal; a section a model does not embed scores 0.
        columns = np.ascontiguousarray(self.index.block_scores(queries).T)
        computed = dict(zip(names, columns, strict=True))
        zeros = np.zeros(len(self.index), dtype=np.float32)
        return {
            f"{block.name}.{pair}": computed.get(f"{block.name}.{pair}", zeros)
            for block in self.encoder.blocks
            for pair, _, _ in _SIGNAL_PAIRS
        }

    def rank_experts(
        self,
        need: NeedRecord,
        *,
        lexical_scores: Mapping[str, float] | None = None,
        k: int = 10,
        exclude: Iterable[str] = (),
        query_vectors: FloatArray | None = None,
        explain: bool = True,
    ) -> list[Candidate]:
        """Top-k eligible experts for a need, best first, each with components and reasons."""
        n = len(self.index)
        if n == 0 or k <= 0:
            return []
        vectors = query_vectors if query_vectors is not None else self.embed_need(need)
        signals = self.signal_scores(vectors)
        lexical = self._lexical_array(lexical_scores) if lexical_scores is not None else None
        weights = self.weights_for(_language(need_query_text(need)))
        relevance = fuse_scores(dense=signals, lexical=lexical, weights=weights)
        extra: dict[str, FloatArray] = {}
        if weights.uses_feedback and n > weights.feedback_depth:
            relevance, extra = self._with_feedback(relevance, weights)
        ids = self.index.ids
        passed = self.eligible(need, relevance, lambda row: self.kept(ids[row]), k, exclude)
        # Equal scores by expert id, not by row: rows move as experts are removed and
        # re-embedded, and every process must propose the same experts.
        passed.sort(key=lambda item: (-item[0], tie_key(ids[item[1]])))
        scores = Scores(signals, lexical, extra, relevance)
        return self.candidates(need, passed[:k], lambda row: ids[row], scores, explain=explain)

    def eligible(
        self,
        need: NeedRecord,
        relevance: FloatArray,
        expert_at: Callable[[int], ExpertRecord],
        k: int,
        exclude: Iterable[str] = (),
    ) -> list[tuple[float, int, Assessment]]:
        """(score, position, assessment) of the experts that pass the need's constraints,
        checked on the most relevant positions first (equal relevance by expert id), the
        window widened until k pass."""
        skip = set(exclude)
        today = self.today()
        n = len(relevance)
        window = min(n, max(4 * k, 50))
        while True:
            passed: list[tuple[float, int, Assessment]] = []
            for position in top_k_indices(relevance, window, lambda p: expert_at(p).expert_id):
                expert = expert_at(int(position))
                if expert.expert_id in skip:
                    continue
                assessment = assess(expert, need, self.policy, today)
                if assessment.eligible:
                    score = float(relevance[position]) + sum(assessment.adjustments.values())
                    passed.append((score, int(position), assessment))
            if len(passed) >= k or window >= n:
                return passed
            window = min(n, window * 4)

    def candidates(
        self,
        need: NeedRecord,
        passed: Sequence[tuple[float, int, Assessment]],
        expert_id_at: Callable[[int], str],
        scores: Scores,
        *,
        explain: bool = True,
    ) -> list[Candidate]:
        """Candidates (score components, reasons) of the experts that passed, in order."""
        ranked: list[Candidate] = []
        experts = [self.record(expert_id_at(position)) for _, position, _ in passed]
        if explain:
            self._embed_phrases_of([(need, expert) for expert in experts])
        for (score, position, assessment), expert in zip(passed, experts, strict=True):
            components = {name: float(values[position]) for name, values in scores.signals.items()}
            if scores.lexical is not None:
                components["lexical"] = float(scores.lexical[position])
            for name, values in scores.extra.items():
                components[name] = float(values[position])
            components["relevance"] = float(scores.relevance[position])
            components.update(assessment.adjustments)
            components["score"] = score
            explanation = (
                build_explanation(
                    expert, need, assessment, self.encode_phrases, need_query_text(need)
                )
                if explain
                else Explanation()
            )
            ranked.append(Candidate(expert.expert_id, need.need_id, score, components, explanation))
        return ranked

    def rank_needs(
        self,
        expert: ExpertRecord,
        needs: Sequence[NeedRecord],
        *,
        k: int = 10,
        explain: bool = True,
    ) -> list[Candidate]:
        """Top-k open needs an expert fits, best first; the expert's fit is judged against
        every indexed expert, so the score means the same as in `rank_experts`."""
        today = self.today()
        if expert_exclusion(expert, self.policy, today) is not None or not needs:
            return []
        if expert.expert_id in self.index and self._hashes.get(expert.expert_id) == bytes.fromhex(
            self.expert_hash(expert)
        ):
            row_vector = self.index.vector(expert.expert_id)
        else:
            row_vector = self.embed_experts([expert])[0]
        scored: list[tuple[float, NeedRecord, Assessment, dict[str, float]]] = []
        for need in needs:
            assessment = assess(expert, need, self.policy, today)
            if not assessment.eligible:
                continue
            vectors = self.embed_need(need)
            relevance, components = self._relevance_of(row_vector, vectors, need)
            components.update(assessment.adjustments)
            score = relevance + sum(assessment.adjustments.values())
            components["score"] = score
            scored.append((score, need, assessment, components))
        scored.sort(key=lambda item: -item[0])
        # Reasons only for the needs kept: an explanation costs more than a score.
        if explain:
            self._embed_phrases_of([(need, expert) for _, need, _, _ in scored[:k]])
        return [
            Candidate(
                expert.expert_id,
                need.need_id,
                score,
                components,
                build_explanation(
                    expert, need, assessment, self.encode_phrases, need_query_text(need)
                )
                if explain
                else Explanation(),
            )
            for score, need, assessment, components in scored[:k]
        ]

    def _embed_phrases_of(self, pairs: Sequence[tuple[NeedRecord, ExpertRecord]]) -> None:
        """Embeds (into the phrase cache) every phrase the explanations of these pairs will
        compare, in one encoder call: two calls per pair cost ~15 % more encoder time."""
        texts = [
            text
            for need, expert in pairs
            for text in phrases_to_embed(expert, need, need_query_text(need))
        ]
        if any(text not in self._phrases for text in texts):
            self.encode_phrases(texts)

    def encode_phrases(self, texts: Sequence[str]) -> FloatArray:
        """Phrase vectors for explanations, cached by text (skills repeat across profiles)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._phrases]
        if missing:
            self._keep_phrases(missing, self.encoder.encode_phrases(missing))
        for text in texts:
            self._phrases.move_to_end(text)
        return np.stack([self._phrases[t] for t in texts]).astype(np.float32)

    def _keep_phrases(self, texts: Sequence[str], vectors: FloatArray) -> None:
        """Caches phrase vectors by text (the least recently used leave first)."""
        for text, vector in zip(texts, vectors, strict=True):
            self._phrases[text] = vector
            self._phrases.move_to_end(text)
        while len(self._phrases) > _PHRASE_CACHE_SIZE:
            self._phrases.popitem(last=False)

    # --- helpers ---------------------------------------------------------------------------

    def _with_feedback(
        self, first: FloatArray, weights: FusionWeights
    ) -> tuple[FloatArray, dict[str, FloatArray]]:
        """Second stage: experts close to the first stage's best few rank up (pseudo-relevance
        feedback); profiles of one occupation resemble each other more than any need text."""
        top = top_k_indices(first, weights.feedback_depth, self.index.ids.__getitem__)
        combined = zscore(first)
        extra: dict[str, FloatArray] = {"first_stage": combined}
        used: list[float] = []
        queries: list[tuple[int, FloatArray]] = []
        for block in self.encoder.blocks:
            weight = weights.feedback_dense.get(block.name, 0.0)
            slot = self._slots.get(("document", block.name))
            if weight <= 0.0 or slot is None:
                continue
            used.append(weight)
            queries.append((slot, self.index.block_rows(top, slot).mean(axis=0)))
        dense: FloatArray | None = None
        if queries:
            similarity = self.index.block_scores(queries)
            for column, weight in enumerate(used):
                part = np.float32(weight) * zscore(similarity[:, column])
                dense = part if dense is None else dense + part
        if dense is not None and weights.feedback_dense_weight > 0:
            extra["feedback_dense"] = zscore(dense)
            combined = (
                combined + np.float32(weights.feedback_dense_weight) * extra["feedback_dense"]
            )
        if weights.feedback_skills_weight > 0:
            extra["feedback_skills"] = zscore(self.skill_feedback(top))
            combined = (
                combined + np.float32(weights.feedback_skills_weight) * extra["feedback_skills"]
            )
        return np.asarray(combined, dtype=np.float32), extra

    def skill_feedback(self, top: NDArray[np.intp]) -> FloatArray:
        """Tf-idf cosine of every expert's skills with the mean skill vector of `top` rows."""
        n = len(self.index)
        ids = self.index.ids
        if self._skill_state != (self._skill_changes, n):
            self._idf.clear()
            self._skill_norms.clear()
            self._holder_rows.clear()
            self._row_norms = np.full(n, np.nan)
            self._skill_state = (self._skill_changes, n)

        def idf(skill: str) -> float:
            value = self._idf.get(skill)
            if value is None:
                value = math.log(n / max(1, len(self._holders.get(skill, ()))))
                self._idf[skill] = value
            return value

        def norm(expert_id: str) -> float:
            value = self._skill_norms.get(expert_id)
            if value is None:
                skills = self._skills.get(expert_id, ())
                value = math.sqrt(sum(idf(s) ** 2 for s in skills)) or 1.0
                self._skill_norms[expert_id] = value
            return value

        def holder_rows(skill: str) -> NDArray[np.intp]:
            rows = self._holder_rows.get(skill)
            if rows is None:
                holders = self._holders.get(skill, ())
                rows = np.fromiter(map(self.index.row, holders), np.intp, len(holders))
                self._holder_rows[skill] = rows
            return rows

        centroid: dict[str, float] = defaultdict(float)
        for row in top:
            expert_id = ids[int(row)]
            scale = 1.0 / (norm(expert_id) * len(top))
            for skill in self._skills.get(expert_id, ()):
                centroid[skill] += idf(skill) * scale
        # Each skill adds its share to its holders (distinct rows within one skill), in the
        # same order for every expert as a loop over holders would.
        dots = np.zeros(n, dtype=np.float64)
        for skill, weight in centroid.items():
            dots[holder_rows(skill)] += idf(skill) * weight
        touched = np.flatnonzero(dots)
        norms = self._row_norms[touched]
        for position in np.flatnonzero(np.isnan(norms)):
            row = int(touched[position])
            norms[position] = self._row_norms[row] = norm(ids[row])
        scores = np.zeros(n, dtype=np.float32)
        scores[touched] = dots[touched] / norms
        return scores

    def _lexical_array(self, scores: Mapping[str, float]) -> FloatArray:
        """Lexical scores aligned with index rows; experts the backend did not return get 0."""
        out = np.zeros(len(self.index), dtype=np.float32)
        for expert_id, score in scores.items():
            if expert_id in self.index:
                out[self.index.row(expert_id)] = score
        return out

    def _relevance_of(
        self, row_vector: FloatArray, query_vectors: FloatArray, need: NeedRecord
    ) -> tuple[float, dict[str, float]]:
        """One expert's fused relevance for a need, standardised against all indexed experts."""
        n = len(self.index)
        if n > 1 and self._moments is None:
            # Built once; trimming the heap after every need (malloc_trim walks it all) cost
            # "needs for you" milliseconds a need at 100,000 experts.
            self.prepare_population()
        weights = self.weights_for(_language(need_query_text(need)))
        components: dict[str, float] = {}
        total = 0.0
        weight_sum = 0.0
        for block in self.encoder.blocks:
            for pair, side, section in _SIGNAL_PAIRS:
                name = f"{block.name}.{pair}"
                offset = PROFILE_SECTIONS.index(section) * self._dim
                query = query_vectors[QUERY_SIDES.index(side), block.start : block.stop]
                own = float(row_vector[offset + block.start : offset + block.stop] @ query)
                components[name] = own
                weight = weights.dense.get(name, 0.0)
                if weight <= 0.0 or n <= 1 or self._moments is None:
                    continue
                slot = self._slots.get((section, block.name))
                # A section the model does not embed scores 0 for everyone: z is 0.
                mean, std = self._moments.mean_std(slot, query) if slot is not None else (0, 0)
                z = (own - mean) / std if std > 1e-9 else 0.0
                total += weight * z
                weight_sum += weight
        relevance = total / weight_sum if weight_sum else 0.0
        components["relevance"] = relevance
        return relevance, components
