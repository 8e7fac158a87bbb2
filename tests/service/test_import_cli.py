"""The `homeward import` and `homeward export` commands: exit codes, reports, stdout."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from service.cli import app
from service.config import get_settings
from service.db import make_engine
from service.models import ExpertProfile

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("HOMEWARD_DATABASE_URL", url)
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    yield url
    get_settings.cache_clear()


def _experts(url: str) -> int:
    with Session(make_engine(url)) as session:
        return session.exec(select(func.count()).select_from(ExpertProfile)).one()


def test_import_reports_and_exits_zero(database: str) -> None:
    result = runner.invoke(app, ["import", "experts", str(EXAMPLES / "experts.csv")])
    assert result.exit_code == 0, result.output
    assert "experts.csv: 7 rows imported (7 created, 0 updated, 0 unchanged)" in result.output
    assert _experts(database) == 7


def test_bad_rows_exit_non_zero_and_write_nothing(database: str, tmp_path: Path) -> None:
    lines = (EXAMPLES / "experts.jsonl").read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[2])
    broken["modes"] = ["on-site"]
    lines[2] = json.dumps(broken, ensure_ascii=False)
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = runner.invoke(app, ["import", "experts", str(path)])
    assert result.exit_code == 1
    assert "broken.jsonl: 1 error in 5 rows, nothing imported" in result.output
    assert "line 3, modes:" in result.output
    assert _experts(database) == 0

    partial = runner.invoke(app, ["import", "experts", str(path), "--partial"])
    assert partial.exit_code == 1 and "4 rows imported" in partial.output
    assert _experts(database) == 4


def test_dry_run_writes_nothing(database: str) -> None:
    result = runner.invoke(app, ["import", "experts", str(EXAMPLES / "experts.csv"), "--dry-run"])
    assert result.exit_code == 0 and "would be imported (7 created" in result.output
    assert _experts(database) == 0


def test_export_writes_to_stdout_or_a_file(database: str, tmp_path: Path) -> None:
    runner.invoke(app, ["import", "experts", str(EXAMPLES / "experts.jsonl")])
    result = runner.invoke(app, ["export", "experts"])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["external_id"] for row in rows] == [
        json.loads(line)["external_id"]
        for line in (EXAMPLES / "experts.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert {"headline", "skills", "languages", "origin_country", "residence_country"} <= set(
        rows[0]
    )

    output = tmp_path / "out.csv"
    written = runner.invoke(app, ["export", "experts", "--format", "csv", "--output", str(output)])
    assert written.exit_code == 0
    assert output.read_text(encoding="utf-8").startswith("external_id,email,display_name")
    again = runner.invoke(app, ["import", "experts", str(output)])
    assert again.exit_code == 0 and "(0 created, 0 updated, 5 unchanged)" in again.output


def test_unknown_kind_is_a_usage_error(database: str) -> None:
    result = runner.invoke(app, ["import", "engagements", str(EXAMPLES / "experts.csv")])
    assert result.exit_code == 2


def test_seed_command_loads_the_world_and_says_so(database: str) -> None:
    result = runner.invoke(app, ["seed", "--no-match"])
    assert result.exit_code == 0, result.output
    assert "experts.jsonl: 210 rows imported (210 created" in result.output
    assert "scenarios: 45 proposals, 30 engagements, 16 feedback created" in result.output
    assert _experts(database) == 210


def _broken_experts(tmp_path: Path) -> Path:
    """The example experts, the third (an Arabic-speaking psychologist's row) with a bad mode."""
    lines = (EXAMPLES / "experts.jsonl").read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[2])
    broken["modes"] = ["présentiel"]
    lines[2] = json.dumps(broken, ensure_ascii=False)
    path = tmp_path / "experts-diaspora.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_speaks_french_with_lang(database: str, tmp_path: Path) -> None:
    path = _broken_experts(tmp_path)
    result = runner.invoke(app, ["import", "experts", str(path), "--lang", "fr"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "experts-diaspora.jsonl : 1 erreur sur 5 lignes, rien n'a été importé"
    assert lines[1] == (
        "  ligne 3, modes : Élément 1 : « présentiel » n'est pas accepté ici : utilisez l'une de "
        "ces valeurs : remote, mission, hybrid."
    )
    assert _experts(database) == 0

    partial = runner.invoke(app, ["import", "experts", str(path), "--partial", "--lang", "fr"])
    assert partial.exit_code == 1
    assert partial.output.splitlines()[0] == (
        "experts-diaspora.jsonl : 1 erreur sur 5 lignes ; 4 lignes importées "
        "(créés : 4, mis à jour : 0, inchangés : 0), 1 ligne laissée de côté"
    )


def test_import_speaks_the_language_of_homeward_lang(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEWARD_LANG", "ar")
    path = str(EXAMPLES / "experts.csv")
    dry = runner.invoke(app, ["import", "experts", path, "--dry-run"])
    assert dry.exit_code == 0
    assert dry.output.strip() == (
        "experts.csv: سيُستورد 7 أسطر (أُنشئ: 7، حُدّث: 0، دون تغيير: 0)؛ لم يُكتب شيء"
    )
    # A locale as the shell spells it reads as its language; --lang wins over the variable.
    monkeypatch.setenv("HOMEWARD_LANG", "es_ES.UTF-8")
    done = runner.invoke(app, ["import", "experts", path])
    assert done.output.strip() == (
        "experts.csv: 7 filas importadas (creados: 7, actualizados: 0, sin cambios: 0)"
    )
    again = runner.invoke(app, ["import", "experts", path, "--lang", "en"])
    assert (
        again.output.strip() == "experts.csv: 7 rows imported (0 created, 0 updated, 7 unchanged)"
    )


def test_an_unknown_language_is_a_usage_error(database: str) -> None:
    result = runner.invoke(
        app, ["import", "experts", str(EXAMPLES / "experts.csv"), "--lang", "de"]
    )
    assert result.exit_code == 2
    assert "--lang" in result.output and "choose one of en" in result.output
    assert _experts(database) == 0


def test_export_says_what_it_wrote_in_the_chosen_language(database: str, tmp_path: Path) -> None:
    runner.invoke(app, ["import", "experts", str(EXAMPLES / "experts.jsonl")])
    output = tmp_path / "خبراء.csv"
    result = runner.invoke(
        app, ["export", "experts", "--format", "csv", "--output", str(output), "--lang", "es"]
    )
    assert result.exit_code == 0
    assert result.output.strip() == f"5 expertos exportados a {output}."
    arabic = runner.invoke(app, ["export", "experts", "--output", str(output), "--lang", "ar"])
    assert arabic.output.strip() == f"صُدّر 5 خبراء إلى {output}."
    bad = runner.invoke(app, ["export", "experts", "--delimiter", "|", "--lang", "fr"])
    assert bad.exit_code == 2 and "Le séparateur est , ou ;" in bad.output
