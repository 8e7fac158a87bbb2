"""A re-matching job costs what changed, not the roster.

Counted, not timed: the SQL statements of a one-need job and of a one-expert job are the same
whatever the number of experts, and on SQLite the statements that find what changed read the
stamps' indexes (a scan of the expert rows, or of every stored 10 kB vector, is what made a
job slow at 100k experts).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from matching.encoders import Encoder
from service.config import Settings
from service.core.matching import (
    MatchingEngine,
    needs_touched_by,
    open_need_ids,
    rematch_expert,
    rematch_need,
    rematch_open_needs,
)
from service.core.seed import seed_world
from service.models import ExpertProfile, Need
from service.models.types import utcnow
from tests.factories import make_expert
from tests.fusion_weights import document_and_headline

TODAY = date(2026, 12, 1)


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine runs inside the block."""
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _need_job(engine: Engine, matching: MatchingEngine, need_id: int, title: str) -> list[str]:
    with Session(engine) as session:
        need = session.get(Need, need_id)
        assert need is not None
        need.title = title
        need.updated_at = utcnow()
        session.add(need)
        session.commit()
    with _statements(engine) as seen:
        matching.refresh(engine)
        with Session(engine) as session:
            rematch_need(session, matching, need_id=need_id, search=None, k=10)
            session.commit()
    return seen


def _expert_job(engine: Engine, matching: MatchingEngine, expert_id: int, bio: str) -> list[str]:
    with Session(engine) as session:
        expert = session.get(ExpertProfile, expert_id)
        assert expert is not None
        expert.bio = bio
        expert.updated_at = utcnow()
        session.add(expert)
        session.commit()
    with _statements(engine) as seen:
        matching.refresh(engine, expert_ids=[expert_id])
        with Session(engine) as session:
            rematch_expert(session, matching, expert_id=expert_id)
            needs_touched_by(session, expert_id=expert_id)
            session.commit()
    return seen


def _reads(statements: list[str]) -> list[str]:
    """The statements that read (their first words, for a readable difference)."""
    shapes = (" ".join(s.split())[:100] for s in statements)
    return [s for s in shapes if s.upper().startswith("SELECT")]


def _grow_roster(session: Session, count: int) -> None:
    """Experts no need may be proposed (inactive): the roster grows, the proposals do not."""
    for number in range(count):
        make_expert(session, headline=f"Retired engineer {number}", active=False)


def _live_engine(engine: Engine, encoder: Encoder) -> MatchingEngine:
    matching = MatchingEngine(encoder, today=lambda: TODAY, weights_for=document_and_headline)
    # Everything was stamped seconds ago: without this the safety overlap would read it again.
    matching.overlap = timedelta(0)
    matching.sync(engine)
    rematch_open_needs(engine, matching, search=None, k=10)
    matching.refresh(engine)  # reads back, once, the vectors the first sync stored
    return matching


def test_statements_of_a_job_do_not_grow_with_the_roster(
    session: Session, engine: Engine, settings: Settings, hashing: Encoder
) -> None:
    seed_world(session, settings=settings)
    need_id = open_need_ids(session)[0]
    expert = session.exec(
        select(ExpertProfile)
        .where(col(ExpertProfile.active).is_(True))
        .order_by(col(ExpertProfile.id))
    ).first()
    assert expert is not None and expert.id is not None
    matching = _live_engine(engine, hashing)
    # Twice at each size: the first job after a sync may read back what the sync stored.
    _need_job(engine, matching, need_id, "Irrigation engineer, first")
    small_need = _need_job(engine, matching, need_id, "Irrigation engineer, second")
    _expert_job(engine, matching, expert.id, "Hydrologist, first.")
    small_expert = _expert_job(engine, matching, expert.id, "Hydrologist, second.")

    _grow_roster(session, 60)
    matching = _live_engine(engine, hashing)
    assert len(matching.matcher) >= 60
    _need_job(engine, matching, need_id, "Irrigation engineer, first")
    large_need = _need_job(engine, matching, need_id, "Irrigation engineer, second")
    _expert_job(engine, matching, expert.id, "Hydrologist, first.")
    large_expert = _expert_job(engine, matching, expert.id, "Hydrologist, second.")

    assert small_need and small_expert
    # Reads are the same statements; writes follow what moved in the ranking (a proposal's
    # rank may change or not), at most a few per proposal kept.
    assert _reads(large_need) == _reads(small_need)
    assert _reads(large_expert) == _reads(small_expert)
    for seen in (small_need, large_need, small_expert, large_expert):
        assert len(seen) - len(_reads(seen)) <= 3 * 10


def test_what_changed_is_found_through_the_stamps_indexes(
    session: Session, engine: Engine, settings: Settings, hashing: Encoder
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("query plans are read on SQLite")
    seed_world(session, settings=settings)
    _grow_roster(session, 20)
    matching = _live_engine(engine, hashing)
    need_id = open_need_ids(session)[0]
    seen = _need_job(engine, matching, need_id, "Irrigation engineer")
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert selects
    scans: list[str] = []
    with engine.connect() as connection:
        for statement in selects:
            # Parameters do not change the plan's shape: bind each as NULL.
            count = statement.count("?")
            plan = connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", tuple([None] * count)
            ).all()
            for row in plan:
                detail = str(row[-1])
                # "SCAN t" reads every row of t; "SCAN t USING COVERING INDEX" reads an index
                # only (the row count that tells a row was removed without a stamp).
                if detail.startswith("SCAN") and "COVERING INDEX" not in detail:
                    table = detail.split()[1]
                    if table in ("expertprofile", "embedding", "engagement"):
                        scans.append(f"{detail}: {statement}")
            # A statement that asks for rows stamped since a moment must search by the stamp
            # (an index on other columns may still read every row: the stored vectors did).
            stamped = "_at >= ?" in statement
            if stamped and not any("_at>?" in str(row[-1]) for row in plan):
                scans.append(f"{[str(r[-1]) for r in plan]}: {statement}")
    assert not scans, scans


def test_the_stamps_are_indexed(engine: Engine) -> None:
    with engine.connect() as connection:
        names: set[str] = set()
        for table in ("expertprofile", "embedding", "engagement", "need"):
            if engine.dialect.name == "sqlite":
                rows = connection.execute(text(f"PRAGMA index_list('{table}')")).all()
                names.update(str(r[1]) for r in rows)
            else:
                rows = connection.execute(
                    text("SELECT indexname FROM pg_indexes WHERE tablename = :t"), {"t": table}
                ).all()
                names.update(str(r[0]) for r in rows)
    for name in (
        "ix_expertprofile_updated_at",
        "ix_expertprofile_availability_confirmed_at",
        "ix_expertprofile_consent_matching_at",
        "ix_embedding_owner_type_model_updated_at",
        "ix_engagement_updated_at",
        "ix_need_updated_at",
    ):
        assert name in names
