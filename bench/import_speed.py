"""Roster import speed and memory: N generated experts into a throwaway SQLite database.

    .venv/bin/python bench/import_speed.py [--rows 100000] [--json]
    .venv/bin/python bench/import_speed.py --rows 20000 --kill-after 5      # kill, re-run, resume
    .venv/bin/python bench/import_speed.py --rows 2000 --with-embeddings    # + the embedding pass

The import runs in a child process, so its peak memory (ru_maxrss) is its own. `--kill-after`
runs a batched (`--partial`) import, kills it with SIGKILL after S seconds, counts the rows
that made it, and runs the same import again: the rows already there are skipped as unchanged.
It measures; it does not assert.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COLUMNS = [
    "external_id",
    "email",
    "display_name",
    "locale",
    "headline",
    "bio",
    "skills",
    "languages",
    "origin_country",
    "residence_country",
    "city",
    "timezone",
    "modes",
    "hours_per_month",
    "available_from",
    "available_until",
    "sectors",
    "years_experience",
    "education",
    "visibility",
    "text_lang",
    "active",
]
SKILLS = [
    "epidemiology",
    "biostatistics",
    "R",
    "python",
    "teaching",
    "surgery",
    "radiology",
    "nursing",
    "hydrology",
    "GIS",
    "accounting",
    "auditing",
    "law",
    "procurement",
    "agronomy",
    "irrigation",
    "solar",
    "energy",
    "civil",
    "engineering",
    "data",
    "science",
    "machine",
    "learning",
    "curriculum",
    "design",
    "mentoring",
    "project",
    "management",
]
PLACES = [
    ("SN", "CA", "Montreal", "America/Toronto", "fr"),
    ("MA", "FR", "Lyon", "Europe/Paris", "fr"),
    ("NG", "GB", "London", "Europe/London", "en"),
    ("MX", "US", "Houston", "America/Chicago", "es"),
    ("BR", "PT", "Lisbon", "Europe/Lisbon", "pt"),
    ("LB", "AE", "Dubai", "Asia/Dubai", "ar"),
]
SECTORS = ["health", "education", "engineering", "agriculture", "finance", "technology"]


def generate(path: Path, rows: int, *, seed: int = 7) -> None:
    """Writes N plausible experts as a comma-delimited CSV."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for i in range(1, rows + 1):
            origin, residence, city, tz, lang = rng.choice(PLACES)
            skills = rng.sample(SKILLS, 5)
            writer.writerow(
                [
                    f"bench-{i:07d}",
                    f"expert{i}@bench.example",
                    f"Expert {i}",
                    lang,
                    f"{skills[0].title()} specialist, {rng.randint(3, 30)} years",
                    f"Works on {', '.join(skills)} in {city}; wants to help in {origin}. " * 3,
                    ";".join(skills),
                    f"{lang}:native;en:fluent" if lang != "en" else "en:native;fr:basic",
                    origin,
                    residence,
                    city,
                    tz,
                    rng.choice(["remote", "remote;hybrid", "mission;remote"]),
                    rng.choice([4, 8, 12, 16, 20]),
                    "2026-12-01",
                    "",
                    ";".join(rng.sample(SECTORS, 2)),
                    rng.randint(3, 30),
                    "MSc, PhD",
                    "institutions",
                    lang,
                    "true",
                ]
            )


def worker(database: Path, csv_path: Path, *, partial: bool, batch_size: int) -> dict[str, Any]:
    """Runs one import in this process and measures it."""
    from sqlmodel import Session

    from service.core.imports import import_file
    from service.db import make_engine

    engine = make_engine(f"sqlite:///{database}")
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        report = import_file(
            session,
            kind="experts",
            path=csv_path,
            actor=None,
            partial=partial,
            batch_size=batch_size,
        )
    seconds = time.perf_counter() - started
    return {
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "errors": report.error_count,
        "seconds": round(seconds, 2),
        "rows_per_s": round(report.rows / seconds) if seconds else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _child(database: Path, csv_path: Path, *, partial: bool, batch_size: int) -> list[str]:
    command = [sys.executable, __file__, "--worker", str(database), str(csv_path)]
    command += ["--batch-size", str(batch_size)] + (["--partial"] if partial else [])
    return command


def run_child(database: Path, csv_path: Path, *, partial: bool, batch_size: int) -> dict[str, Any]:
    """Runs an import in a child process and reads its measurements."""
    out = subprocess.run(
        _child(database, csv_path, partial=partial, batch_size=batch_size),
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "HOMEWARD_ENVIRONMENT": "test"},
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def count_experts(database: Path) -> int:
    """Counts the experts committed so far."""
    import sqlite3

    with sqlite3.connect(database) as connection:
        (count,) = connection.execute("SELECT count(*) FROM expertprofile").fetchone()
    return int(count)


def kill_and_resume(
    database: Path, csv_path: Path, *, after_s: float, batch_size: int
) -> dict[str, Any]:
    """Kills a batched import midway, then runs it again and shows what it skipped."""
    process = subprocess.Popen(
        _child(database, csv_path, partial=True, batch_size=batch_size),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(after_s)
    killed = process.poll() is None
    if killed:
        process.send_signal(signal.SIGKILL)
    process.wait()
    present = count_experts(database)
    resumed = run_child(database, csv_path, partial=True, batch_size=batch_size)
    return {
        "killed_after_s": after_s,
        "killed": killed,
        "rows_before_resume": present,
        "resume": resumed,
    }


def time_embeddings(database: Path) -> dict[str, Any]:
    """Times the embedding pass that follows an import (the worker's, in committed batches)."""
    from service.config import Settings
    from service.core.matching import load_engine
    from service.db import make_engine

    settings = Settings(database_url=f"sqlite:///{database}", data_dir=database.parent)
    engine = make_engine(settings.database_url)
    matching = load_engine(settings)
    started = time.perf_counter()
    result = matching.sync(engine)
    seconds = time.perf_counter() - started
    return {
        "model": matching.version,
        "embedded": result.embedded,
        "seconds": round(seconds, 2),
        "experts_per_s": round(result.embedded / seconds, 1) if seconds else None,
    }


def main() -> None:
    """Generates, imports, measures, prints."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--partial", action="store_true", help="batched commits (--partial)")
    parser.add_argument("--kill-after", type=float, default=None, metavar="S")
    parser.add_argument("--with-embeddings", action="store_true")
    parser.add_argument("--worker", nargs=2, metavar=("DATABASE", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        database, csv_path = (Path(p) for p in args.worker)
        result = worker(database, csv_path, partial=args.partial, batch_size=args.batch_size)
        print(json.dumps(result))
        return

    from service.db import make_engine, migrate

    with tempfile.TemporaryDirectory(prefix="homeward-import-bench-") as folder:
        base = Path(folder)
        csv_path, database = base / "experts.csv", base / "bench.sqlite3"
        started = time.perf_counter()
        generate(csv_path, args.rows)
        generated_s = time.perf_counter() - started
        migrate(make_engine(f"sqlite:///{database}"))
        results: dict[str, Any] = {
            "rows": args.rows,
            "file_mb": round(csv_path.stat().st_size / 1e6, 1),
            "generate_s": round(generated_s, 2),
        }
        if args.kill_after is not None:
            results["kill_and_resume"] = kill_and_resume(
                database, csv_path, after_s=args.kill_after, batch_size=args.batch_size
            )
        else:
            results["import"] = run_child(
                database, csv_path, partial=args.partial, batch_size=args.batch_size
            )
            results["reimport"] = run_child(
                database, csv_path, partial=args.partial, batch_size=args.batch_size
            )
        if args.with_embeddings:
            results["embeddings"] = time_embeddings(database)

    if args.json:
        print(json.dumps(results))
        return
    print(f"{args.rows} experts, {results['file_mb']} MB of CSV")
    for key in ("import", "reimport"):
        if key in results:
            r = results[key]
            print(
                f"{key:>9}: {r['rows_per_s']} rows/s ({r['seconds']} s; {r['created']} created, "
                f"{r['unchanged']} unchanged), peak RSS {r['peak_rss_mb']} MB"
            )
    if "kill_and_resume" in results:
        k = results["kill_and_resume"]
        r = k["resume"]
        print(
            f"killed after {k['killed_after_s']} s with {k['rows_before_resume']} rows committed; "
            f"resumed in {r['seconds']} s: {r['unchanged']} skipped as unchanged, "
            f"{r['created']} created, peak RSS {r['peak_rss_mb']} MB"
        )
    if "embeddings" in results:
        print(f"embeddings: {results['embeddings']}")


if __name__ == "__main__":
    main()
