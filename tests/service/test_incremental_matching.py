"""Re-matching reads only what changed, and ends where a full re-read would.

On the seeded demo world: after changes made through the model, and after changes written
straight to the database by another process, a long-lived engine that only `refresh`es holds
the same index, ranks the same way and stores the same proposals as a fresh engine that
reads everything.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from matching.encoders import Encoder
from service.config import Settings
from service.core.matching import (
    COMMITTING,
    WATERMARK_OVERLAP,
    MatchingEngine,
    need_record,
    needs_touched_by,
    open_need_ids,
    rematch_expert,
    rematch_need,
    rematch_open_needs,
)
from service.core.seed import seed_world
from service.models import (
    Engagement,
    EngagementStatus,
    ExpertProfile,
    Institution,
    MatchProposal,
    Need,
)
from service.models.types import utcnow
from tests.factories import make_expert
from tests.fusion_weights import document_and_headline

TODAY = date(2026, 12, 1)


def _engine(encoder: Encoder) -> MatchingEngine:
    matching = MatchingEngine(encoder, today=lambda: TODAY, weights_for=document_and_headline)
    # The world was stamped seconds ago: without this, the safety overlap would read it all
    # again and the test could not tell a refresh from a full read.
    matching.overlap = timedelta(0)
    return matching


def _proposals(session: Session) -> tuple[list[tuple[int, int, str, str, int]], list[float]]:
    """Every stored proposal (need, expert, origin, status, rank), and the scores apart: the
    spread of the index is summed in another order by a fresh engine (~1e-7 apart)."""
    session.expire_all()
    rows = session.exec(select(MatchProposal).order_by(col(MatchProposal.id))).all()
    return (
        [(p.need_id, p.expert_id, str(p.origin), str(p.status), p.rank) for p in rows],
        [p.score for p in rows],
    )


def _assert_same_index(live: MatchingEngine, fresh: MatchingEngine) -> None:
    assert sorted(live.matcher.index.ids) == sorted(fresh.matcher.index.ids)
    for expert_id in fresh.matcher.index.ids:
        assert live.matcher.record(expert_id) == fresh.matcher.record(expert_id)
        assert np.allclose(
            live.matcher.index.vector(expert_id), fresh.matcher.index.vector(expert_id)
        )


def _assert_same_ranking(session: Session, live: MatchingEngine, fresh: MatchingEngine) -> None:
    for need_id in open_need_ids(session):
        need = session.get(Need, need_id)
        assert need is not None
        record = need_record(need, session.get(Institution, need.institution_id))
        got = live.rank_need(record, search=None, k=10)
        expected = fresh.rank_need(record, search=None, k=10)
        assert [c.expert_id for c in got] == [c.expert_id for c in expected]
        assert [c.score for c in got] == pytest.approx([c.score for c in expected], abs=1e-6)


def _rematch_after(
    session: Session, matching: MatchingEngine, *, expert_id: int, need_id: int
) -> None:
    """What the worker's two jobs do after an expert and a need changed."""
    rematch_expert(session, matching, expert_id=expert_id)
    for touched in needs_touched_by(session, expert_id=expert_id):
        rematch_need(session, matching, need_id=touched, search=None, k=10)
    rematch_need(session, matching, need_id=need_id, search=None, k=10)
    session.commit()


def test_refresh_after_changes_equals_a_full_recomputation(
    session: Session, engine: Engine, settings: Settings, hashing: Encoder
) -> None:
    seed_world(session, settings=settings)
    # Never proposed (inactive), so another process may delete its row outright.
    deleted = str(make_expert(session, headline="Retired surgeon", active=False).id)
    live = _engine(hashing)
    live.sync(engine)
    rematch_open_needs(engine, live, search=None, k=10)
    live.refresh(engine)  # reads back, once, the vectors the first sync stored

    # A profile rewritten, an engagement cancelled (its expert's hours free again), a new expert,
    # an expert deleted, and a need reworded.
    experts = session.exec(select(ExpertProfile).order_by(col(ExpertProfile.id))).all()
    changed = experts[3]
    changed.headline = "Hydrologist and irrigation engineer"
    changed.skills = ["irrigation", "hydrology", "water management"]
    changed.updated_at = utcnow()
    need_id = open_need_ids(session)[0]
    need = session.get(Need, need_id)
    assert need is not None
    need.title = "Irrigation engineer for a rural water project"
    need.updated_at = utcnow()
    session.add_all([changed, need])
    running = session.exec(
        select(Engagement).where(col(Engagement.status).in_(list(COMMITTING)))
    ).first()
    assert running is not None and running.expert_id != changed.id
    running.status = EngagementStatus.CANCELLED  # the expert's hours are free again
    running.updated_at = utcnow()
    session.add(running)
    added = make_expert(session, headline="Water engineer", skills=["irrigation"])
    session.exec(  # type: ignore[call-overload]
        text("DELETE FROM expertprofile WHERE id = :id"), params={"id": int(deleted)}
    )
    session.commit()

    result = live.refresh(engine, expert_ids=[changed.id or 0])
    assert result.indexed <= 5  # the changed rows, not the roster
    _rematch_after(session, live, expert_id=changed.id or 0, need_id=need_id)
    incremental = _proposals(session)

    fresh = _engine(hashing)
    fresh.sync(engine)
    _assert_same_index(live, fresh)
    _assert_same_ranking(session, live, fresh)
    _rematch_after(session, fresh, expert_id=changed.id or 0, need_id=need_id)
    # The full path rewrites every row it ranks: nothing moves, so both stored the same.
    full = _proposals(session)
    assert full[0] == incremental[0]
    assert full[1] == pytest.approx(incremental[1], abs=1e-5)
    assert str(added.id) in live.matcher.index and deleted not in live.matcher.index


def test_a_change_written_by_another_process_is_picked_up(
    session: Session, engine: Engine, settings: Settings, hashing: Encoder
) -> None:
    seed_world(session, settings=settings)
    live = _engine(hashing)
    live.sync(engine)
    target = session.exec(select(ExpertProfile).order_by(col(ExpertProfile.id))).first()
    assert target is not None
    # Another process (another worker, a script) writes straight to the database: no job
    # names this expert to this engine, only the stamp on the row tells.
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE expertprofile SET headline = :h, updated_at = :t WHERE id = :id"),
            {
                "h": "Forensic pathologist",
                "t": (utcnow() + timedelta(seconds=1)).replace(tzinfo=None),
                "id": target.id,
            },
        )
    result = live.refresh(engine)
    assert result.embedded == 1
    assert live.matcher.record(str(target.id)).headline == "Forensic pathologist"
    fresh = _engine(hashing)
    fresh.sync(engine)
    _assert_same_index(live, fresh)
    _assert_same_ranking(session, live, fresh)
    # Nothing changed since: the next refresh reads (almost) nothing and embeds nothing.
    assert live.refresh(engine).embedded == 0


def _stamp(engine: Engine, expert_id: int, *, at: datetime, headline: str | None = None) -> None:
    """Another process writes an expert's row (its headline, or only its stamp) and commits."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE expertprofile SET headline = COALESCE(:h, headline), updated_at = :t "
                "WHERE id = :id"
            ),
            {"h": headline, "t": at.replace(tzinfo=None), "id": expert_id},
        )


def _windowed(encoder: Encoder) -> MatchingEngine:
    """An engine with the safety overlap the worker has (the rows of the last minute)."""
    matching = _engine(encoder)
    matching.overlap = WATERMARK_OVERLAP
    return matching


def test_after_a_bulk_write_each_row_is_read_once(
    session: Session, engine: Engine, hashing: Encoder
) -> None:
    ids = [
        make_expert(session, headline=f"Epidemiologist {i}", skills=["epidemiology"]).id or 0
        for i in range(6)
    ]
    live = _windowed(hashing)
    live.sync(engine)
    assert live.refresh(engine).indexed == len(ids)  # the vectors the sync stored, once
    assert live.refresh(engine).indexed == 0
    # An import rewrites every row (same texts, new stamps): the next job reads them all, the
    # jobs after it, within the overlap that would read them again, read none.
    now = utcnow()
    for expert_id in ids:
        _stamp(engine, expert_id, at=now)
    assert (live.refresh(engine).indexed, live.refresh(engine).indexed) == (len(ids), 0)
    # A named expert is always read.
    assert live.refresh(engine, expert_ids=[ids[0]]).indexed == 1


def test_a_late_commit_with_an_older_stamp_is_still_read(
    session: Session, engine: Engine, hashing: Encoder
) -> None:
    old = utcnow() - 10 * WATERMARK_OVERLAP
    recent = make_expert(session, headline="Epidemiologist", skills=["epidemiology"])
    quiet = make_expert(session, headline="Civil engineer", skills=["bridges"], updated_at=old)
    make_expert(session, headline="Surgeon", skills=["surgery"])
    session.commit()
    live = _windowed(hashing)
    live.sync(engine)
    live.refresh(engine)
    assert live.refresh(engine).indexed == 0
    seen_stamp = session.exec(
        select(ExpertProfile.updated_at).where(ExpertProfile.id == recent.id)
    ).one()
    since = live.seen_until
    assert since is not None and seen_stamp >= since
    # Two transactions that stamped their rows before the last refresh began commit only now:
    # one rewrites a row that refresh read (with a stamp older than the one it saw), the
    # other a row last stamped long before the window.
    _stamp(engine, recent.id or 0, at=seen_stamp - timedelta(seconds=1), headline="Virologist")
    _stamp(engine, quiet.id or 0, at=since + timedelta(seconds=1), headline="Hydrologist")
    result = live.refresh(engine)
    assert (result.indexed, result.embedded) == (2, 2)
    assert live.matcher.record(str(recent.id)).headline == "Virologist"
    assert live.matcher.record(str(quiet.id)).headline == "Hydrologist"
    fresh = _windowed(hashing)
    fresh.sync(engine)
    _assert_same_index(live, fresh)
    # The vectors that refresh stored are read back once, then nothing.
    assert (live.refresh(engine).indexed, live.refresh(engine).indexed) == (2, 0)


HEADLINES = ["Epidemiologist", "Virologist", "Hydrologist", None]  # None: the stamp alone
# A step: another process writes an expert (its index, a headline, a stamp this many seconds
# from now: late commits carry stamps from the past, inside the look-back window), or refresh.
Step = tuple[int, str | None, float] | None
steps = st.lists(
    st.one_of(
        st.none(),
        st.tuples(
            st.integers(0, 3), st.sampled_from(HEADLINES), st.floats(-45, 1, allow_nan=False)
        ),
    ),
    min_size=1,
    max_size=8,
)


@examples(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(plan=steps)
def test_refreshes_through_late_and_repeated_writes_hold_what_a_full_read_holds(
    session: Session, engine: Engine, hashing: Encoder, plan: list[Step]
) -> None:
    ids = [int(i) for i in session.exec(select(ExpertProfile.id).order_by(col(ExpertProfile.id)))]
    for i in range(len(ids), 4):
        ids.append(make_expert(session, headline=f"Surgeon {i}", skills=["surgery"]).id or 0)
    live = _windowed(hashing)
    live.sync(engine)
    for step in [*plan, None]:
        if step is not None:
            number, headline, seconds = step
            _stamp(engine, ids[number], at=utcnow() + timedelta(seconds=seconds), headline=headline)
            continue
        live.refresh(engine)
        fresh = _windowed(hashing)
        fresh.sync(engine)
        _assert_same_index(live, fresh)
