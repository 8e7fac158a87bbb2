"""The matcher inside the service: vectors stored and reused, proposals stored and kept."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from matching.encoders import Encoder, load_encoder
from service.core.indexing import reindex_all
from service.core.matching import (
    MatchingEngine,
    rematch_expert,
    rematch_need,
    rematch_open_needs,
)
from service.models import Embedding, MatchProposal, ProposalStatus
from service.search import SearchBackend
from tests.factories import make_expert, make_member, make_need
from tests.fusion_weights import document_and_lexical

TODAY = date(2026, 12, 1)


@pytest.fixture
def engine_with(hashing: Encoder) -> MatchingEngine:
    return MatchingEngine(hashing, today=lambda: TODAY, weights_for=document_and_lexical)


def test_sync_embeds_once_then_reuses_stored_vectors(
    session: Session, engine: Engine, hashing: Encoder
) -> None:
    make_expert(session, display_name="A", headline="Epidemiologist")
    make_expert(session, display_name="B", headline="Civil engineer", skills=["bridges"])
    first = MatchingEngine(hashing, today=lambda: TODAY, weights_for=document_and_lexical)
    assert first.sync(engine).embedded == 2
    rows = session.exec(select(Embedding)).all()
    assert {r.model_version for r in rows} == {first.version} and all(r.content_hash for r in rows)
    # A fresh process reuses the stored vectors: nothing is embedded again.
    second = MatchingEngine(hashing, today=lambda: TODAY, weights_for=document_and_lexical)
    result = second.sync(engine)
    assert (result.indexed, result.embedded) == (2, 0)


def test_only_a_changed_profile_is_embedded_again(
    session: Session, engine: Engine, engine_with: MatchingEngine
) -> None:
    changed = make_expert(session, headline="Epidemiologist")
    make_expert(session, headline="Civil engineer")
    engine_with.sync(engine)
    changed.headline = "Senior epidemiologist"
    session.add(changed)
    session.commit()
    assert engine_with.sync(engine).embedded == 1


def test_rematch_stores_proposals_and_keeps_decisions(
    session: Session, engine: Engine, engine_with: MatchingEngine, search_backend: SearchBackend
) -> None:
    epi = make_expert(session, headline="Epidemiologist", skills=["epidemiology", "teaching"])
    eng = make_expert(session, headline="Civil engineer", skills=["bridges", "concrete"])
    _, institution = make_member(session)
    need = make_need(
        session,
        institution=institution,
        title="Epidemiology teaching",
        description="Teach epidemiology to students remotely.",
        required_skills=["epidemiology"],
        languages=["en"],
    )
    reindex_all(engine, search_backend)
    engine_with.sync(engine)
    proposals = rematch_need(session, engine_with, need_id=need.id or 0, search=search_backend, k=2)
    session.commit()
    assert [p.expert_id for p in proposals][0] == epi.id
    assert proposals[0].explanation["covered_skills"][0]["required"] == "epidemiology"
    assert proposals[0].components["score"] == pytest.approx(proposals[0].score)
    rejected = next(p for p in proposals if p.expert_id == eng.id)
    rejected.status = ProposalStatus.REJECTED
    rejected.reason = "Not a teacher"
    session.add(rejected)
    session.commit()
    # Recomputing never undoes a coordinator's decision.
    assert rematch_open_needs(engine, engine_with, search=search_backend, k=2) == 1
    session.expire_all()
    kept = session.get(MatchProposal, rejected.id)
    assert (
        kept is not None
        and kept.status == ProposalStatus.REJECTED
        and kept.reason == "Not a teacher"
    )


def test_inactive_or_opted_out_experts_are_never_proposed(
    session: Session, engine: Engine, engine_with: MatchingEngine
) -> None:
    make_expert(session, headline="Epidemiologist", active=False)
    make_expert(session, headline="Epidemiologist", consent_matching_at=None)
    keeper = make_expert(session, headline="Epidemiologist")
    _, institution = make_member(session)
    need = make_need(session, institution=institution, title="Epidemiologist", languages=[])
    engine_with.sync(engine)
    proposals = rematch_need(session, engine_with, need_id=need.id or 0, search=None, k=5)
    assert [p.expert_id for p in proposals] == [keeper.id]


@pytest.fixture(scope="session")
def real_encoder() -> Encoder:
    """The bundled default encoder, loaded once for the session."""
    return load_encoder("homeward-fused")


@pytest.mark.slow
def test_french_need_proposes_the_english_epidemiologist_and_names_the_skills(
    session: Session, engine: Engine, search_backend: SearchBackend, real_encoder: Encoder
) -> None:
    epidemiologist = make_expert(
        session,
        headline="Epidemiologist and lecturer in public health",
        skills=["epidemiology", "biostatistics", "outbreak investigation", "teaching"],
        bio="I teach infectious disease epidemiology at McGill and supervise MPH theses.",
        languages=[{"code": "en", "level": "fluent"}, {"code": "fr", "level": "native"}],
    )
    for headline, skills in (
        ("Civil engineer", ["bridge design", "structural analysis", "concrete"]),
        ("Corporate lawyer", ["contract law", "mergers and acquisitions", "compliance"]),
        ("Agronomist", ["soil science", "irrigation", "crop rotation"]),
        ("Software engineer", ["python", "distributed systems", "databases"]),
    ):
        make_expert(
            session,
            headline=headline,
            skills=skills,
            bio=f"{headline} with ten years of experience.",
            languages=[{"code": "fr", "level": "fluent"}],
        )
    _, institution = make_member(session, timezone="Africa/Dakar")
    need = make_need(
        session,
        institution=institution,
        title="Co-enseigner un module d'épidémiologie à distance",
        description=(
            "Notre faculté de médecine cherche un épidémiologiste pour co-enseigner à distance "
            "un module d'épidémiologie de six semaines, en français, avec des séances en direct."
        ),
        required_skills=["épidémiologie", "biostatistique", "enseignement"],
        languages=["fr"],
        live_sessions=True,
    )
    reindex_all(engine, search_backend)
    matching = MatchingEngine(real_encoder, today=lambda: TODAY)
    matching.sync(engine)
    proposals = rematch_need(session, matching, need_id=need.id or 0, search=search_backend, k=3)
    top = proposals[0]
    assert top.expert_id == epidemiologist.id
    covered = {item["required"]: item["matched"] for item in top.explanation["covered_skills"]}
    related = {item["required"]: item["matched"] for item in top.explanation["related_skills"]}
    assert covered.get("biostatistique") == "biostatistics"
    # The translation scores 0.79: the same skill by the skills-gap report's rule (0.775,
    # `same_skill`), so it is covered, not "similar, not counted" (docs/matching.md).
    assert covered.get("épidémiologie") == "epidemiology"
    assert "épidémiologie" not in related
    assert "fr" in top.explanation["shared_languages"]


def test_on_site_expert_is_proposed_for_a_remote_need_only_once_widened(
    client: object, session: Session, engine: Engine, engine_with: MatchingEngine
) -> None:
    from fastapi.testclient import TestClient

    from service.models import AuditEvent, Job, Need, Role
    from tests.conftest import csrf_token, login
    from tests.factories import PASSWORD, make_user

    assert isinstance(client, TestClient)
    on_site = make_expert(session, headline="Epidemiologist", modes=["mission"])
    _, institution = make_member(session)
    need = make_need(
        session, institution=institution, title="Epidemiologist", languages=[], mode="remote"
    )
    engine_with.sync(engine)
    assert rematch_need(session, engine_with, need_id=need.id or 0, search=None, k=5) == []

    expert_user = make_user(session, role=Role.EXPERT)
    login(client, expert_user.email, PASSWORD)
    refused = client.post(
        f"/coordinator/needs/{need.id}/modes",
        data={"widen": "on", "csrf_token": csrf_token(client)},
    )
    assert refused.status_code == 403

    coordinator = make_user(session, role=Role.COORDINATOR)
    login(client, coordinator.email, PASSWORD)
    response = client.post(
        f"/coordinator/needs/{need.id}/modes",
        data={"widen": "on", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 303
    session.expire_all()
    widened = session.get(Need, need.id)
    assert widened is not None and widened.widen_modes
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "need.modes_widened")).one()
    assert session.exec(select(Job).where(Job.key == f"rematch_need:{need.id}")).one()
    proposals = rematch_need(session, engine_with, need_id=need.id or 0, search=None, k=5)
    assert [p.expert_id for p in proposals] == [on_site.id]
    assert proposals[0].components["mode"] < 0


def _pair(session: Session, need_id: int, expert_id: int) -> tuple[object, ...]:
    session.flush()
    row = session.exec(
        select(MatchProposal).where(
            MatchProposal.need_id == need_id, MatchProposal.expert_id == expert_id
        )
    ).one()
    return (row.status, row.rank, round(row.score, 6), row.origin)


@pytest.mark.parametrize("need_side_last", [True, False])
def test_a_pair_both_sides_hold_ends_the_same_whichever_job_runs_last(
    session: Session, engine: Engine, engine_with: MatchingEngine, need_side_last: bool
) -> None:
    make_expert(session, headline="Epidemiologist", skills=["épidémiologie", "biostatistique"])
    make_expert(session, headline="Civil engineer", skills=["bridges"])
    _, institution = make_member(session)
    need = make_need(session, institution=institution)
    engine_with.sync(engine)
    need_id = need.id or 0
    # The need ranks both; the second one's "needs for you" holds the need too.
    ranked = rematch_need(session, engine_with, need_id=need_id, search=None, k=2)
    assert [p.rank for p in ranked] == [1, 2]
    expert_id = ranked[1].expert_id
    held = rematch_expert(session, engine_with, expert_id=expert_id)
    assert [p.need_id for p in held] == [need_id]
    # Then the need stops ranking that expert (it keeps one), before or after the expert's
    # side runs again.
    if need_side_last:
        rematch_expert(session, engine_with, expert_id=expert_id)
        rematch_need(session, engine_with, need_id=need_id, search=None, k=1)
    else:
        rematch_need(session, engine_with, need_id=need_id, search=None, k=1)
        rematch_expert(session, engine_with, expert_id=expert_id)
    final = _pair(session, need_id, expert_id)
    expert_score = rematch_expert(session, engine_with, expert_id=expert_id)[0].score
    # Pending for the expert's side, unranked by the need, with that side's score; running
    # either job again changes nothing.
    assert final == (ProposalStatus.PROPOSED, 0, round(expert_score, 6), "expert")
    rematch_need(session, engine_with, need_id=need_id, search=None, k=1)
    assert _pair(session, need_id, expert_id) == final
