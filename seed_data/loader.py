"""Loads the demo world into a database, then hands over to the matcher's wiring.

`homeward seed` calls `load_world`; `after_load(engine, settings)` runs once the rows are
committed (the CLI passes "embed what has no current vector, then re-match open needs").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.config import Settings
from service.core.seed import WORLD_DIR, SeedProgress, SeedReport, seed_world

AfterLoad = Callable[[Engine, Settings], None]


def load_world(
    engine: Engine,
    settings: Settings,
    *,
    world_dir: Path = WORLD_DIR,
    after_load: AfterLoad | None = None,
    progress: SeedProgress | None = None,
) -> SeedReport:
    """Loads the world idempotently, commits, then calls `after_load` if given."""
    with Session(engine, expire_on_commit=False) as session:
        report = seed_world(session, settings=settings, world_dir=world_dir, progress=progress)
    if after_load is not None:
        after_load(engine, settings)
    return report
