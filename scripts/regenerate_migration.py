"""Regenerates the initial migration from the models (only while no database is deployed)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from service.db import MIGRATIONS_DIR, alembic_config


def main() -> None:
    """Deletes 0001 and autogenerates it again against an empty SQLite database."""
    for path in (MIGRATIONS_DIR / "versions").glob("0001_*.py"):
        path.unlink()
    with tempfile.TemporaryDirectory() as folder:
        config = alembic_config(f"sqlite:///{Path(folder) / 'empty.sqlite3'}")
        command.revision(config, message="initial schema", autogenerate=True, rev_id="0001")


if __name__ == "__main__":
    main()
