"""Where a page's CPU goes, by sampling: the shares `page_profile.py --profile` cannot give on a
shared machine (cProfile's clock is wall time, and it inflates Python-heavy code).

A CPU-time timer (`signal.setitimer(ITIMER_PROF)`) interrupts the process while it serves the
page's requests (in-process, as `page_profile.py` does, sync routes run inline) and records the
stack; the client's time between requests is left out. Prints each function's share of the
samples: its own time, the time under it (application functions only), and the library time
charged to the nearest application function above it ("owner": which of our calls costs what).

    .venv/bin/python bench/page_sampler.py need_review --data-dir /tmp/world --requests 1500

The kernel's timer ticks every few milliseconds: a few hundred requests give a few thousand
samples. This measures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from http_load import COORDINATOR  # noqa: E402
from page_profile import _count_hops, _log_in  # noqa: E402

PAGES = {
    "landing": ("coordinator", "/"),
    "need_review": ("coordinator", "/coordinator/needs/2"),
    "expert_search": ("coordinator", "/coordinator/roster?q=epidemiology"),
    "coordinator_dashboard": ("coordinator", "/coordinator"),
    "expert_needs_for_you": ("expert", "/expert/needs"),
    "api_expert_search": ("coordinator", "/api/experts?q=epidemiology"),
}
OURS = ("service/", "web/")


class Sampler:
    """Counts the stacks the CPU timer finds while `active`."""

    def __init__(self) -> None:
        self.active = False
        self.total = 0
        self.own: collections.Counter[str] = collections.Counter()
        self.under: collections.Counter[str] = collections.Counter()
        self.owner: collections.Counter[str] = collections.Counter()

    def __call__(self, _signal: int, frame: FrameType | None) -> None:
        if not self.active:
            return
        self.total += 1
        seen: set[str] = set()
        first, owned = True, False
        while frame is not None:
            name = _name(frame)
            if first:
                self.own[name] += 1
                first = False
            if not owned and name.startswith(OURS):
                self.owner[name] += 1
                owned = True
            if name not in seen:
                self.under[name] += 1
                seen.add(name)
            frame = frame.f_back

    def report(self, top: int) -> None:
        def lines(title: str, counts: collections.Counter[str], ours: bool) -> None:
            print(f"--- {title}")
            rows = [(k, v) for k, v in counts.most_common() if not ours or k.startswith(OURS)]
            for key, value in rows[:top]:
                print(f"{value * 100 / self.total:5.1f} %  {key}")

        lines("own time", self.own, ours=False)
        lines("time under (application functions)", self.under, ours=True)
        lines("owner: time charged to the nearest application function", self.owner, ours=True)


def _name(frame: FrameType) -> str:
    path = frame.f_code.co_filename
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    elif path.startswith(str(ROOT)):
        path = path[len(str(ROOT)) + 1 :]
    return f"{path}:{frame.f_code.co_name}"


async def _run(args: argparse.Namespace) -> None:
    import httpx

    from service.config import Settings
    from service.main import build_state, create_app

    state = build_state(Settings())
    transport = httpx.ASGITransport(app=create_app(state=state))
    who, path = PAGES[args.page]
    client = httpx.AsyncClient(transport=transport, base_url="http://bench")
    await _log_in(client, COORDINATOR if who == "coordinator" else "expert1@bench.example")
    for _ in range(5):
        await client.get(path)
    gc.collect()
    gc.freeze()
    sampler = Sampler()
    signal.signal(signal.SIGPROF, sampler)
    signal.setitimer(signal.ITIMER_PROF, 0.0005, 0.0005)
    started = time.process_time()
    for _ in range(args.requests):
        sampler.active = True
        await client.get(path)
        sampler.active = False
    cpu_ms = (time.process_time() - started) * 1000 / args.requests
    signal.setitimer(signal.ITIMER_PROF, 0, 0)
    print(
        f"{args.page}: {sampler.total} samples over {args.requests} requests, "
        f"{cpu_ms:.2f} CPU ms a request (client and sampler included), "
        f"load average {tuple(round(x, 1) for x in os.getloadavg())}"
    )
    sampler.report(args.top)
    await client.aclose()
    state.search.close()
    state.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", choices=sorted(PAGES))
    parser.add_argument("--data-dir", required=True, help="a world built by page_profile.py")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--top", type=int, default=30, help="lines per table")
    args = parser.parse_args()
    if not Path(args.data_dir, "homeward.sqlite3").exists():
        parser.error("build a world first: page_profile.py --data-dir DIR")
    os.environ.update(
        {
            "HOMEWARD_ENVIRONMENT": "development",
            "HOMEWARD_DATA_DIR": args.data_dir,
            "HOMEWARD_DATABASE_URL": f"sqlite:///{args.data_dir}/homeward.sqlite3",
            "HOMEWARD_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnop",
            "HOMEWARD_LOAD_ENCODER": "false",
            "HOMEWARD_RUN_WORKER_IN_PROCESS": "false",
        }
    )
    _count_hops(inline=True)
    asyncio.run(_run(args))


if __name__ == "__main__":
    main()
