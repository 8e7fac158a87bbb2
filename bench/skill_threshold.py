"""Measures the phrase-similarity threshold above which a skill is called "covered".

Labelled pairs come from the matching benchmark (ESCO): a need's occupation title (en/fr/es)
against the headline of a profile of the same occupation (grade 2: same skill, positive) or
of a neighbouring occupation in the same ISCO unit group (grade 1: related, negative).
Prints precision and recall of "similarity >= t" for each candidate threshold.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/skill_threshold.py [--bench /work/shared/bench]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matching.encoders import load_encoder  # noqa: E402
from matching.metrics import load_qrels  # noqa: E402


def main() -> None:
    """Measures precision/recall of skill-coverage thresholds on labelled title pairs."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", type=Path, default=Path("/work/shared/bench"))
    parser.add_argument("--encoder", default="homeward-fused")
    args = parser.parse_args()
    headlines = {
        row["profile_id"]: row["headline"]
        for row in map(json.loads, (args.bench / "profiles.jsonl").read_text().splitlines())
    }
    pairs: list[tuple[str, str, int]] = []
    for track in ("en", "fr", "es"):
        needs = [
            json.loads(line)
            for line in (args.bench / f"needs_desc_{track}.jsonl").read_text().splitlines()
        ]
        qrels = load_qrels(args.bench / f"qrels_desc_{track}.tsv")
        for need in needs:
            title = need["title"].split("/")[0].strip()
            judged = qrels.get(need["need_id"], {})
            for profile_id, grade in judged.items():
                if grade >= 1 and headlines[profile_id].lower() != title.lower():
                    pairs.append((title, headlines[profile_id], 1 if grade == 2 else 0))
    encoder = load_encoder(args.encoder, threads=2)
    texts = sorted({t for a, b, _ in pairs for t in (a, b)})
    vectors = dict(zip(texts, encoder.encode_phrases(texts), strict=True))
    sims = np.array([float(vectors[a] @ vectors[b]) for a, b, _ in pairs])
    labels = np.array([label for _, _, label in pairs])
    print(f"{len(pairs)} pairs, {int(labels.sum())} positive")
    print("threshold  precision  recall  kept")
    for t in np.arange(0.55, 0.96, 0.025):
        kept = sims >= t
        tp = int((kept & (labels == 1)).sum())
        precision = tp / kept.sum() if kept.sum() else 1.0
        recall = tp / labels.sum()
        print(f"{t:9.3f}  {precision:9.3f}  {recall:6.3f}  {int(kept.sum())}")


if __name__ == "__main__":
    main()
