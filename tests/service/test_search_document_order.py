"""A search document built by the worker never overtakes a newer one a person's save queued.

The outbox applies the newest row of each document. The worker builds documents too: after
storing an expert's new vectors (`MatchingEngine._store`), after embedding needs
(`embed_needs`), and a renamed institution re-sends its needs (`institution_changed`). Each
must read the rows it builds from as they are once a concurrent save commits, so that its
document, if queued after that save's, carries what the save wrote.

Each interleaving is forced: the save stays uncommitted while the worker runs in a thread
(on PostgreSQL the worker then waits for it; SQLite runs one writer at a time), or it
commits between the worker's read and its write. The same tests run on PostgreSQL when
HOMEWARD_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from matching.encoders import Encoder
from service.core import changes
from service.core.matching import MatchingEngine
from service.core.need_vectors import embed_needs
from service.core.public_vectors import NeedEmbedder
from service.models import ExpertProfile, Institution, Need
from service.models.search_outbox import SearchOutbox
from service.search.documents import EXPERTS_STAFF, NEEDS
from tests.factories import make_expert, make_member, make_need
from tests.fusion_weights import document_and_lexical

TODAY = date(2026, 12, 1)


def _newest(engine: Engine, index: str, doc_id: int) -> dict[str, Any]:
    """The document the outbox will apply: its newest row for that document."""
    with Session(engine) as session:
        row = session.exec(
            select(SearchOutbox)
            .where(SearchOutbox.index == index, SearchOutbox.document_id == doc_id)
            .order_by(col(SearchOutbox.id).desc())
        ).first()
    assert row is not None and row.payload is not None
    return dict(row.payload)


def _waiting_or_done(engine: Engine, worker: threading.Thread) -> None:
    """Returns once the worker thread finished or (PostgreSQL) waits on a row lock."""
    deadline = time.monotonic() + 30
    while worker.is_alive() and time.monotonic() < deadline:
        if engine.dialect.name != "postgresql":
            worker.join(1.0)  # SQLite: the worker's write waits for the save's commit
            return
        with engine.connect() as connection:
            waiting = connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            ).scalar_one()
        if waiting:
            return
        worker.join(0.05)


def _while_saving(
    engine: Engine, save: Callable[[Session], None], work: Callable[[], None]
) -> None:
    """Runs `save` in a transaction left open while `work` runs in a thread, then commits it."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)

    with Session(engine) as session:
        save(session)
        session.flush()
        worker = threading.Thread(target=run)
        worker.start()
        _waiting_or_done(engine, worker)
        session.commit()
    worker.join(60)
    assert not worker.is_alive()
    if errors:
        raise errors[0]


def test_a_profile_saved_while_the_worker_stores_vectors_keeps_its_document(
    engine: Engine, session: Session, hashing: Encoder
) -> None:
    expert = make_expert(session, headline="Hydrologist", skills=["hydrology", "irrigation"])
    session.commit()
    expert_id = expert.id or 0
    matching = MatchingEngine(hashing, today=lambda: TODAY, weights_for=document_and_lexical)
    matching.sync(engine)
    # The expert saves twice: the worker has not yet embedded the first save when the
    # second one is being written.
    with Session(engine) as first:
        profile = first.get_one(ExpertProfile, expert_id)
        profile.headline = "Hydrologist and irrigation engineer"
        first.add(profile)
        changes.expert_changed(first, profile)
        first.commit()

    def save_again(writer: Session) -> None:
        profile = writer.get_one(ExpertProfile, expert_id)
        profile.headline = "Water resources engineer"
        writer.add(profile)
        changes.expert_changed(writer, profile)

    _while_saving(engine, save_again, lambda: matching.refresh(engine, expert_ids=[expert_id]))

    assert _newest(engine, EXPERTS_STAFF, expert_id)["headline"] == "Water resources engineer"


def test_a_need_saved_while_the_worker_embeds_it_keeps_its_document(
    engine: Engine, session: Session, hashing: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, institution = make_member(session, name="Hôpital régional de Thiès")
    need = make_need(
        session,
        institution=institution,
        title="Irrigation advice",
        description="Advice on drip irrigation for our cooperative.",
        required_skills=["irrigation"],
    )
    session.commit()
    need_id = need.id or 0
    embedder = NeedEmbedder(hashing, hashing.blocks[0])
    embed = embedder.embed_texts

    def save_while_embedding(*args: Any, **kwargs: Any) -> Any:
        # The institution edits the need while the worker embeds the text it read.
        with Session(engine) as writer:
            edited = writer.get_one(Need, need_id)
            edited.title = "Irrigation and drainage advice"
            writer.add(edited)
            changes.need_changed(writer, edited)
            writer.commit()
        return embed(*args, **kwargs)

    monkeypatch.setattr(embedder, "embed_texts", save_while_embedding)
    with Session(engine) as worker:
        assert embed_needs(worker, embedder, [need_id]) == [need_id]
        worker.commit()

    assert _newest(engine, NEEDS, need_id)["title"] == "Irrigation and drainage advice"


def test_a_need_saved_while_its_institution_is_renamed_keeps_its_document(
    engine: Engine, session: Session
) -> None:
    _, institution = make_member(session, name="Hôpital régional de Thiès")
    need = make_need(
        session,
        institution=institution,
        title="Triage training",
        description="Train our nurses in emergency triage.",
        required_skills=["nursing"],
    )
    session.commit()
    need_id, institution_id = need.id or 0, institution.id or 0

    def edit_need(writer: Session) -> None:
        edited = writer.get_one(Need, need_id)
        edited.title = "Triage and first aid training"
        writer.add(edited)
        changes.need_changed(writer, edited)

    def rename() -> None:
        with Session(engine) as other:
            renamed = other.get_one(Institution, institution_id)
            renamed.name = "Centre hospitalier régional de Thiès"
            other.add(renamed)
            changes.institution_changed(other, renamed)
            other.commit()

    _while_saving(engine, edit_need, rename)

    document = _newest(engine, NEEDS, need_id)
    assert document["title"] == "Triage and first aid training"
    assert document["institution_name"] == "Centre hospitalier régional de Thiès"
