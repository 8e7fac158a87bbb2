"""Measures the phrase-similarity threshold above which two skills asked in different languages
are merged into one row of the skills-gap report.

Labelled pairs come from the matching benchmark (ESCO), always across languages:
- same skill (positive): an occupation's title in one language against its title in another
  (en/fr/es, the official ESCO translations), and a French or Spanish need title against the
  English headline of a profile of that very occupation (grade 2);
- near but different (negative): a French or Spanish need title against the English headline
  of a neighbouring occupation of the same ISCO unit group (grade 1).
Prints precision and recall of "USE cosine >= t" for each candidate threshold, with the load.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/skill_merge_threshold.py [--bench /work/shared/bench]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matching.encoders import load_encoder  # noqa: E402
from matching.metrics import load_qrels  # noqa: E402
from matching.texts import normalise_skill  # noqa: E402

TRACKS = ("en", "fr", "es")


def _title(raw: str) -> str:
    return raw.split("/")[0].strip()


def labelled_pairs(bench: Path) -> list[tuple[str, str, int]]:
    """Builds the cross-language (text, text, same) pairs."""
    headlines = {
        row["profile_id"]: row["headline"]
        for row in map(json.loads, (bench / "profiles.jsonl").read_text().splitlines())
    }
    titles: dict[str, dict[str, str]] = {}
    pairs: list[tuple[str, str, int]] = []
    for track in TRACKS:
        needs = [
            json.loads(x) for x in (bench / f"needs_desc_{track}.jsonl").read_text().splitlines()
        ]
        qrels = load_qrels(bench / f"qrels_desc_{track}.tsv")
        for need in needs:
            title = _title(need["title"])
            titles.setdefault(need["need_id"].rsplit("-", 1)[0], {})[track] = title
            if track == "en":
                continue  # the profiles are English: same-language pairs are not this question
            for profile_id, grade in qrels.get(need["need_id"], {}).items():
                if grade >= 1:
                    pairs.append((title, headlines[profile_id], 1 if grade == 2 else 0))
    for by_track in titles.values():
        for i, a in enumerate(TRACKS):
            for b in TRACKS[i + 1 :]:
                if a in by_track and b in by_track:
                    pairs.append((by_track[a], by_track[b], 1))
    # Pairs that normalise to the same key are merged without vectors: not this question.
    return [(a, b, y) for a, b, y in pairs if normalise_skill(a) != normalise_skill(b)]


def main() -> None:
    """Prints precision/recall of merge thresholds on cross-language labelled pairs."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", type=Path, default=Path("/work/shared/bench"))
    parser.add_argument("--encoder", default="homeward-fused")
    args = parser.parse_args()
    pairs = labelled_pairs(args.bench)
    encoder = load_encoder(args.encoder, threads=2)
    texts = sorted({t for a, b, _ in pairs for t in (a, b)})
    vectors = dict(zip(texts, encoder.encode_phrases(texts), strict=True))
    sims = np.array([float(vectors[a] @ vectors[b]) for a, b, _ in pairs])
    labels = np.array([label for _, _, label in pairs])
    print(f"{len(pairs)} pairs, {int(labels.sum())} same skill; load {os.getloadavg()}")
    print("threshold  precision  recall  merged")
    for t in np.arange(0.60, 0.951, 0.025):
        kept = sims >= t
        tp = int((kept & (labels == 1)).sum())
        precision = tp / kept.sum() if kept.sum() else 1.0
        print(f"{t:9.3f}  {precision:9.3f}  {tp / labels.sum():6.3f}  {int(kept.sum())}")


if __name__ == "__main__":
    main()
