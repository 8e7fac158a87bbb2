"""A re-matching job's small encoder calls run on one thread; bulk calls on the configured count.

On a busy machine a thread pair spins at every operation's barrier while its partner waits for
a core (`matching.threads`): the count each call ran on is observed inside the models."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from matching import threads
from matching.encoders import Encoder, UseBackend
from matching.threads import SMALL_CALL_CHARS, threads_for, torch_threads


def test_small_calls_get_one_thread_and_bulk_calls_the_configured_count() -> None:
    assert threads_for(["a need's title", "its description"], 2) == 1
    assert threads_for(["x" * 600] * 64, 2) == 2  # a sync's batch of profiles
    assert threads_for(["x" * SMALL_CALL_CHARS], 3) == 1
    assert threads_for(["x" * (SMALL_CALL_CHARS + 1)], 3) == 3


def test_the_callers_count_is_restored() -> None:
    before = torch.get_num_threads()
    with torch_threads(before + 1):
        assert torch.get_num_threads() == before + 1
    assert torch.get_num_threads() == before


def _threads_seen_by(module: torch.nn.Module) -> list[int]:
    seen: list[int] = []
    module.register_forward_hook(lambda *_: seen.append(torch.get_num_threads()))
    return seen


@pytest.mark.slow
def test_the_torch_members_run_a_job_call_on_one_thread(
    fused_encoder: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch.set_num_threads(2)
    for name in ("e5", "minilm"):
        backend = fused_encoder.members[name].backend
        backend.threads = 2  # type: ignore[attr-defined]
        seen = _threads_seen_by(backend.model.layers[0])  # type: ignore[attr-defined]
        member = fused_encoder.members[name]
        one = member.encode_query(["Epidemiology course"])
        member.encode_query(["Epidemiology course. " * 30] * 32)
        assert seen[0] == 1, name
        assert set(seen[1:]) == {2}, name
        assert torch.get_num_threads() == 2
        # One thread or two: the same vector, to float rounding.
        with monkeypatch.context() as patch:
            patch.setattr(threads, "SMALL_CALL_CHARS", 0)
            two = member.encode_query(["Epidemiology course"])
        assert seen[-1] == 2, name
        assert np.allclose(one, two, atol=1e-5), name


@pytest.mark.slow
def test_use_runs_a_job_call_on_one_blas_thread(fused_encoder: Encoder) -> None:
    backend = fused_encoder.members["use"].backend
    assert isinstance(backend, UseBackend)
    backend.threads = 2
    one = backend.embed(["epidemiology", "biostatistics"], is_query=False)
    assert backend._model._model.threads == 1
    backend.embed(["epidemiology. " * 700], is_query=False)
    assert backend._model._model.threads == 2
    again = backend.embed(["epidemiology", "biostatistics"], is_query=False)
    assert np.allclose(one, again, atol=1e-6)


@pytest.mark.slow
def test_a_needs_title_is_embedded_only_by_the_models_it_is_compared_with(
    fused_encoder: Encoder,
) -> None:
    """The title meets only the headline, which only USE embeds: e5 and MiniLM skip it."""
    from matching.matcher import Matcher
    from matching.records import NeedRecord

    matcher = Matcher(fused_encoder)
    need = NeedRecord("n1", "Epidemiology course", "Teach epidemiology to medical students.")
    rows = matcher.embed_need(need)
    whole = fused_encoder.encode_queries(["Epidemiology course. " + need.description])
    title_use = fused_encoder.encode_queries(["Epidemiology course"], only=["use"])
    for block in fused_encoder.blocks:
        part = slice(block.start, block.stop)
        assert np.allclose(rows[0, part], whole[0, part], atol=1e-6), block.name
        if block.name == "use":
            assert np.allclose(rows[1, part], title_use[0, part], atol=1e-6)
        else:
            assert not rows[1, part].any(), block.name
