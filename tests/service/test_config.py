"""Settings: embedded defaults, a kept development secret, a placeholder refused in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from service.config import Settings


def test_defaults_are_embedded(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == f"sqlite:///{tmp_path / 'homeward.sqlite3'}"
    assert settings.search_backend == "embedded"
    assert settings.search_path == str(tmp_path / "search.sqlite3")


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    second = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert len(first.secret_key) >= 40 and first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_placeholder_secret_refused_in_production(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="HOMEWARD_SECRET_KEY"):
        Settings(environment="production", secret_key="changeme", data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]


def test_environment_variables_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMEWARD_DATABASE_URL", "postgresql+psycopg://db/homeward")
    monkeypatch.setenv("HOMEWARD_SEARCH_BACKEND", "meilisearch")
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "postgresql+psycopg://db/homeward" and not settings.is_sqlite
    assert settings.search_backend == "meilisearch"
