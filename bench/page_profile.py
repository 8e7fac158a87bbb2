"""Where a page's time goes: SQL statements per request, milliseconds per request, and a
cProfile of the pages `bench/http_load.py` measures, over the same generated world.

The app runs in this process (no server, no concurrency): each page is requested through the
ASGI interface with the sync routes run inline, so one profiler sees the whole request
(`--threadpool` runs them in worker threads, as a server does, to see what the hops cost).

    .venv/bin/python bench/page_profile.py                  # queries and ms per page
    .venv/bin/python bench/page_profile.py --profile 25     # plus the 25 costliest functions

`calls/req` counts the Python function calls (cProfile's count, coroutine resumptions included)
the application makes for one request, the test client's left out: a figure that the machine's
load does not move, for comparing two trees (run this script from each, on one `--data-dir`).

This measures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from http_load import COORDINATOR, PASSWORD, build_world  # noqa: E402

from service.security import CSRF_COOKIE  # noqa: E402

CALL_COUNT_REQUESTS = 5
# Calls handed to a worker thread (a sync route or dependency, a sync generator's enter and
# exit): each costs the served app about 50 µs of CPU that an inline run does not show.
HOPS = [0]


def _count_hops(*, inline: bool) -> None:
    """Counts the thread-pool calls; with `inline`, runs them in the calling thread instead, so
    cProfile sees them."""
    import anyio.to_thread
    import fastapi.dependencies.utils
    import fastapi.routing
    import starlette.concurrency

    to_thread = anyio.to_thread.run_sync

    async def counted(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        HOPS[0] += 1
        if inline:
            return func(*args)
        return await to_thread(func, *args, **kwargs)

    async def inline_call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        HOPS[0] += 1
        return func(*args, **kwargs)

    anyio.to_thread.run_sync = counted  # type: ignore[assignment]
    if inline:
        for module in (fastapi.routing, fastapi.dependencies.utils, starlette.concurrency):
            module.run_in_threadpool = inline_call  # type: ignore[attr-defined]


class _CallCounter:
    """Wraps the application to count the function calls it makes, and nothing of the client."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.profiler: cProfile.Profile | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        profiler = self.profiler
        if profiler is None:
            await self.app(scope, receive, send)
            return
        profiler.enable()
        try:
            await self.app(scope, receive, send)
        finally:
            profiler.disable()


def _total_calls(profiler: cProfile.Profile) -> int:
    return int(pstats.Stats(profiler).total_calls)  # type: ignore[attr-defined]


async def _log_in(client: httpx.AsyncClient, email: str) -> None:
    await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "email": email,
            "password": PASSWORD,
            "csrf_token": client.cookies.get(CSRF_COOKIE, ""),
        },
    )
    if response.status_code != 303:
        raise SystemExit(f"could not log in as {email}: {response.status_code}")


async def _run(args: argparse.Namespace, tmp: str) -> None:
    from service.config import Settings
    from service.main import build_state, create_app

    settings = Settings()
    state = build_state(settings)
    app = create_app(state=state)
    statements = 0
    # Milliseconds spent in each SQL statement (by its text), to find the slow ones.
    sql_ms: dict[str, float] = {}
    began: list[float] = []

    @event.listens_for(state.engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        nonlocal statements
        statements += 1
        began.append(time.perf_counter())

    @event.listens_for(state.engine, "after_cursor_execute")
    def _time(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        elapsed = (time.perf_counter() - began.pop()) * 1000
        sql_ms[statement] = sql_ms.get(statement, 0.0) + elapsed

    counter = _CallCounter(app)
    transport = httpx.ASGITransport(app=counter)
    clients = {}
    for who, email in (("coordinator", COORDINATOR), ("expert", "expert1@bench.example")):
        client = httpx.AsyncClient(transport=transport, base_url="http://bench")
        await _log_in(client, email)
        clients[who] = client
    pages = [
        ("landing", "coordinator", "/"),
        ("need_review", "coordinator", "/coordinator/needs/2"),
        ("expert_search", "coordinator", "/coordinator/roster?q=epidemiology"),
        ("coordinator_dashboard", "coordinator", "/coordinator"),
        ("expert_needs_for_you", "expert", "/expert/needs"),
        ("api_expert_search", "coordinator", "/api/experts?q=epidemiology"),
    ]
    if args.only:
        pages = [p for p in pages if p[0] in args.only]
    # As the served app does after start-up (service.main._freeze_startup_heap).
    gc.collect()
    gc.freeze()
    print(f"load average {tuple(round(x, 2) for x in os.getloadavg())}")
    print(
        "ms: wall time; cpu ms: this process's CPU time (steadier on a busy machine)\n"
        f"{'page':<24}{'status':>7}{'SQL/req':>9}{'hops/req':>9}{'calls/req':>10}{'ms p50':>9}"
        f"{'ms min':>9}"
        f"{'cpu p50':>9}{'cpu min':>9}  path"
    )
    for name, who, path in pages:
        client = clients[who]
        first = await client.get(path)
        for _ in range(2):
            await client.get(path)
        statements = 0
        HOPS[0] = 0
        sql_ms.clear()
        timings = []
        cpu_timings = []
        profiler = cProfile.Profile()
        for _ in range(args.repeat):
            started = time.perf_counter()
            cpu_started = time.process_time()
            if args.profile:
                profiler.enable()
            await client.get(path)
            if args.profile:
                profiler.disable()
            timings.append((time.perf_counter() - started) * 1000)
            cpu_timings.append((time.process_time() - cpu_started) * 1000)
        per_request = statements / args.repeat
        hops = HOPS[0] / args.repeat
        counter.profiler = cProfile.Profile()
        for _ in range(CALL_COUNT_REQUESTS):
            await client.get(path)
        calls = _total_calls(counter.profiler) / CALL_COUNT_REQUESTS
        counter.profiler = None
        print(
            f"{name:<24}{first.status_code:>7}{per_request:>9.1f}{hops:>9.1f}{calls:>10.0f}"
            f"{statistics.median(timings):>9.1f}{min(timings):>9.1f}"
            f"{statistics.median(cpu_timings):>9.1f}{min(cpu_timings):>9.1f}  {path}"
        )
        if args.sql:
            for statement, ms in sorted(sql_ms.items(), key=lambda kv: -kv[1])[: args.sql]:
                text = " ".join(statement.split())
                print(f"    {ms / args.repeat:7.2f} ms/req  {text[:220]}")
        if args.profile:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            restrictions: list[Any] = [args.match] if args.match else []
            stats.sort_stats(args.sort).print_stats(*restrictions, args.profile)
            lines = out.getvalue().splitlines()
            start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
            print("\n".join("    " + line[:170] for line in lines[start:] if line.strip()))
    for client in clients.values():
        await client.aclose()
    state.search.close()
    state.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20, help="requests per page")
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions")
    parser.add_argument("--sort", default="cumulative", help="pstats order (cumulative, tottime)")
    parser.add_argument("--sql", type=int, default=0, help="print the N slowest statements")
    parser.add_argument("--match", help="print only functions whose path matches this regex")
    parser.add_argument("--only", nargs="*", help="page names to measure")
    parser.add_argument("--data-dir", help="reuse a world built by an earlier run here")
    parser.add_argument(
        "--threadpool",
        action="store_true",
        help="run sync routes and dependencies in worker threads as a server does: cpu ms then "
        "includes the thread hops (calls/req and --profile see only the event loop's thread)",
    )
    args = parser.parse_args()
    _count_hops(inline=not args.threadpool)
    with tempfile.TemporaryDirectory(prefix="homeward-profile-") as scratch:
        tmp = args.data_dir or scratch
        fresh = not Path(tmp, "homeward.sqlite3").exists()
        os.environ.update(
            {
                "HOMEWARD_ENVIRONMENT": "development",
                "HOMEWARD_DATA_DIR": tmp,
                "HOMEWARD_DATABASE_URL": f"sqlite:///{tmp}/homeward.sqlite3",
                "HOMEWARD_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnop",
                "HOMEWARD_LOAD_ENCODER": "false",
                "HOMEWARD_RUN_WORKER_IN_PROCESS": "false",
            }
        )
        if fresh:
            Path(tmp).mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            build_world(os.environ["HOMEWARD_DATABASE_URL"], experts=args.experts)
            print(f"world: {args.experts} experts built in {time.perf_counter() - started:.1f} s")
        asyncio.run(_run(args, tmp))


if __name__ == "__main__":
    main()
