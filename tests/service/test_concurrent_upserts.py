"""Two jobs writing the same row at once: the second writer neither fails on the unique
constraint nor undoes a decision, and the row ends as one process, running the jobs one
after the other, would leave it.

Each interleaving is forced, not hoped for: the other job runs, in its own session, and
commits between this job's read and its write (from inside the ranking, which sits between
the two), or a thread writes the same key while this transaction holds it. The same tests run
on PostgreSQL when HOMEWARD_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from matching.encoders import Encoder
from matching.matcher import StoredVector
from service.core.matching import MatchingEngine, rematch_expert, rematch_need
from service.models import Embedding, MatchProposal, ProposalStatus, SkillVector
from service.models.types import utcnow
from service.repos import proposals as proposals_repo
from service.repos.embeddings import upsert_vectors
from service.repos.skill_vectors import add_vectors
from tests.factories import make_expert, make_member, make_need
from tests.fusion_weights import document_and_lexical

TODAY = date(2026, 12, 1)
Job = Callable[[Session, MatchingEngine], object]


@pytest.fixture
def world(session: Session, engine: Engine, hashing: Encoder) -> tuple[MatchingEngine, int, int]:
    """Two experts who both fit one need; returns the synced engine, the need and one expert."""
    expert = make_expert(session, headline="Epidemiologist", skills=["epidemiology", "teaching"])
    make_expert(session, headline="Biostatistician", skills=["epidemiology", "statistics"])
    _, institution = make_member(session)
    need = make_need(
        session,
        institution=institution,
        title="Epidemiology teaching",
        description="Teach epidemiology to students remotely.",
        required_skills=["epidemiology"],
        languages=["en"],
    )
    session.commit()
    matching = MatchingEngine(hashing, today=lambda: TODAY, weights_for=document_and_lexical)
    matching.sync(engine)
    return matching, need.id or 0, expert.id or 0


def _rows(session: Session) -> dict[tuple[int, int], tuple[Any, ...]]:
    statement = select(MatchProposal).execution_options(populate_existing=True)
    return {
        (p.need_id, p.expert_id): (p.status, p.rank, round(p.score, 6), p.origin)
        for p in session.exec(statement)
    }


def _jobs(need_id: int, expert_id: int) -> dict[str, Job]:
    return {
        "need": lambda s, m: rematch_need(s, m, need_id=need_id, search=None, k=2),
        "expert": lambda s, m: rematch_expert(s, m, expert_id=expert_id),
    }


def _between_read_and_write(
    monkeypatch: pytest.MonkeyPatch,
    matching: MatchingEngine,
    method: str,
    other: Callable[[], None],
) -> None:
    """Runs `other` the first time the job ranks: after the job read its proposals, before it
    writes them."""
    original = getattr(matching, method)
    pending = [other]

    def ranking(*args: Any, **kwargs: Any) -> Any:
        if pending:
            pending.pop()()
        return original(*args, **kwargs)

    monkeypatch.setattr(matching, method, ranking)


@pytest.mark.parametrize(
    ("this", "other"),
    [("need", "need"), ("need", "expert"), ("expert", "need"), ("expert", "expert")],
)
def test_a_pair_inserted_by_another_job_between_read_and_write(
    engine: Engine,
    world: tuple[MatchingEngine, int, int],
    monkeypatch: pytest.MonkeyPatch,
    this: str,
    other: str,
) -> None:
    matching, need_id, expert_id = world
    jobs = _jobs(need_id, expert_id)

    def other_job() -> None:
        with Session(engine) as session:
            jobs[other](session, matching)
            session.commit()

    method = "rank_need" if this == "need" else "rank_for_expert"
    _between_read_and_write(monkeypatch, matching, method, other_job)
    with Session(engine) as session:
        jobs[this](session, matching)
        session.commit()  # no IntegrityError: the pair the other job inserted is updated
    monkeypatch.undo()

    with Session(engine) as session:
        stored = _rows(session)
        assert (need_id, expert_id) in stored
        # One process running the other job, then this one, leaves every row as it is.
        jobs[other](session, matching)
        jobs[this](session, matching)
        session.flush()
        assert _rows(session) == stored
        session.rollback()


def test_a_decision_made_between_read_and_write_is_not_undone(
    engine: Engine, world: tuple[MatchingEngine, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    matching, need_id, _ = world
    with Session(engine, expire_on_commit=False) as session:
        ranked = rematch_need(session, matching, need_id=need_id, search=None, k=2)
        session.commit()
    assert [p.status for p in ranked] == [ProposalStatus.PROPOSED] * 2
    second = ranked[1]

    def approve() -> None:
        with Session(engine) as session:
            assert proposals_repo.decide(
                session,
                second.id or 0,
                source=ProposalStatus.PROPOSED,
                target=ProposalStatus.APPROVED,
                values={"reason": "Good fit", "decided_at": utcnow()},
            )
            session.commit()

    # A coordinator approves the second expert after the job read the need's proposals, and
    # the job no longer ranks that expert: its withdrawal must not land on the approval.
    original = matching.rank_need

    def ranking(*args: Any, **kwargs: Any) -> Any:
        approve()
        found = original(*args, **kwargs)
        return [c for c in found if int(c.expert_id) != second.expert_id]

    monkeypatch.setattr(matching, "rank_need", ranking)
    with Session(engine) as session:
        rematch_need(session, matching, need_id=need_id, search=None, k=2)
        session.commit()
    with Session(engine) as session:
        row = session.get_one(MatchProposal, second.id)
        assert (row.status, row.reason) == (ProposalStatus.APPROVED, "Good fit")


def _while_held(engine: Engine, write: Callable[[Session, int], None]) -> None:
    """This transaction writes a key; another thread writes the same key and commits while
    this one is open (it waits for the row where the database makes it wait); then this one
    commits, then the other finishes. Neither may fail."""
    errors: list[BaseException] = []

    def other() -> None:
        try:
            with Session(engine) as session:
                write(session, 2)
                session.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    with Session(engine) as session:
        write(session, 1)
        thread = threading.Thread(target=other)
        thread.start()
        # Gives the other writer time to reach the row (or to finish, where nothing makes
        # it wait); only the order matters, nothing is timed.
        thread.join(timeout=2)
        session.commit()
    thread.join(timeout=60)
    assert not thread.is_alive() and errors == []


def _vector(seed: int) -> StoredVector:
    values = np.random.default_rng(seed).standard_normal(8).astype(np.float32)
    return StoredVector(f"hash-{seed}", "v1", values)


def test_two_workers_store_the_same_vector(engine: Engine, session: Session) -> None:
    expert = make_expert(session, headline="Epidemiologist")
    session.commit()
    owner_id = expert.id or 0

    def write(worker: Session, seed: int) -> None:
        upsert_vectors(worker, owner_type="expert", model="m", vectors={owner_id: _vector(seed)})

    _while_held(engine, write)
    with Session(engine) as fresh:
        rows = fresh.exec(select(Embedding)).all()
    # One row, holding what the writer that committed last stored.
    assert [(r.owner_id, r.content_hash) for r in rows] == [(owner_id, "hash-2")]
    assert rows[0].vector == _vector(2).vector.tobytes()


def test_two_workers_store_the_same_skill_vector(engine: Engine) -> None:
    def write(worker: Session, seed: int) -> None:
        add_vectors(worker, model="m", vectors={"epidemiology": _vector(seed).vector})

    _while_held(engine, write)
    with Session(engine) as fresh:
        rows = fresh.exec(select(SkillVector)).all()
    # The same text and model embed the same: the first vector stored stays.
    assert [(r.text, r.vector) for r in rows] == [("epidemiology", _vector(1).vector.tobytes())]
