"""`homeward eval`: a benchmark goes through the application's import, index and matcher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.config import get_settings

PROFILES = [
    {
        "profile_id": "P1",
        "lang": "en",
        "headline": "epidemiologist",
        "skills": ["epidemiology", "biostatistics"],
        "bio": "Studies disease outbreaks.",
    },
    {
        "profile_id": "P2",
        "lang": "en",
        "headline": "civil engineer",
        "skills": ["bridge design", "concrete"],
        "bio": "Designs bridges.",
    },
    {
        "profile_id": "P3",
        "lang": "en",
        "headline": "agronomist",
        "skills": ["irrigation", "soil science"],
        "bio": "Improves crop yields.",
    },
    {
        "profile_id": "P4",
        "lang": "en",
        "headline": "lawyer",
        "skills": ["contract law", "compliance", "x" * 150],
        "bio": "Drafts contracts.",
    },
]
NEEDS = [
    {
        "need_id": "N1",
        "lang": "en",
        "title": "epidemiologist",
        "text": "Investigates disease outbreaks with epidemiology and biostatistics.",
    },
    {
        "need_id": "N2",
        "lang": "en",
        "title": "irrigation engineer",
        "text": "Plans irrigation and soil science for farms.",
    },
]
QRELS = "N1 0 P1 2\nN2 0 P3 2\n"


@pytest.fixture
def bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    files = {
        "profiles": tmp_path / "profiles.jsonl",
        "needs": tmp_path / "needs.jsonl",
        "qrels": tmp_path / "qrels.tsv",
    }
    files["profiles"].write_text("\n".join(json.dumps(p) for p in PROFILES) + "\n")
    files["needs"].write_text("\n".join(json.dumps(n) for n in NEEDS) + "\n")
    files["qrels"].write_text(QRELS)
    yield files
    get_settings.cache_clear()


def test_eval_prints_one_json_object_per_method(bench: dict[str, Path]) -> None:
    args = [
        "eval",
        "--profiles",
        str(bench["profiles"]),
        "--needs",
        str(bench["needs"]),
        "--qrels",
        str(bench["qrels"]),
    ]
    result = CliRunner().invoke(app, [*args, "--model", "hashing", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert set(figures) == {"lexical", "dense", "hybrid"}
    assert set(figures["lexical"]) == {"nDCG@10", "R@10", "R@50", "MRR@100", "n_needs"}
    assert figures["lexical"]["n_needs"] == 2
    # Keywords alone find both experts first: the FTS5 index of the application is used.
    assert figures["lexical"]["MRR@100"] == 1.0
    assert figures["hybrid"]["R@10"] == 1.0


def test_eval_refuses_an_unknown_method(bench: dict[str, Path]) -> None:
    args = [
        "eval",
        "--profiles",
        str(bench["profiles"]),
        "--needs",
        str(bench["needs"]),
        "--qrels",
        str(bench["qrels"]),
    ]
    result = CliRunner().invoke(app, [*args, "--model", "hashing", "--method", "psychic"])
    assert result.exit_code == 2
    assert "--method" in result.output


def test_eval_runs_a_track_whose_needs_are_only_a_title(bench: dict[str, Path]) -> None:
    titles = [{"need_id": "N1", "lang": "fr", "title": "Épidémiologiste"}]
    titles.append({"need_id": "N2", "lang": "en", "title": "irrigation"})
    bench["needs"].write_text("\n".join(json.dumps(n) for n in titles) + "\n")
    args = ["eval", "--profiles", str(bench["profiles"]), "--needs", str(bench["needs"])]
    args += ["--qrels", str(bench["qrels"]), "--model", "hashing", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["lexical"]["n_needs"] == 2
    # "irrigation" alone finds the agronomist first, "épidémiologiste" finds nobody by keyword.
    assert figures["lexical"]["MRR@100"] == 0.5
