"""Do two checkouts serve the same pages? Fetches the pages `page_profile.py` measures, and the
pages that share their code, from two trees over one generated world (seasoned with a few
decisions, an interest and an engagement's history so every part of a review page shows), in
English, French and Arabic, and compares the answers byte for byte, CSRF tokens aside.

    .venv/bin/python bench/page_diff.py --against /path/to/main-worktree
    .venv/bin/python bench/page_diff.py --against ../main --world /tmp/world --keep /tmp/pages

Each tree is served in its own process (its own imports), on its own copy of the seasoned
world. Prints one line per difference and the count of identical answers; exits 1 when any
answer differs. This compares; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COORDINATOR = "coordinator@bench.example"
LOCALES = ("en", "fr", "ar")
# Tokens that differ between two logins: the CSRF token in forms, meta tags and headers.
TOKEN = re.compile(r"(csrf[^<>]{0,80}?(?:value|content)=\"|\"csrf_token\": \")[A-Za-z0-9_.\-]{16,}")


def _env(data_dir: str) -> dict[str, str]:
    return {
        "HOMEWARD_ENVIRONMENT": "development",
        "HOMEWARD_DATA_DIR": data_dir,
        "HOMEWARD_DATABASE_URL": f"sqlite:///{data_dir}/homeward.sqlite3",
        "HOMEWARD_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnop",
        "HOMEWARD_LOAD_ENCODER": "false",
        "HOMEWARD_RUN_WORKER_IN_PROCESS": "false",
    }


def _pages() -> list[tuple[str, str]]:
    """(who, path) of every answer compared; `who` is the account that asks."""
    coordinator = [
        "/",
        "/coordinator",
        "/coordinator/needs",
        *(f"/coordinator/needs/{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)),
        "/coordinator/needs/2/compare?expert={e2a}&expert={e2b}",
        "/coordinator/roster?q=epidemiology",
        "/coordinator/roster?q=surgery&mode=remote",
        "/coordinator/roster?q=hydrology&language=fr",
        "/coordinator/roster?q=zzzznothing",
        "/coordinator/roster",
        "/api/experts?q=epidemiology",
        "/api/experts?q=public+health&page=2",
        "/api/experts?q=GIS&country=KE",
        "/api/proposals?need_id=2",
        "/api/proposals?need_id=3",
    ]
    pages = [("coordinator", p) for p in coordinator]
    for i in range(1, 6):
        pages += [
            (f"expert{i}", "/expert"),
            (f"expert{i}", "/expert/needs"),
            (f"expert{i}", "/expert/for-you"),
        ]
    pages += [("expert1", "/expert/needs/401"), ("expert1", "/expert/needs?q=health")]
    pages += [("member1", "/institution/experts?q=epidemiology"), ("member1", "/institution")]
    return pages


async def _dump(out: Path) -> None:
    """Serves this process's tree (first on sys.path) and writes every answer under `out`."""
    import httpx

    sys.path.insert(0, str(Path(sys.path[0]) / "bench"))
    from page_profile import _count_hops, _log_in

    from service.config import Settings
    from service.main import build_state, create_app

    _count_hops(inline=True)
    state = build_state(Settings())
    transport = httpx.ASGITransport(app=create_app(state=state))
    names = json.loads((out / "names.json").read_text())
    clients: dict[tuple[str, str], httpx.AsyncClient] = {}

    async def client_for(who: str, locale: str) -> httpx.AsyncClient:
        if (who, locale) not in clients:
            email = COORDINATOR if who == "coordinator" else f"{who}@bench.example"
            client = httpx.AsyncClient(
                transport=transport,
                base_url="http://bench",
                headers={"accept-language": locale},
            )
            await _log_in(client, email)
            clients[who, locale] = client
        return clients[who, locale]

    for index, (who, path) in enumerate(_pages()):
        for locale in LOCALES:
            client = await client_for(who, locale)
            response = await client.get(path.format(**names))
            body = TOKEN.sub(r"\1TOKEN", response.text)
            name = f"{index:03d}-{locale}-{who}-{re.sub(r'[^a-z0-9]+', '_', path)[:60]}.txt"
            (out / name).write_text(f"{response.status_code} {path}\n{body}")
    for client in clients.values():
        await client.aclose()
    state.search.close()
    state.engine.dispose()


def _season(data_dir: str) -> dict[str, int]:
    """Decides a few proposals, records an interest and moves an engagement, through the
    application's own functions, so review pages show a history, reasons and engagements."""
    from sqlmodel import Session, select

    from service.config import Settings
    from service.core.needs import express_interest
    from service.core.proposals import approve_proposal, reject_proposal
    from service.db import make_engine
    from service.models import ExpertProfile, MatchProposal, Need, User

    settings = Settings()
    engine = make_engine(settings.database_url)
    with Session(engine, expire_on_commit=False) as session:
        coordinator = session.exec(select(User).where(User.email == COORDINATOR)).one()

        def proposals(need_id: int) -> list[MatchProposal]:
            statement = (
                select(MatchProposal)
                .where(MatchProposal.need_id == need_id)
                .order_by(MatchProposal.rank)  # type: ignore[arg-type]
            )
            return list(session.exec(statement))

        for need_id in (2, 3, 6):
            ranked = [p for p in proposals(need_id) if p.status == "proposed"]
            approve_proposal(
                session, proposal=ranked[0], coordinator=coordinator, settings=settings
            )
            reject_proposal(
                session, proposal=ranked[1], coordinator=coordinator, reason="Too far <away> & busy"
            )
            expert = session.get(ExpertProfile, ranked[2].expert_id)
            need = session.get(Need, need_id)
            user = session.get(User, expert.user_id) if expert and expert.user_id else None
            if expert and need and user:
                express_interest(session, need=need, expert=expert, actor=user)
        session.commit()
        second = [p.expert_id for p in proposals(2) if p.status == "proposed"]
    engine.dispose()
    return {"e2a": second[0], "e2b": second[1]}


def _build(data_dir: str, experts: int) -> None:
    sys.path.insert(0, str(Path(sys.path[0]) / "bench"))
    from http_load import build_world

    build_world(_env(data_dir)["HOMEWARD_DATABASE_URL"], experts=experts)


def _run_in(tree: Path, data_dir: str, *args: str) -> None:
    """Runs this script in another tree's Python path (its `service`, its `bench`)."""
    env = {**os.environ, **_env(data_dir), "PYTHONPATH": str(tree)}
    subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--app-tree", str(tree), *args],
        check=True,
        env=env,
        cwd=tree,
    )


def _compare(left: Path, right: Path, show: int) -> int:
    same = differ = 0
    for path in sorted(left.glob("*.txt")):
        other = right / path.name
        a = path.read_text()
        b = other.read_text() if other.exists() else ""
        if a == b:
            same += 1
            continue
        differ += 1
        print(f"DIFFERS {path.name}")
        lines = list(
            difflib.unified_diff(a.splitlines(), b.splitlines(), "left", "right", lineterm="", n=1)
        )
        print("\n".join(line[:200] for line in lines[:show]))
    print(f"{same} answers identical, {differ} differ")
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="the other checkout (say, a worktree of main)")
    parser.add_argument("--world", help="keep the generated world here and reuse it")
    parser.add_argument("--experts", type=int, default=2_000)
    parser.add_argument("--keep", help="write both trees' answers under this folder")
    parser.add_argument("--show", type=int, default=40, help="diff lines shown per difference")
    parser.add_argument("--app-tree", help=argparse.SUPPRESS)
    parser.add_argument("--step", choices=("build", "season", "dump"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        sys.path.insert(0, args.app_tree)
        if args.step == "build":
            _build(os.environ["HOMEWARD_DATA_DIR"], args.experts)
        elif args.step == "season":
            names = _season(os.environ["HOMEWARD_DATA_DIR"])
            Path(args.out, "names.json").write_text(json.dumps(names))
        else:
            asyncio.run(_dump(Path(args.out)))
        return
    if not args.against:
        parser.error("--against is required")
    other = Path(args.against).resolve()
    with tempfile.TemporaryDirectory(prefix="homeward-page-diff-") as scratch:
        world = Path(args.world or Path(scratch, "world"))
        if not (world / "homeward.sqlite3").exists():
            world.mkdir(parents=True, exist_ok=True)
            _run_in(other, str(world), "--step", "build", "--experts", str(args.experts))
        seasoned = Path(scratch, "seasoned")
        shutil.copytree(world, seasoned)
        keep = Path(args.keep or Path(scratch, "pages"))
        outs = {}
        for name in ("against", "this"):
            outs[name] = keep / name
            outs[name].mkdir(parents=True, exist_ok=True)
        _run_in(other, str(seasoned), "--step", "season", "--out", str(outs["against"]))
        shutil.copy(outs["against"] / "names.json", outs["this"] / "names.json")
        for name, tree in (("against", other), ("this", ROOT)):
            copy = Path(scratch, f"world-{name}")
            shutil.copytree(seasoned, copy)
            _run_in(tree, str(copy), "--step", "dump", "--out", str(outs[name]))
        sys.exit(1 if _compare(outs["against"], outs["this"], args.show) else 0)


if __name__ == "__main__":
    main()
