# personae — two commands on a fresh machine: `make demo` and `make test`.
# Every dependency's version comes from requirements.lock (`make upgrade` refreshes it).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.install-stamp

.PHONY: install demo test test-fast bench lint format clean chromium upgrade lock
LOCK := requirements.lock
LOCK_ARGS := pyproject.toml --extra dev --extra spark --python-version 3.11

install: $(STAMP)

# Exactly the versions of the lock file, then personae itself without resolving again.
# Re-installs only when pyproject.toml or the lock changes (fast when up to date).
$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "personae needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# The newest versions pyproject.toml allows, written to the lock, then the whole suite on them.
upgrade: install
	$(BIN)/uv pip compile --quiet --upgrade --custom-compile-command "make upgrade" $(LOCK_ARGS) -o $(LOCK)
	$(MAKE) test

# The lock again from pyproject.toml, keeping every version it can (after editing dependencies).
lock: install
	$(BIN)/uv pip compile --quiet --custom-compile-command "make lock" $(LOCK_ARGS) -o $(LOCK)

demo: install
	$(BIN)/personae demo

# lint-imports first: a wrong import fails in seconds rather than after the suite
test: install chromium
	$(BIN)/lint-imports
	$(BIN)/pytest

# The dashboard's browser tests (tests/e2e/test_dashboard.py) drive Debian's Chromium; Playwright
# never downloads one. Installed only when missing, so re-running is a no-op.
chromium:
	@test -x /usr/bin/chromium || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update && $$SUDO apt-get install -y chromium; }

test-fast: install
	$(BIN)/pytest -m "not slow"

# Peers (lifetimes, pymc-marketing) need older pandas/numpy, so they live in their own venv.
$(BENCH_STAMP): benchmarks/requirements-peers.txt pyproject.toml
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e . -r benchmarks/requirements-peers.txt
	@touch $(BENCH_STAMP)

# Each benchmark prints ratios against its yardstick measured in the same run.
bench: install $(BENCH_STAMP)
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_generate.py
	$(BIN)/python benchmarks/bench_traits.py
	$(BIN)/python benchmarks/bench_scale.py
	$(BIN)/python benchmarks/bench_segments.py
	$(BIN)/python benchmarks/bench_spark.py
	$(BIN)/python benchmarks/bench_clusters.py
	$(BIN)/python benchmarks/bench_recommend.py
	$(BIN)/python benchmarks/bench_recommend.py --scale
	$(BIN)/python benchmarks/bench_feedback.py
	$(BIN)/python benchmarks/bench_voice.py
	$(BIN)/python benchmarks/bench_voice.py --sentiment --themes
	$(BIN)/python benchmarks/bench_journeys.py
	$(BIN)/python benchmarks/bench_service.py
	$(BIN)/python benchmarks/bench_soak.py
	$(BENCH_VENV)/bin/python benchmarks/bench_clv.py

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

clean:
	rm -rf $(VENV) $(BENCH_VENV) .pytest_cache .mypy_cache .ruff_cache personae.duckdb data/demo
