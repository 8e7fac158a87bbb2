"""Shared fixtures: a deterministic encoder for ranking arithmetic, the real one for quality."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date

import pytest

from matching.encoders import Encoder, load_encoder
from matching.fusion import FusionWeights
from matching.matcher import Matcher
from matching.records import ExpertRecord

TODAY = date(2026, 3, 2)


def hashing_weights(language: str) -> FusionWeights:
    """Only the document signal of the hashing encoder, plus lexical when given."""
    return FusionWeights(dense={"hashing.document": 1.0}, lexical=1.0)


@pytest.fixture(scope="session")
def hashing_encoder() -> Encoder:
    return load_encoder("hashing")


@pytest.fixture
def make_matcher(hashing_encoder: Encoder) -> Callable[[list[ExpertRecord]], Matcher]:
    def build(experts: list[ExpertRecord]) -> Matcher:
        matcher = Matcher(hashing_encoder, weights_for=hashing_weights, today=lambda: TODAY)
        matcher.index_experts(experts)
        return matcher

    return build


@pytest.fixture(scope="session")
def fused_encoder() -> Encoder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return load_encoder("homeward-fused")
