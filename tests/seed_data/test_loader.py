"""seed_data/loader.py: the world is committed before the after-load hook runs."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from seed_data.loader import load_world
from service.config import Settings
from service.models import ExpertProfile, Need


def test_after_load_sees_the_committed_world(engine: Engine, settings: Settings) -> None:
    calls: list[tuple[Engine, Settings, int, int]] = []

    def after_load(hook_engine: Engine, hook_settings: Settings) -> None:
        with Session(hook_engine) as session:  # a fresh session: only committed rows show
            experts = session.exec(select(func.count()).select_from(ExpertProfile)).one()
            needs = session.exec(select(func.count()).select_from(Need)).one()
        calls.append((hook_engine, hook_settings, experts, needs))

    progress: list[str] = []
    report = load_world(
        engine, settings, after_load=after_load, progress=lambda step, _d, _t: progress.append(step)
    )

    assert calls == [(engine, settings, 210, 103)]
    assert report.imports["experts"].created == 210
    assert {"institutions", "experts", "needs", "engagements"} <= set(progress)


def test_without_a_hook_the_world_still_loads(engine: Engine, settings: Settings) -> None:
    report = load_world(engine, settings)
    assert report.engagements_created == 30
