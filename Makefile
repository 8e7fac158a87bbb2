# Homeward: `make run` starts the site with the demo world; `make test` runs every check.
# Both build .venv from this project's own files first (`make install`, idempotent).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The CPU build of torch; an unpinned torch would pull a multi-GB CUDA build.
TORCH := torch==2.13.0
HOST ?= 127.0.0.1
PORT ?= 8000
# Two workers: the machines this runs on have two cores.
PYTEST_ARGS ?= -n 2

.PHONY: install run seed test lint typecheck pytest meili meili-stop migration clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Migrates, loads the demo world (idempotent), and serves with the worker in the same process.
run: seed
	HOMEWARD_RUN_WORKER_IN_PROCESS=true $(BIN)/homeward serve --host $(HOST) --port $(PORT)

seed: install
	$(BIN)/homeward migrate
	$(BIN)/homeward seed

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# A throwaway Meilisearch on loopback for the search tests: eval "$$(make -s meili)".
meili: install
	@.ci/meili.sh start

meili-stop:
	@.ci/meili.sh stop

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-output

# Regenerates the initial migration from the models: only while no database is deployed.
migration: install
	$(BIN)/python scripts/regenerate_migration.py
	$(BIN)/ruff check --fix --quiet service/migrations
	$(BIN)/ruff format --quiet service/migrations
