"""Two web processes and two workers on one PostgreSQL database, through a burst of changes.

Real OS processes (uvicorn and `homeward worker`), the hashing encoder (model-free), the
PostgreSQL search backend. A burst of 250 profile edits, then one of 250 need edits, each
spread over both web processes by concurrent clients while both workers run. After each
burst settles: no job is lost (every re-matching job done, none failed), none ran twice (a
job's completed runs never outnumber the changes that queued it; a periodic slot runs once),
and every stored proposal is what one process computes from the final state (re-matching
again, in this process, changes nothing).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, text
from sqlmodel import Session, col, select

from matching.encoders import load_encoder
from service.core.accounts import create_api_token
from service.core.matching import MatchingEngine, rematch_expert, rematch_need
from service.db import make_engine, migrate
from service.models import Job, MatchProposal, User
from service.models.search_outbox import SearchOutbox
from service.search.postgres import PostgresBackend
from tests.factories import make_expert, make_member, make_need
from tests.pg_schemas import fresh_schema

PG_URL = os.environ.get("HOMEWARD_TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(not PG_URL, reason="HOMEWARD_TEST_DATABASE_URL not set")

ROOT = Path(__file__).resolve().parents[2]
EXPERTS = 30
INSTITUTIONS = 3
NEEDS_PER_INSTITUTION = 4
BURST = 250
CLIENTS = 12
SETTLE_S = 120.0
# Generous: four processes import torch at once, and CI machines are small.
START_S = 240.0
WORDS = [
    "epidemiology",
    "surgery",
    "nursing",
    "statistics",
    "teaching",
    "hydrology",
    "irrigation",
    "agronomy",
    "accounting",
    "software",
    "networks",
    "pediatrics",
    "pharmacy",
    "geology",
    "architecture",
    "midwifery",
    "logistics",
    "radiology",
    "cardiology",
    "economics",
]
DONE = re.compile(r"job \d+ (\S+) done by")


@dataclass
class World:
    url: str
    engine: Engine
    expert_tokens: dict[int, str] = field(default_factory=dict)
    need_tokens: dict[int, str] = field(default_factory=dict)


@dataclass
class Cluster:
    web: list[str]
    logs: list[Path]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def world() -> Iterator[World]:
    """A fresh schema, migrated, with experts, institutions and needs (no job queued yet)."""
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]
    schema = f"hw_scale_{checkout}"
    admin = make_engine(PG_URL)
    with admin.begin() as connection:
        fresh_schema(connection, schema)
    separator = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    migrate(engine)
    out = World(url=url, engine=engine)
    rng = Random(14)
    with Session(engine, expire_on_commit=False) as session:
        for i in range(EXPERTS):
            expert = make_expert(
                session,
                display_name=f"Expert {i}",
                headline=" ".join(rng.sample(WORDS, 2)),
                skills=rng.sample(WORDS, 3),
                languages=[{"code": "en", "level": "fluent"}],
            )
            user = session.get_one(User, expert.user_id)
            out.expert_tokens[expert.id or 0] = create_api_token(session, user=user)
        for i in range(INSTITUTIONS):
            member, institution = make_member(session, name=f"Institution {i}")
            token = create_api_token(session, user=member)
            for _ in range(NEEDS_PER_INSTITUTION):
                need = make_need(
                    session, institution=institution, **_need_body(rng), languages=["en"]
                )
                out.need_tokens[need.id or 0] = token
        session.commit()
    yield out
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def cluster(world: World, tmp_path: Path) -> Iterator[Cluster]:
    """Two uvicorn processes and two workers on the world's database."""
    env = {
        **os.environ,
        "HOMEWARD_DATABASE_URL": world.url,
        "HOMEWARD_DATA_DIR": str(tmp_path),
        "HOMEWARD_ENVIRONMENT": "test",
        "HOMEWARD_SECRET_KEY": "scale-out-test-" + "x" * 40,
        "HOMEWARD_SEARCH_BACKEND": "embedded",
        "HOMEWARD_EMBEDDING_MODEL": "hashing",
        "HOMEWARD_LOAD_ENCODER": "false",
        "HOMEWARD_RUN_WORKER_IN_PROCESS": "false",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
    }
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    ports = [_free_port(), _free_port()]
    commands = [
        [sys.executable, "-m", "uvicorn", "service.main:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        for port in ports
    ] + [
        [sys.executable, "-c", "from service.cli import app; app()", "worker", "--poll", "0.2"]
        for _ in range(2)
    ]  # fmt: skip
    try:
        for number, command in enumerate(commands):
            log = tmp_path / f"process{number}.log"
            logs.append(log)
            handle = log.open("wb")
            processes.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=handle)
            )
        web = [f"http://127.0.0.1:{port}" for port in ports]
        _wait_healthy(web, processes, logs)
        yield Cluster(web=web, logs=logs[2:])
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_healthy(
    web: list[str], processes: list[subprocess.Popen[bytes]], logs: list[Path]
) -> None:
    deadline = time.monotonic() + START_S
    pending = set(web)
    while pending and time.monotonic() < deadline:
        for number, process in enumerate(processes):
            if process.poll() is not None:
                pytest.fail(f"process {number} exited: {logs[number].read_text()[-2000:]}")
        for base in list(pending):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    pending.discard(base)
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    assert not pending, f"web processes not healthy: {pending}"


def _need_body(rng: Random) -> dict[str, Any]:
    skills = rng.sample(WORDS, 2)
    return {
        "title": f"Support in {skills[0]} and {skills[1]}",
        "description": f"Our teams need help with {' and '.join(rng.sample(WORDS, 3))} work.",
        "required_skills": skills,
        "mode": "remote",
    }


def _profile_body(rng: Random, number: int) -> dict[str, Any]:
    return {
        "display_name": f"Expert {number}",
        "headline": " ".join(rng.sample(WORDS, 2)),
        "bio": f"Years of work in {' and '.join(rng.sample(WORDS, 3))}.",
        "skills": rng.sample(WORDS, 3),
        "languages": [{"code": "en", "level": "fluent"}],
        "origin_country": "SN",
        "residence_country": "CA",
        "timezone": "UTC",
        "modes": ["remote"],
        "hours_per_month": 20,
        "consent_matching": True,
    }


def _burst(cluster: Cluster, requests: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Sends every request (path, token, body) once, spread over the web processes."""

    def send(item: tuple[int, tuple[str, str, dict[str, Any]]]) -> int:
        number, (path, token, body) = item
        base = cluster.web[number % len(cluster.web)]
        response = httpx.put(
            f"{base}{path}", json=body, headers={"authorization": f"Bearer {token}"}, timeout=30
        )
        return response.status_code

    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = Counter(pool.map(send, enumerate(requests)))
    assert statuses == {200: len(requests)}


def _settle(engine: Engine) -> None:
    """Waits until no re-matching job waits or runs (an expert's change also queues the needs
    it touches) and the search outbox is empty."""
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        with Session(engine) as session:
            waiting = session.exec(
                select(func.count()).where(
                    col(Job.kind).in_(["rematch_expert", "rematch_need"]), Job.status == "pending"
                )
            ).one()
            outbox = session.exec(select(func.count()).select_from(SearchOutbox)).one()
        if waiting == 0 and outbox == 0:
            return
        time.sleep(0.3)
    pytest.fail(f"re-matching jobs or search outbox still pending after {SETTLE_S} s")


def _completed_runs(cluster: Cluster) -> Counter[str]:
    runs: Counter[str] = Counter()
    for log in cluster.logs:
        runs.update(DONE.findall(log.read_text(errors="replace")))
    return runs


def _rows(session: Session, column: Any, owner_id: int) -> dict[tuple[int, int], tuple[Any, ...]]:
    proposals = session.exec(select(MatchProposal).where(column == owner_id))
    return {
        (p.need_id, p.expert_id): (p.status, p.rank, round(p.score, 5), p.origin) for p in proposals
    }


def _unchanged_by_rematching(
    engine: Engine,
    owners: list[int],
    column: Any,
    rematch: Callable[[Session, MatchingEngine, int], object],
) -> list[int]:
    """Owners whose stored proposals differ from what this process computes now."""
    matching = MatchingEngine(load_encoder("hashing"))
    matching.sync(engine)
    differ = []
    for owner_id in owners:
        with Session(engine) as session:
            stored = _rows(session, column, owner_id)
            rematch(session, matching, owner_id)
            session.flush()
            now = _rows(session, column, owner_id)
            if now != stored or not stored:
                differ.append(owner_id)
                for key in sorted(set(now) | set(stored)):
                    if now.get(key) != stored.get(key):
                        print("DIFF", owner_id, key, "stored", stored.get(key), "now", now.get(key))
            session.rollback()
    return differ


def test_two_workers_and_two_web_processes_through_a_burst(world: World, cluster: Cluster) -> None:
    rng = Random(500)
    experts = sorted(world.expert_tokens)
    edits = [experts[i % len(experts)] for i in range(BURST)]
    rng.shuffle(edits)
    _burst(
        cluster,
        [("/api/experts/me", world.expert_tokens[e], _profile_body(rng, e)) for e in edits],
    )
    _settle(world.engine)
    differ = _unchanged_by_rematching(
        world.engine,
        experts,
        col(MatchProposal.expert_id),
        lambda s, m, e: rematch_expert(s, m, expert_id=e),
    )
    assert differ == [], f"experts whose proposals are stale: {differ}"

    needs = sorted(world.need_tokens)
    need_edits = [needs[i % len(needs)] for i in range(BURST)]
    rng.shuffle(need_edits)
    _burst(
        cluster,
        [
            (f"/api/needs/{n}", world.need_tokens[n], {**_need_body(rng), "languages": ["en"]})
            for n in need_edits
        ],
    )
    _settle(world.engine)
    search = PostgresBackend(engine=world.engine)
    differ = _unchanged_by_rematching(
        world.engine,
        needs,
        col(MatchProposal.need_id),
        lambda s, m, n: rematch_need(s, m, need_id=n, search=search, k=10),
    )
    assert differ == [], f"needs whose proposals are stale: {differ}"

    with Session(world.engine) as session:
        jobs = list(session.exec(select(Job)))
    assert [j.key for j in jobs if j.status == "failed"] == []
    runs = _completed_runs(cluster)
    changes = Counter(
        [f"rematch_expert:{e}" for e in edits] + [f"rematch_need:{n}" for n in need_edits]
    )
    # Every changed owner was re-matched, never more often than it changed.
    assert set(changes) <= set(runs)
    assert {key: n for key, n in runs.items() if ":" in key and n > changes[key]} == {}
    # A periodic slot (key "kind@slot") is queued by both workers and run by one.
    assert {key: n for key, n in runs.items() if "@" in key and n > 1} == {}
