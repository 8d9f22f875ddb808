# personae — two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.install-stamp

.PHONY: install demo test test-fast bench lint format clean chromium

install: $(STAMP)

# Re-installs only when pyproject.toml changes (fast when up to date).
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "personae needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	@touch $(STAMP)

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
	$(BIN)/python benchmarks/bench_segments.py
	$(BIN)/python benchmarks/bench_spark.py
	$(BIN)/python benchmarks/bench_clusters.py
	$(BIN)/python benchmarks/bench_recommend.py
	$(BIN)/python benchmarks/bench_voice.py
	$(BIN)/python benchmarks/bench_journeys.py
	$(BIN)/python benchmarks/bench_service.py
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
