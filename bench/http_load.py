"""HTTP load benchmark: p50/p95 latency and requests per second of the main pages.

It builds its own world (10,000 experts by default) with bulk inserts through the models,
starts the real app with uvicorn (N worker processes) on a loopback port, logs in as a
coordinator and as an expert, then sends each page's requests from 20 concurrent clients.

    .venv/bin/python bench/http_load.py                 # 2 then 1 uvicorn workers, a table
    .venv/bin/python bench/http_load.py --workers 2     # the recommended setup only
    .venv/bin/python bench/http_load.py --json          # {"pages": [{"page": ..., "p50_ms": ...}]}
    .venv/bin/python bench/http_load.py --workers 2 --proxy   # also 2 uvicorns behind nginx

With `--proxy`, the first worker count is also served as that many single-process uvicorns
behind nginx (`least_conn` over kept-alive upstream connections; deploy/nginx.conf), measured
page by page in the same run. uvicorn's own processes share one listening socket, and a
keep-alive connection stays with the process that accepted it: 20 clients were split 13 / 7
(`ss -tnp` during a run), so one process queued nearly twice the other's requests. A proxy
spreads requests, not connections.

Each page is measured with its reference in the same run: the landing page (a few counts and
a short template), and the load average of the machine before each page, so a figure taken on a
busy machine can be read as a ratio.

The load generator shares the machine's cores with the server, so it is kept lean: each client
holds one keep-alive connection and sends request bytes built once, reading only the framing of
the answer (`LeanConnection`). It is measurement apparatus, not a way around the server's work:
the server receives the same GET a browser sends and answers it in full. Its own CPU per
request is printed (`client ms`); `--client httpx` measures with httpx as before, which spent
5–8 ms of CPU a request on the shared cores (lean: about 0.4 ms), as much as a page itself.

Pages that do not exist yet (or fail) are reported with their status and left out of the
figures. This measures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.db import make_engine, migrate  # noqa: E402
from service.models import (  # noqa: E402
    Engagement,
    ExpertProfile,
    Institution,
    InstitutionMember,
    MatchProposal,
    Need,
    User,
)
from service.security import CSRF_COOKIE, hash_password  # noqa: E402

PASSWORD = "bench-password-123"
COORDINATOR = "coordinator@bench.example"
SKILLS = [
    "epidemiology",
    "biostatistics",
    "public health",
    "malaria control",
    "surgery",
    "nursing",
    "pharmacology",
    "hydrology",
    "GIS",
    "irrigation",
    "soil science",
    "agronomy",
    "machine learning",
    "data engineering",
    "cloud computing",
    "cybersecurity",
    "software architecture",
    "accounting",
    "auditing",
    "microfinance",
    "tax policy",
    "contract law",
    "human rights law",
    "urban planning",
    "structural engineering",
    "solar energy",
    "power grids",
    "water treatment",
    "teaching",
    "curriculum design",
    "thesis supervision",
    "project management",
    "procurement",
    "logistics",
    "supply chain",
    "public procurement",
    "health economics",
    "maternal health",
    "pediatrics",
    "radiology",
    "epidémiologie",
    "santé publique",
    "génie civil",
    "énergie solaire",
    "agronomie",
    "enseignement",
    "finanzas",
    "salud pública",
    "ingeniería",
    "saúde pública",
    "engenharia",
]
COUNTRIES = ["SN", "ML", "CI", "GH", "NG", "CM", "MA", "TN", "DZ", "HT", "CD", "ET", "KE", "BJ"]
RESIDENCES = ["FR", "CA", "US", "GB", "BE", "DE", "CH", "IT", "ES", "PT"]
LANGUAGES = ["fr", "en", "es", "pt", "ar", "wo", "sw", "ha"]
SECTORS = [
    "health",
    "education",
    "engineering",
    "agriculture",
    "finance",
    "law",
    "technology",
    "energy",
    "water",
    "business",
    "research",
    "environment",
]
MODES = ["remote", "mission", "hybrid"]
TIMEZONES = [
    "Europe/Paris",
    "America/Toronto",
    "America/New_York",
    "Europe/London",
    "Europe/Brussels",
    "Africa/Dakar",
]
FIRST = [
    "Awa",
    "Moussa",
    "Fatou",
    "Kofi",
    "Amina",
    "Ibrahim",
    "Mariama",
    "Yaw",
    "Aïcha",
    "Omar",
    "Nadia",
    "Samuel",
    "Grace",
    "Jean",
    "Claire",
    "Tarek",
    "Leila",
    "Rui",
    "Ana",
    "Kwame",
]
LAST = [
    "Diallo",
    "Ndiaye",
    "Mensah",
    "Traoré",
    "Koné",
    "Bensalah",
    "Okafor",
    "Diop",
    "Sow",
    "Haddad",
    "Mbeki",
    "Silva",
    "Pereira",
    "Baptiste",
    "Kamara",
    "Touré",
    "Asante",
    "Ba",
]
# The expert search page (the coordinators' roster); the first of these that answers 200 is
# measured, so the bench also runs against older trees.
SEARCH_PAGES = (
    "/coordinator/roster?q=epidemiology",
    "/coordinator/experts?q=epidemiology",
    "/coordinator/search?q=epidemiology",
    "/search?q=epidemiology",
)


@dataclass
class World:
    experts: int
    review_need_id: int = 0
    expert_id: int = 0
    institution_id: int = 0


def _now() -> datetime:
    return datetime.now(UTC)


def _chunks(rows: list[dict[str, Any]], size: int = 2000) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def build_world(database_url: str, *, experts: int, seed: int = 7) -> World:
    """Creates a migrated database with experts, institutions, needs, proposals, engagements."""
    rng = random.Random(seed)
    engine = make_engine(database_url)
    migrate(engine)
    world = World(experts=experts)
    password_hash = hash_password(PASSWORD)
    now = _now()
    users: list[dict[str, Any]] = []
    profiles: list[dict[str, Any]] = []
    for index in range(1, experts + 1):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        users.append(
            {
                "id": index,
                "email": f"expert{index}@bench.example",
                "password_hash": password_hash,
                "role": "expert",
                "display_name": name,
                "locale": rng.choice(["en", "fr"]),
                "active": True,
                "email_prefs": {},
                "created_at": now,
            }
        )
        skills = rng.sample(SKILLS, rng.randint(3, 8))
        langs = rng.sample(LANGUAGES, rng.randint(1, 3))
        profiles.append(
            {
                "id": index,
                "user_id": index,
                "display_name": name,
                "headline": f"{skills[0].capitalize()} specialist, {rng.randint(3, 30)} years",
                "bio": f"Works on {', '.join(skills)} in {rng.choice(RESIDENCES)}.",
                "skills": skills,
                "languages": [
                    {"code": c, "level": rng.choice(["native", "fluent", "professional"])}
                    for c in langs
                ],
                "origin_country": rng.choice(COUNTRIES),
                "residence_country": rng.choice(RESIDENCES),
                "city": "",
                "timezone": rng.choice(TIMEZONES),
                "modes": rng.sample(MODES, rng.randint(1, 2)),
                "hours_per_month": rng.randint(4, 40),
                "available_from": date(2026, 1, 1),
                "available_until": date(2027, 12, 31),
                "availability_confirmed_at": now,
                "sectors": rng.sample(SECTORS, rng.randint(1, 2)),
                "years_experience": rng.randint(3, 30),
                "education": "",
                "phone": "",
                "visibility": "institutions",
                "text_lang": "en",
                "active": True,
                "consent_terms_at": now,
                "consent_matching_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    coordinator_id = experts + 1
    users.append(
        {
            "id": coordinator_id,
            "email": COORDINATOR,
            "password_hash": password_hash,
            "role": "coordinator",
            "display_name": "Bench Coordinator",
            "locale": "en",
            "active": True,
            "email_prefs": {},
            "created_at": now,
        }
    )
    institutions = [
        {
            "id": i,
            "name": f"Institution {i}",
            "type": rng.choice(["university", "hospital", "agency"]),
            "country": rng.choice(COUNTRIES),
            "city": "",
            "website": "",
            "description": "",
            "verified_at": now if i % 5 else None,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(1, 201)
    ]
    members = []
    for i in range(1, 201):
        user_id = coordinator_id + i
        users.append(
            {
                "id": user_id,
                "email": f"member{i}@bench.example",
                "password_hash": password_hash,
                "role": "institution",
                "display_name": f"Member {i}",
                "locale": "fr",
                "active": True,
                "email_prefs": {},
                "created_at": now,
            }
        )
        members.append({"institution_id": i, "user_id": user_id, "created_at": now})
    needs: list[dict[str, Any]] = []
    for i in range(1, 2001):
        skills = rng.sample(SKILLS, 3)
        needs.append(
            {
                "id": i,
                "institution_id": rng.randint(1, 200),
                "title": f"Need {i}: {skills[0]}",
                "description": f"We need help with {', '.join(skills)} for our teams.",
                "required_skills": skills,
                "sector": rng.choice(SECTORS),
                "mode": rng.choice(MODES),
                "duration_weeks": rng.randint(2, 12),
                "hours_per_week": rng.randint(2, 20),
                "languages": rng.sample(LANGUAGES[:3], 1),
                "city": "",
                "support": [],
                "live_sessions": False,
                "status": "open" if i % 4 else "closed",
                "text_lang": "en",
                "posted_at": now - timedelta(days=rng.randint(0, 300)),
                "created_at": now,
                "updated_at": now,
            }
        )
    proposals = []
    engagements = []
    proposal_id = 0
    for need_id in range(1, 401):
        for rank, expert_id in enumerate(rng.sample(range(1, experts + 1), 10), start=1):
            proposal_id += 1
            status = "approved" if rank == 1 and need_id % 2 else "proposed"
            proposals.append(
                {
                    "id": proposal_id,
                    "need_id": need_id,
                    "expert_id": expert_id,
                    "rank": rank,
                    "score": round(1 - rank / 20, 3),
                    "components": {"semantic": 0.7, "keywords": 0.5, "facts": 0.8},
                    "explanation": _explanation(
                        rng, needs[need_id - 1], profiles[expert_id - 1], institutions
                    ),
                    "model_version": "bench",
                    "status": status,
                    "origin": "need",
                    "reason": "",
                    "created_at": now - timedelta(days=rng.randint(0, 30)),
                    "updated_at": now,
                }
            )
            if status == "approved":
                engagements.append(
                    {
                        "proposal_id": proposal_id,
                        "need_id": need_id,
                        "expert_id": expert_id,
                        "status": rng.choice(
                            ["offered", "accepted", "confirmed", "active", "completed"]
                        ),
                        "mode": rng.choice(MODES),
                        "reason": "",
                        "offered_at": now - timedelta(days=rng.randint(0, 360)),
                        "created_at": now,
                        "updated_at": now,
                    }
                )
    # "Needs for you": the ten open needs ranked for expert 1 (what the expert's needs page shows).
    ranked_for_expert = [n for n in needs if n["status"] == "open" and n["id"] > 400][:10]
    for rank, need in enumerate(ranked_for_expert, start=1):
        proposal_id += 1
        proposals.append(
            {
                "id": proposal_id,
                "need_id": need["id"],
                "expert_id": 1,
                "rank": rank,
                "score": round(1 - rank / 20, 3),
                "components": {"semantic": 0.7, "keywords": 0.5, "facts": 0.8},
                "explanation": _explanation(rng, need, profiles[0], institutions),
                "model_version": "bench",
                "status": "proposed",
                "origin": "expert",
                "reason": "",
                "created_at": now,
                "updated_at": now,
            }
        )
    with Session(engine) as session:
        for model, rows in (
            (User, users),
            (ExpertProfile, profiles),
            (Institution, institutions),
            (InstitutionMember, members),
            (Need, needs),
            (MatchProposal, proposals),
            (Engagement, engagements),
        ):
            for chunk in _chunks(rows):
                session.execute(insert(model), chunk)  # type: ignore[arg-type]
        session.commit()
    world.review_need_id = 2  # an open need with ten proposals, none approved
    world.expert_id = 1
    world.institution_id = 1
    _index(engine, database_url)
    engine.dispose()
    return world


def _explanation(
    rng: random.Random,
    need: dict[str, Any],
    profile: dict[str, Any],
    institutions: list[dict[str, Any]],
) -> dict[str, Any]:
    """An explanation shaped as the matcher stores it, so the pages word every kind of reason."""
    offered = profile["skills"]
    covered, missing, related = [], [], []
    for skill in need["required_skills"]:
        if skill in offered:
            covered.append({"required": skill, "matched": skill, "similarity": 1.0, "how": "exact"})
        elif rng.random() < 0.5:
            found = rng.choice(offered)
            covered.append(
                {"required": skill, "matched": found, "similarity": 0.86, "how": "semantic"}
            )
        else:
            missing.append(skill)
            found = rng.choice(offered)
            related.append(
                {"required": skill, "matched": found, "similarity": 0.74, "how": "related"}
            )
    spoken = [language["code"] for language in profile["languages"]]
    country = institutions[need["institution_id"] - 1]["country"]
    start = date(2026, 12, 1) + timedelta(days=rng.randint(0, 60))
    return {
        "covered_skills": covered,
        "missing_skills": missing,
        "related_skills": related,
        "closest_phrases": [
            {"text": profile["headline"], "source": "headline", "similarity": 0.62},
            {"text": offered[0], "source": "skill", "similarity": 0.55},
            {"text": profile["bio"], "source": "bio", "similarity": 0.41},
        ],
        "shared_languages": [c for c in need["languages"] if c in spoken],
        "missing_languages": [c for c in need["languages"] if c not in spoken],
        "mode": f"{need['mode']}: accepted by the expert",
        "availability": "available over the whole window",
        "timezone": "4.5 h overlap with the institution's working hours",
        "overlap_hours": round(rng.uniform(1, 8), 2),
        "country_tie": profile["origin_country"] == country,
        "notes": [],
        "facts": {
            "mode_fit": "accepted",
            "need_mode": need["mode"],
            "expert_modes": sorted(profile["modes"]),
            "window_days": need["duration_weeks"] * 7,
            "covered_days": need["duration_weeks"] * 7,
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(weeks=need["duration_weeks"])).isoformat(),
            "free_hours": float(profile["hours_per_month"]) / 4,
            "needed_hours": float(need["hours_per_week"]),
            "country": country,
        },
    }


def _index(engine: Any, database_url: str) -> None:
    """Fills the search indexes from the database, when the search layer is there."""
    try:
        from service.config import Settings
        from service.core.indexing import reindex_all
        from service.search.factory import make_search_backend
    except ImportError:
        return
    settings = Settings(database_url=database_url, data_dir=Path(os.environ["HOMEWARD_DATA_DIR"]))
    backend = make_search_backend(settings, engine)
    try:
        reindex_all(engine, backend)
    finally:
        backend.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Result:
    page: str
    path: str
    status: int
    latencies_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    errors: int = 0
    note: str = ""
    client_cpu_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        """Gets p50, p95 and requests per second."""
        if not self.latencies_ms:
            return {
                "page": self.page,
                "path": self.path,
                "status": self.status,
                "skipped": True,
                "note": self.note,
            }
        ordered = sorted(self.latencies_ms)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return {
            "page": self.page,
            "path": self.path,
            "p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(p95, 1),
            "rps": round(len(ordered) / self.wall_s, 1) if self.wall_s else 0.0,
            "requests": len(ordered),
            "errors": self.errors,
            # The load generator's own CPU per measured request (it shares the server's cores).
            "client_cpu_ms": round(1000 * self.client_cpu_s / (len(ordered) + self.errors), 2),
        }


class LeanConnection:
    """One keep-alive HTTP/1.1 connection that sends a pre-built GET and reads the answer.

    This is measurement apparatus, not a shortcut for the server: the load generator runs on
    the same 2 cores as the server it measures, so every millisecond of CPU the client spends
    building a request, parsing headers into objects and decoding a body is a millisecond the
    server does not get. A general client (httpx) spends several per request; this one sends
    bytes built once and reads only what HTTP/1.1 needs to find the end of the answer (the
    status line, Content-Length or chunked framing, Connection: close). The server receives the
    same request a browser would send (Host, Cookie, Accept, Accept-Language headers).
    """

    def __init__(self, host: str, port: int, request: bytes) -> None:
        self.host = host
        self.port = port
        self.request = request
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, limit=1 << 20
            )
        return self.reader, self.writer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def get(self) -> int:
        """Sends the request, reads the whole answer, returns its status (0 on a failure)."""
        try:
            reader, writer = await self._open()
            writer.write(self.request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            lower = head.lower()
            at = lower.find(b"\r\ncontent-length:")
            if at >= 0:
                end = lower.index(b"\r\n", at + 2)
                await reader.readexactly(int(lower[at + 17 : end]))
            elif b"\r\ntransfer-encoding: chunked" in lower:
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            else:  # no framing: the body runs to the end of the connection
                await reader.read()
                self.close()
            if b"\r\nconnection: close" in lower:
                self.close()
            return status
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            self.close()
            return 0


class HttpxConnection:
    """The same interface over a shared httpx client (`--client httpx`): the load generator
    this benchmark used before, kept to show what a general client costs on the shared cores."""

    def __init__(self, client: httpx.AsyncClient, path: str) -> None:
        self.client = client
        self.path = path

    async def get(self) -> int:
        try:
            return (await self.client.get(self.path)).status_code
        except httpx.HTTPError:
            return 0

    def close(self) -> None:
        pass


def _request_bytes(base_url: str, path: str, cookies: httpx.Cookies) -> tuple[str, int, bytes]:
    """Builds once the bytes of a GET for this path with these cookies."""
    url = httpx.URL(base_url)
    host, port = url.host, url.port or 80
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: */*\r\n"
        f"Accept-Language: en\r\nCookie: {cookie}\r\n\r\n"
    ).encode("latin-1")
    return host, port, request


async def _timed_get(connection: LeanConnection | HttpxConnection) -> tuple[int, float]:
    """Gets a page; returns its status (0 on a network error) and milliseconds."""
    started = time.perf_counter()
    status = await connection.get()
    return status, (time.perf_counter() - started) * 1000


async def _measure(
    base_url: str,
    cookies: httpx.Cookies,
    page: str,
    path: str,
    *,
    requests: int,
    concurrency: int,
    budget_s: float,
    client: str = "lean",
) -> Result:
    connections: list[LeanConnection] | list[HttpxConnection]
    shared: httpx.AsyncClient | None = None
    if client == "httpx":
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        shared = httpx.AsyncClient(base_url=base_url, cookies=cookies, limits=limits, timeout=60)
        connections = [HttpxConnection(shared, path) for _ in range(concurrency)]
    else:
        host, port, request = _request_bytes(base_url, path, cookies)
        connections = [LeanConnection(host, port, request) for _ in range(concurrency)]
    try:
        status = await connections[0].get()
        result = Result(page=page, path=path, status=status)
        if status != 200:
            result.note = "" if status else "no answer"
            return result
        deadline = time.perf_counter() + budget_s
        # Warm-up: every connection opened and used once.
        await asyncio.gather(*(_timed_get(c) for c in connections))
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(requests):
            queue.put_nowait(index)

        async def worker(connection: LeanConnection | HttpxConnection) -> None:
            while time.perf_counter() < deadline:
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                status, elapsed = await _timed_get(connection)
                if status == 200:
                    result.latencies_ms.append(elapsed)
                else:
                    result.errors += 1

        started = time.perf_counter()
        cpu_started = time.process_time()
        await asyncio.gather(*(worker(c) for c in connections))
        result.wall_s = time.perf_counter() - started
        result.client_cpu_s = time.process_time() - cpu_started
        return result
    finally:
        for connection in connections:
            connection.close()
        if shared is not None:
            await shared.aclose()


def _log_in(base_url: str, email: str = COORDINATOR) -> httpx.Cookies:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        client.get("/login")
        response = client.post(
            "/login",
            data={
                "email": email,
                "password": PASSWORD,
                "csrf_token": client.cookies.get(CSRF_COOKIE, ""),
            },
        )
        if response.status_code != 303:
            raise SystemExit(f"could not log in as {email}: {response.status_code}")
        return client.cookies


def _start_server(
    env: dict[str, str], port: int, workers: int, tree: Path = ROOT
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "service.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=tree,
        env=env,
    )
    deadline = time.monotonic() + 900  # several processes importing the app on a busy machine
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server stopped while starting")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                # Each worker process opens the app on its own: let every one finish starting.
                time.sleep(2 * workers)
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the server did not start in time")


def _cpu_seconds(*root_pids: int) -> float:
    """CPU time (user + system) used so far by processes and every process under them, from
    one reading of /proc: what a page costs the server, however many other programs share the
    machine."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command's closing parenthesis: state, ppid, ..., utime (12th), stime (13th).
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree = set(root_pids)
    grew = True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= found
        grew = bool(found)
    return sum(times.get(pid, 0.0) for pid in tree)


@dataclass
class Served:
    """The processes that serve one setup: its uvicorn server(s), and nginx in front of them."""

    port: int
    processes: list[subprocess.Popen[bytes]]

    def cpu_seconds(self) -> float:
        return _cpu_seconds(*(process.pid for process in self.processes))

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
            process.wait(timeout=30)


# Requests, not connections, spread over single-process servers: `least_conn` sends each to the
# server with the fewest under way, over a pool of kept-alive upstream connections.
NGINX_CONF = """worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {folder}/body;
  proxy_temp_path {folder}/proxy;
  upstream homeward {{ least_conn; {servers} keepalive 32; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://homeward;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
    }}
  }}
}}
"""


def _serve(env: dict[str, str], setup: Setup, folder: Path) -> Served:
    """Starts a setup: one uvicorn with `workers` processes, or with `proxy` that many
    single-process uvicorns behind nginx (deploy/nginx.conf is the same arrangement)."""
    if not setup.proxy:
        port = _free_port()
        return Served(port, [_start_server(env, port, setup.workers, setup.tree)])
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        raise SystemExit("--proxy needs nginx (apt-get install nginx-light)")
    ports = [_free_port() for _ in range(setup.workers)]
    processes = [_start_server(env, port, 1, setup.tree) for port in ports]
    port = _free_port()
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "nginx.conf"
    servers = " ".join(f"server 127.0.0.1:{p};" for p in ports)
    conf.write_text(NGINX_CONF.format(folder=folder, servers=servers, port=port))
    processes.append(subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"], cwd=folder))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return Served(port, processes)
        except httpx.HTTPError:
            time.sleep(0.2)
    Served(port, processes).stop()
    raise SystemExit("nginx did not start in time")


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


@dataclass
class Setup:
    """One way of serving the app: a source tree and a number of uvicorn worker processes."""

    name: str
    tree: Path
    workers: int
    proxy: bool = False
    base_url: str = ""
    cookies: dict[str, httpx.Cookies] = field(default_factory=dict)


def _pages(world: World, base_url: str, cookies: httpx.Cookies) -> list[tuple[str, str, str]]:
    """Lists (page, path, who): the landing page first, the reference of every other."""
    pages = [
        ("landing", "/", "coordinator"),
        ("need_review", f"/coordinator/needs/{world.review_need_id}", "coordinator"),
        ("coordinator_dashboard", "/coordinator", "coordinator"),
        ("expert_needs_for_you", "/expert/needs", "expert"),
        ("api_expert_search", "/api/experts?q=epidemiology", "coordinator"),
    ]
    for path in SEARCH_PAGES:
        if httpx.get(base_url + path, cookies=cookies, timeout=30).status_code == 200:
            pages.insert(2, ("expert_search", path, "coordinator"))
            break
    return pages


def _run_setups(
    env: dict[str, str], world: World, args: argparse.Namespace, setups: list[Setup]
) -> list[dict[str, Any]]:
    """Starts every setup's server, then measures each page on each setup in turn, so that a
    change in the machine's load falls on all of them alike."""
    servers: list[Served] = []
    try:
        for number, setup in enumerate(setups):
            servers.append(_serve(env, setup, Path(env["HOMEWARD_DATA_DIR"]) / f"nginx-{number}"))
            setup.base_url = f"http://127.0.0.1:{servers[-1].port}"
            setup.cookies = {
                "coordinator": _log_in(setup.base_url),
                "expert": _log_in(setup.base_url, f"expert{world.expert_id}@bench.example"),
            }
        pages = _pages(world, setups[0].base_url, setups[0].cookies["coordinator"])
        summaries = []
        for page, path, who in pages:
            if args.only and page not in args.only:
                continue
            for setup, server in zip(setups, servers, strict=True):
                load_before = _load()
                cpu_before = server.cpu_seconds()
                result = asyncio.run(
                    _measure(
                        setup.base_url,
                        setup.cookies[who],
                        page,
                        path,
                        requests=args.requests,
                        concurrency=args.concurrency,
                        budget_s=args.page_budget_s,
                        client=args.client,
                    )
                )
                cpu_s = server.cpu_seconds() - cpu_before
                # Every request sent counts: the first, the warm-up and the measured ones.
                sent = len(result.latencies_ms) + result.errors + args.concurrency + 1
                cpu_ms = round(1000 * cpu_s / sent, 1) if result.latencies_ms else None
                summaries.append(
                    {
                        **result.summary(),
                        "setup": setup.name,
                        "workers": setup.workers,
                        "load": load_before,
                        "server_cpu_ms": cpu_ms,
                    }
                )
        return summaries
    finally:
        for server in servers:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experts", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300, help="requests per page")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[2, 1],
        help="uvicorn worker processes; each count is measured in turn (default: 2 then 1)",
    )
    parser.add_argument("--only", nargs="*", help="page names to measure (default: every one)")
    parser.add_argument(
        "--page-budget-s", type=float, default=90, help="stop sending a page's requests after"
    )
    parser.add_argument(
        "--client",
        choices=["lean", "httpx"],
        default="lean",
        help="load generator: pre-built requests on raw keep-alive sockets (default), or httpx "
        "as before, to see what a general client takes from the shared cores",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--baseline-tree",
        help="also serve another checkout (say, main before a change) with the first worker "
        "count, against the same world, page by page in the same run",
    )
    parser.add_argument(
        "--world", help="keep the generated world in this folder and reuse it on the next run"
    )
    parser.add_argument(
        "--proxy",
        action="store_true",
        help="also serve the first worker count as that many single-process uvicorns behind "
        "nginx (least_conn), page by page in the same run",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="homeward-bench-") as scratch:
        tmp = args.world or scratch
        env = {
            **os.environ,
            "HOMEWARD_ENVIRONMENT": "development",
            "HOMEWARD_DATA_DIR": tmp,
            "HOMEWARD_DATABASE_URL": f"sqlite:///{tmp}/homeward.sqlite3",
            "HOMEWARD_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnop",
            "HOMEWARD_LOAD_ENCODER": "false",
            "HOMEWARD_RUN_WORKER_IN_PROCESS": "false",
        }
        os.environ.update({k: v for k, v in env.items() if k.startswith("HOMEWARD_")})
        started = time.perf_counter()
        if Path(tmp, "homeward.sqlite3").exists():
            # A world built by an earlier run (--world): brought to the current schema.
            engine = make_engine(env["HOMEWARD_DATABASE_URL"])
            migrate(engine)
            engine.dispose()
            world = World(experts=args.experts, review_need_id=2, expert_id=1, institution_id=1)
        else:
            Path(tmp).mkdir(parents=True, exist_ok=True)
            world = build_world(env["HOMEWARD_DATABASE_URL"], experts=args.experts)
        build_s = time.perf_counter() - started
        setups = [Setup(f"{w} worker{'s' if w > 1 else ''}", ROOT, w) for w in args.workers]
        if args.proxy:
            setups.insert(0, Setup(f"{args.workers[0]} + nginx", ROOT, args.workers[0], True))
        if args.baseline_tree:
            tree = Path(args.baseline_tree).resolve()
            setups.append(Setup(f"{tree.name} {args.workers[0]}w", tree, args.workers[0]))
        summaries = _run_setups(env, world, args, setups)
    if args.json:
        print(
            json.dumps(
                {
                    "experts": args.experts,
                    "concurrency": args.concurrency,
                    "cpus": os.cpu_count(),
                    "pages": summaries,
                }
            )
        )
        return
    print(
        f"world: {args.experts} experts built in {build_s:.1f} s; "
        f"{args.concurrency} concurrent clients, {args.requests} requests per page; "
        f"{os.cpu_count()} CPUs"
    )
    cores = os.cpu_count() or 1
    print(
        "cpu ms: the server's CPU time per request; idle req/s: what that allows when the\n"
        f"server has min(workers, {cores}) cores to itself (the load generator's share aside);\n"
        "client ms: the load generator's own CPU per request (it runs on the same cores)"
    )
    print(
        f"{'setup':<14}{'page':<24}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>9}{'p95/ref':>9}"
        f"{'cpu ms':>8}{'idle req/s':>11}{'client ms':>10}  {'load 1/5/15':<16}path"
    )
    reference: dict[str, float] = {
        s["setup"]: s["p95_ms"] for s in summaries if s["page"] == "landing" and "p95_ms" in s
    }
    for s in summaries:
        if s.get("skipped"):
            why = s["note"] or f"status {s['status']}"
            print(
                f"{s['setup']:<14}{s['page']:<24}{'—':>9}{'—':>9}{'—':>9}{'—':>9}{'—':>8}{'—':>11}"
                f"{'—':>10}  {s['load']:<16}{s['path']} ({why})"
            )
            continue
        ref = reference.get(s["setup"])
        ratio = f"{s['p95_ms'] / ref:.2f}" if ref else "—"
        cpu = s["server_cpu_ms"]
        idle = f"{1000 * min(s['workers'], cores) / cpu:.0f}" if cpu else "—"
        print(
            f"{s['setup']:<14}{s['page']:<24}{s['p50_ms']:>9}{s['p95_ms']:>9}{s['rps']:>9}"
            f"{ratio:>9}{cpu or '—':>8}{idle:>11}{s['client_cpu_ms']:>10}"
            f"  {s['load']:<16}{s['path']}"
        )


if __name__ == "__main__":
    main()
