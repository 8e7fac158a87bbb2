"""Shared fixtures: a deterministic encoder for ranking arithmetic, the real one for quality."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date

import pytest

from matching.encoders import Encoder, load_encoder
from matching.matcher import Matcher
from matching.records import ExpertRecord
from tests.fusion_weights import document_and_lexical

TODAY = date(2026, 3, 2)


@pytest.fixture
def make_matcher(hashing: Encoder) -> Callable[[list[ExpertRecord]], Matcher]:
    def build(experts: list[ExpertRecord]) -> Matcher:
        matcher = Matcher(hashing, weights_for=document_and_lexical, today=lambda: TODAY)
        matcher.index_experts(experts)
        return matcher

    return build


@pytest.fixture(scope="session")
def fused_encoder() -> Encoder:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return load_encoder("homeward-fused")
