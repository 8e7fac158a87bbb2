"""The public search vector: embedded from headline and skills only, again only when they change."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from matching.encoders import Encoder, load_encoder
from matching.records import ExpertRecord
from matching.texts import profile_public_text
from service.core.matching import MatchingEngine
from service.core.public_vectors import public_model
from service.models import Embedding
from tests.factories import make_expert


@pytest.fixture(scope="module")
def e5() -> Encoder:
    return load_encoder("e5", threads=1)


def _public_rows(session: Session) -> dict[int, Embedding]:
    session.expire_all()
    rows = session.exec(select(Embedding).where(Embedding.model == public_model("e5")))
    return {row.owner_id: row for row in rows}


def test_the_public_vector_embeds_headline_and_skills_only(
    session: Session, engine: Engine, e5: Encoder
) -> None:
    expert = make_expert(
        session, headline="Hydrologist", skills=["flood risk"], bio="Keeps bees at weekends."
    )
    MatchingEngine(e5, search_query_model="e5").sync(engine)
    row = _public_rows(session)[expert.id or 0]
    stored = np.frombuffer(row.vector, dtype=np.float32)
    text = profile_public_text(ExpertRecord("x", headline="Hydrologist", skills=["flood risk"]))
    assert text == "Hydrologist. flood risk"
    assert np.allclose(stored, e5.encode_documents([text])[0], atol=1e-5)


def test_a_bio_change_keeps_the_public_vector_and_a_skill_change_renews_it(
    session: Session, engine: Engine, e5: Encoder
) -> None:
    expert = make_expert(session, headline="Hydrologist", skills=["flood risk"])
    matching = MatchingEngine(e5, search_query_model="e5")
    matching.sync(engine)
    first = _public_rows(session)[expert.id or 0].content_hash
    expert.bio = "Now also keeps bees."
    session.add(expert)
    session.commit()
    assert matching.sync(engine).embedded == 1  # the full vector embeds the bio
    assert _public_rows(session)[expert.id or 0].content_hash == first
    expert.skills = ["flood risk", "groundwater"]
    session.add(expert)
    session.commit()
    matching.sync(engine)
    assert _public_rows(session)[expert.id or 0].content_hash != first


def test_an_encoder_without_the_query_model_stores_no_public_vector(
    session: Session, engine: Engine
) -> None:
    make_expert(session)
    MatchingEngine(load_encoder("hashing"), search_query_model="e5").sync(engine)
    assert _public_rows(session) == {}


def test_experts_embedded_before_public_vectors_existed_get_one(
    session: Session, engine: Engine, e5: Encoder
) -> None:
    expert = make_expert(session, headline="Hydrologist", skills=["flood risk"])
    matching = MatchingEngine(e5, search_query_model="e5")
    matching.sync(engine)
    for row in _public_rows(session).values():
        session.delete(row)
    session.commit()
    assert matching.sync(engine).embedded == 0  # the full vector is still current
    assert set(_public_rows(session)) == {expert.id}
