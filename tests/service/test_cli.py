"""The `homeward` command: migrate, create-user (with and without a password), create-token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from service.cli import app
from service.config import get_settings
from service.core.accounts import open_session
from service.db import make_engine
from service.models import ApiToken, AuditEvent, ExpertProfile, Role, User, UserSession
from service.security import hash_api_token, verify_password

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("HOMEWARD_DATABASE_URL", url)
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    yield url
    get_settings.cache_clear()


def test_create_user_with_password(database: str) -> None:
    result = runner.invoke(
        app,
        [
            "create-user",
            "--role",
            "coordinator",
            "Staff@Example.org",
            "--password",
            "a-long-password",
        ],
    )
    assert result.exit_code == 0, result.output
    with Session(make_engine(database)) as session:
        user = session.exec(select(User)).one()
    assert user.email == "staff@example.org" and user.role == Role.COORDINATOR
    assert verify_password(user.password_hash, "a-long-password")


def test_create_user_prompts_for_the_password(database: str) -> None:
    result = runner.invoke(
        app,
        ["create-user", "admin@example.org", "--role", "admin"],
        input="a-long-password\na-long-password\n",
    )
    assert result.exit_code == 0, result.output
    with Session(make_engine(database)) as session:
        assert session.exec(select(User)).one().role == Role.ADMIN


def test_create_user_refuses_short_password_and_taken_email(database: str) -> None:
    short = runner.invoke(app, ["create-user", "a@example.org", "--password", "short"])
    assert short.exit_code != 0 and "10 characters" in short.output
    runner.invoke(app, ["create-user", "a@example.org", "--password", "a-long-password"])
    taken = runner.invoke(app, ["create-user", "a@example.org", "--password", "a-long-password"])
    assert taken.exit_code == 1 and "already uses this email" in taken.output
    with Session(make_engine(database)) as session:
        assert len(session.exec(select(User)).all()) == 1


def test_create_token_prints_a_working_token(database: str) -> None:
    runner.invoke(app, ["create-user", "a@example.org", "--password", "a-long-password"])
    result = runner.invoke(app, ["create-token", "a@example.org"])
    assert result.exit_code == 0
    token = result.output.strip()
    with Session(make_engine(database)) as session:
        stored = session.exec(select(ApiToken)).one()
    assert stored.token_hash == hash_api_token(token) and token not in stored.token_hash
    unknown = runner.invoke(app, ["create-token", "nobody@example.org"])
    assert unknown.exit_code == 1


def test_reindex_rebuilds_the_search_index(database: str, tmp_path: Path) -> None:
    from service.core.changes import expert_document
    from service.search import EXPERTS_STAFF, SearchQuery
    from service.search.factory import make_search_backend
    from tests.factories import make_expert

    engine = make_engine(database)
    with Session(engine) as session:
        make_expert(session, display_name="Awa Diallo", skills=["épidémiologie"])
        assert expert_document(session, session.exec(select(ExpertProfile)).one())["email"]
    result = runner.invoke(app, ["reindex"])
    assert result.exit_code == 0, result.output
    assert "experts_staff: 1" in result.output
    backend = make_search_backend(get_settings(), engine)
    hits = backend.search(EXPERTS_STAFF, SearchQuery(text="epidemiologie")).hits
    assert [hit.document["display_name"] for hit in hits] == ["Awa Diallo"]


def test_list_and_revoke_tokens(database: str) -> None:
    runner.invoke(app, ["create-user", "a@example.org", "--password", "a-long-password"])
    created = runner.invoke(
        app, ["create-token", "a@example.org", "--name", "nightly", "--expires-days", "30"]
    )
    assert created.exit_code == 0, created.output
    with Session(make_engine(database)) as session:
        stored = session.exec(select(ApiToken)).one()
    assert stored.expires_at is not None
    listed = runner.invoke(app, ["list-tokens", "a@example.org"])
    assert listed.exit_code == 0, listed.output
    assert f"{stored.id}\tnightly\t" in listed.output and "never used" in listed.output
    assert stored.expires_at.strftime("%Y-%m-%d") in listed.output
    revoked = runner.invoke(app, ["revoke-token", "a@example.org", str(stored.id)])
    assert revoked.exit_code == 0, revoked.output
    with Session(make_engine(database)) as session:
        assert session.exec(select(ApiToken)).one().revoked_at is not None
    again = runner.invoke(app, ["revoke-token", "a@example.org", str(stored.id)])
    assert again.exit_code == 1 and "no live token" in again.output
    assert runner.invoke(app, ["list-tokens", "a@example.org"]).output.strip() == ""


def test_end_sessions_logs_an_account_out_everywhere(database: str) -> None:
    runner.invoke(app, ["create-user", "a@example.org", "--password", "a-long-password"])
    with Session(make_engine(database)) as session:
        user = session.exec(select(User)).one()
        for agent in ("laptop", "phone"):
            open_session(session, user=user, user_agent=agent, max_age_s=3600)
        session.commit()
    result = runner.invoke(app, ["end-sessions", "a@example.org"])
    assert result.exit_code == 0 and "Ended 2 session(s)" in result.output
    with Session(make_engine(database)) as session:
        assert session.exec(select(UserSession)).all() == []
        event = session.exec(select(AuditEvent)).one()
        assert (event.action, event.data) == ("user.sessions_ended", {"sessions": 2})


def test_serve_starts_as_many_web_processes_as_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    started: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(options))
    result = runner.invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert started["workers"] == 2
    assert started["factory"] is True


def test_serve_refuses_reload_with_several_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    result = runner.invoke(app, ["serve", "--reload", "--workers", "2"])
    assert result.exit_code != 0
    assert "--reload" in result.output
    assert calls == []
