# Two commands do everything on a fresh Debian machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MILLESIME ?= 2023
DEPARTEMENTS ?= 75,93,974
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export COPROFF_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/coproff
export COPROFF_TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/coproff_test
export COPROFF_LANDING_DIR ?= $(CURDIR)/data/landing
export COPROFF_EXPORT_DIR ?= $(CURDIR)/exports

.PHONY: run test venv postgis sample materialize dev benchmark clean

$(BIN)/coproff: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,geo]'
	@touch $@

venv: $(BIN)/coproff

postgis:
	@bash scripts/ensure_postgis.sh
	@bash scripts/ensure_gdal.sh

$(DAGSTER_HOME)/dagster.yaml:
	@mkdir -p $(DAGSTER_HOME)
	@cp deploy/dagster.sqlite.yaml $@

# Generate the sample millésime only when its landing folder is absent (idempotent).
sample: venv
	@if [ -d "$(COPROFF_LANDING_DIR)/$(MILLESIME)" ]; then \
	  echo "==> landing data for $(MILLESIME) already present"; \
	else \
	  $(BIN)/coproff sample --millesime $(MILLESIME) --departements $(DEPARTEMENTS); \
	fi

materialize: venv postgis $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/coproff materialize --millesime $(MILLESIME)

run: venv postgis sample materialize

# Two pytest-xdist workers, each on its own database (<test database>_gw0, _gw1: tests/conftest.py);
# the tests that start servers or `make` run one after the other on one worker (`xdist_group`).
# `make test TEST_WORKERS=0` runs the suite in one process.
TEST_WORKERS ?= 2
test: venv postgis
	@COPROFF_DATABASE_URL=$(COPROFF_TEST_DATABASE_URL) bash scripts/ensure_postgis.sh
	@bash scripts/ensure_qgis.sh
	@# Tiny fixtures: one process for all steps is faster than a process per step
	@# (tests/test_concurrency.py runs the shipped multiprocess default itself).
	COPROFF_MAX_CONCURRENT=1 $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup

DEV_PORT ?= 3000
dev: venv postgis $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(DEV_PORT)

# The national benchmark (benchmarks/run.py): reuses the landing cached in BENCH_LANDING, generates
# it otherwise; writes its figures to BENCHMARKS.md. About 15 min on a quiet 2-core machine.
BENCH_LANDING ?= /tmp/coproff_bench/national/landing
benchmark: venv postgis
	@$(BIN)/python -c "import duckdb" 2>/dev/null || $(BIN)/pip install -q -e '.[dev,geo,bench]'
	COPROFF_BENCH_LANDING=$(BENCH_LANDING) $(BIN)/python -m benchmarks.run

clean:
	rm -rf data .dagster_home exports
