"""A rebuild of the search indexes (`reindex_all`) never replaces a newer document with an older
one, whatever the worker drained meanwhile.

Each interleaving is forced at a fixed point of the rebuild, with no thread and no sleep: the
backend is wrapped so that, just before the rebuild writes a batch (or reads which ids an index
holds), a person saves, the worker builds a document, and the outbox is drained. The save is
made on an engine that gives up at once on a lock: while the rebuild holds its batch (row locks
on PostgreSQL, the write lock on SQLite) the save is refused, and is made again once the
rebuild is done, as it would be after waiting. Before the fix, the save went through, was
drained, and the rebuild then wrote the document it had read before the save over it.

The rebuilt index must end holding what the database holds. Runs on FTS5 (SQLite), PostgreSQL
(HOMEWARD_TEST_DATABASE_URL) and Meilisearch (HOMEWARD_TEST_MEILI_URL, a fresh index prefix).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from matching.encoders import Encoder
from service.core import changes
from service.core.indexing import drain_outbox, reindex_all
from service.core.need_vectors import embed_needs
from service.core.public_vectors import NeedEmbedder
from service.models import ExpertProfile, Institution, Need
from service.search import SearchBackend
from service.search.base import Document, SearchQuery
from service.search.documents import EXPERTS_PUBLIC, EXPERTS_STAFF, NEEDS
from tests.factories import make_expert, make_member, make_need
from tests.search.conftest import MEILI_URL, fresh_backend

Save = Callable[[Session], None]


@pytest.fixture(params=["database", "meilisearch"])
def backend(
    request: pytest.FixtureRequest, search_backend: SearchBackend, hashing: Encoder
) -> Iterator[SearchBackend]:
    """The database's own search (FTS5 or PostgreSQL), or a fresh Meilisearch."""
    if request.param == "database":
        yield search_backend
        return
    if not MEILI_URL:
        pytest.skip("HOMEWARD_TEST_MEILI_URL not set")
    block = hashing.blocks[0]
    with fresh_backend("meilisearch", dimensions=block.stop - block.start) as meili:
        yield meili


@dataclass
class AtFixedPoints:
    """A backend that runs a step just before the rebuild's first write to an index, or its
    first look at the ids an index holds; the steps write through the real backend."""

    backend: SearchBackend
    before_upsert: dict[str, Callable[[], None]] = field(default_factory=dict)
    before_all_ids: dict[str, Callable[[], None]] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def upsert(self, index: str, documents: Sequence[Document]) -> None:
        step = self.before_upsert.pop(index, None)
        if step is not None:
            step()
        self.backend.upsert(index, documents)

    def all_ids(self, index: str) -> set[int]:
        step = self.before_all_ids.pop(index, None)
        if step is not None:
            step()
        return self.backend.all_ids(index)


@pytest.fixture
def impatient(engine: Engine) -> Iterator[Engine]:
    """The same database, through connections that give up at once on a lock."""
    if engine.dialect.name == "postgresql":
        other = create_engine(engine.url)

        @event.listens_for(other, "connect")
        def _no_waiting(connection: Any, _record: Any) -> None:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '20ms'")
            connection.commit()
    else:
        other = create_engine(engine.url, connect_args={"timeout": 0, "check_same_thread": False})
    yield other
    other.dispose()


@dataclass
class Racer:
    """Runs a save (or the worker's step) in the middle of a rebuild, or after it when the
    rebuild holds what it would change; then drains the outbox, as the worker does."""

    engine: Engine
    impatient: Engine
    backend: SearchBackend
    refused: list[bool] = field(default_factory=list)
    left: list[Save] = field(default_factory=list)

    def now(self, save: Save) -> Callable[[], None]:
        def step() -> None:
            try:
                with Session(self.impatient) as session:
                    save(session)
                    session.commit()
            except OperationalError:  # a lock held by the rebuild: it waits, in real life
                self.refused.append(True)
                self.left.append(save)
                return
            self.refused.append(False)
            drain_outbox(self.engine, self.backend)

        return step

    def finish(self) -> None:
        for save in self.left:
            with Session(self.engine) as session:
                save(session)
                session.commit()
        drain_outbox(self.engine, self.backend)


def _documents(backend: SearchBackend, index: str) -> dict[int, Document]:
    page = backend.search(index, SearchQuery(per_page=100, highlight=False))
    return {hit.id: hit.document for hit in page.hits}


def _rebuild_while(
    engine: Engine,
    impatient: Engine,
    backend: SearchBackend,
    *,
    before_upsert: dict[str, Save] | None = None,
    before_all_ids: dict[str, Save] | None = None,
) -> Racer:
    racer = Racer(engine, impatient, backend)
    wrapped = AtFixedPoints(
        backend,
        before_upsert={index: racer.now(save) for index, save in (before_upsert or {}).items()},
        before_all_ids={index: racer.now(save) for index, save in (before_all_ids or {}).items()},
    )
    reindex_all(engine, wrapped)
    assert not wrapped.before_upsert and not wrapped.before_all_ids, "a step never ran"
    racer.finish()
    return racer


def _edit_need(need_id: int, **values: Any) -> Save:
    def save(session: Session) -> None:
        need = session.get_one(Need, need_id)
        for name, value in values.items():
            setattr(need, name, value)
        session.add(need)
        changes.need_changed(session, need)

    return save


def test_a_need_saved_while_its_batch_is_written_keeps_its_new_title(
    engine: Engine, session: Session, impatient: Engine, backend: SearchBackend
) -> None:
    _, institution = make_member(session)
    need = make_need(session, institution=institution, title="Irrigation advice")
    save = _edit_need(need.id or 0, title="Irrigation and drainage advice")

    racer = _rebuild_while(engine, impatient, backend, before_upsert={NEEDS: save})

    assert _documents(backend, NEEDS)[need.id or 0]["title"] == "Irrigation and drainage advice"
    assert racer.refused == [True]  # the save waited for the batch


def test_a_need_closed_while_its_batch_is_written_leaves_the_index(
    engine: Engine, session: Session, impatient: Engine, backend: SearchBackend
) -> None:
    _, institution = make_member(session)
    kept = make_need(session, institution=institution, title="Triage training")
    closed = make_need(session, institution=institution, title="Water quality survey")

    _rebuild_while(
        engine,
        impatient,
        backend,
        before_upsert={NEEDS: _edit_need(closed.id or 0, status="closed")},
    )

    assert set(_documents(backend, NEEDS)) == {kept.id}


def test_an_expert_who_hides_from_institutions_mid_rebuild_stays_hidden(
    engine: Engine, session: Session, impatient: Engine, backend: SearchBackend
) -> None:
    expert = make_expert(session, display_name="Samira Benali", skills=["cryptography"])
    other = make_expert(session, display_name="Awa Diallo", skills=["epidemiology"])
    expert_id = expert.id or 0

    def hide(writer: Session) -> None:
        profile = writer.get_one(ExpertProfile, expert_id)
        profile.visibility = "coordinators"
        writer.add(profile)
        changes.expert_changed(writer, profile)

    racer = _rebuild_while(engine, impatient, backend, before_upsert={EXPERTS_PUBLIC: hide})

    assert set(_documents(backend, EXPERTS_PUBLIC)) == {other.id}
    assert _documents(backend, EXPERTS_STAFF)[expert_id]["visibility"] == "coordinators"
    assert racer.refused == [True]  # and it waited for the batch


def test_an_institution_renamed_while_its_needs_are_written_renames_them(
    engine: Engine, session: Session, impatient: Engine, backend: SearchBackend
) -> None:
    _, institution = make_member(session, name="Institut Pasteur de Dakar")
    need = make_need(session, institution=institution, title="Former des biostatisticiens")
    institution_id = institution.id or 0

    def rename(writer: Session) -> None:
        renamed = writer.get_one(Institution, institution_id)
        renamed.name = "Institut de santé Léopold"
        writer.add(renamed)
        changes.institution_changed(writer, renamed)

    racer = _rebuild_while(engine, impatient, backend, before_upsert={NEEDS: rename})

    document = _documents(backend, NEEDS)[need.id or 0]
    assert document["institution_name"] == "Institut de santé Léopold"
    assert racer.refused == [True]  # and it waited for the batch


def test_the_worker_embedding_a_need_waits_for_the_batch(
    engine: Engine, session: Session, impatient: Engine, backend: SearchBackend, hashing: Encoder
) -> None:
    _, institution = make_member(session)
    need = make_need(session, institution=institution, title="Drip irrigation for a cooperative")
    embedder = NeedEmbedder(hashing, hashing.blocks[0])

    def embed(worker: Session) -> None:
        assert embed_needs(worker, embedder, [need.id or 0]) == [need.id]

    racer = _rebuild_while(engine, impatient, backend, before_upsert={NEEDS: embed})

    # Its document (with the new vector) reaches the index after the batch's, never before.
    assert set(_documents(backend, NEEDS)) == {need.id}
    assert racer.refused == [True]  # and it waited for the batch


def test_a_need_opened_after_its_batch_is_not_removed_by_the_rebuild(
    engine: Engine, session: Session, impatient: Engine, backend: SearchBackend
) -> None:
    _, institution = make_member(session)
    draft = make_need(session, institution=institution, title="Solar pumps", status="draft")
    opened = _edit_need(draft.id or 0, status="open")

    # Opened and drained after the rebuild read it (a draft), before it looks for stale ids.
    racer = _rebuild_while(engine, impatient, backend, before_all_ids={NEEDS: opened})

    assert _documents(backend, NEEDS)[draft.id or 0]["title"] == "Solar pumps"
    assert racer.refused == [False]


def test_a_rebuild_still_removes_what_the_database_no_longer_shows(
    engine: Engine, session: Session, impatient: Engine, backend: SearchBackend
) -> None:
    _, institution = make_member(session)
    need = make_need(session, institution=institution, title="Solar pumps")
    gone = make_need(session, institution=institution, title="Wind turbines")
    reindex_all(engine, backend)
    assert set(_documents(backend, NEEDS)) == {need.id, gone.id}
    gone.status = "closed"
    session.add(gone)
    session.commit()

    assert reindex_all(engine, backend)[NEEDS] == 1

    assert set(_documents(backend, NEEDS)) == {need.id}
