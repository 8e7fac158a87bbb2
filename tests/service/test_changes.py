"""What follows a change is queued by the change itself, in whichever process makes it: no
worker start-up has to register it first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.core.jobs import EMBED_SKILLS, need_rematch_key, rematch_key
from service.models import Job
from service.repos.jobs import PENDING
from tests.factories import make_expert, make_member, make_need

ROOT = Path(__file__).resolve().parents[2]
# A process that only makes changes, as the CLI or a one-off script does: it never imports
# the worker, so nothing the worker would register at start-up can be there.
CHANGE_ALONE = """
import sys
from sqlmodel import Session
from service.core import changes
from service.db import make_engine
from service.models import ExpertProfile, Need

url, expert_id, need_id = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with Session(make_engine(url)) as session:
    expert = session.get(ExpertProfile, expert_id)
    need = session.get(Need, need_id)
    assert expert is not None and need is not None
    changes.expert_changed(session, expert)
    changes.need_changed(session, need)
    session.commit()
print(sorted(name for name in sys.modules if name.startswith("service.worker")))
"""


def test_a_change_queues_its_rematching_in_a_process_that_never_started_a_worker(
    session: Session, engine: Engine
) -> None:
    _, institution = make_member(session)
    expert, need = make_expert(session), make_need(session, institution=institution)
    assert session.exec(select(Job)).all() == []
    url = engine.url.render_as_string(hide_password=False)
    ran = subprocess.run(
        [sys.executable, "-c", CHANGE_ALONE, url, str(expert.id), str(need.id)],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "[]", ran.stdout  # the core reached no worker module
    session.expire_all()
    jobs = session.exec(select(Job.key, Job.status).order_by(col(Job.key))).all()
    assert sorted(jobs) == sorted(
        [
            (rematch_key(expert.id or 0), PENDING),
            (need_rematch_key(need.id or 0), PENDING),
            (EMBED_SKILLS, PENDING),
        ]
    )
