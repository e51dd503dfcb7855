# Two commands for newcomers: `make demo` and `make test`. Everything runs from the repo root.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CUSTOMERS ?= 20000
SEED ?= 42
RAW ?= data/raw/synthetic
export DBT_PROFILES_DIR := $(CURDIR)
export CHURN_RAW_PATH ?= $(CURDIR)/$(RAW)

.PHONY: demo test test-engines lint fmt build generate bench report clean

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "Need $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c requirements.lock -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

generate: $(STAMP)
	$(BIN)/churn generate --customers $(CUSTOMERS) --seed $(SEED) --out $(RAW)

build: $(STAMP)
	$(BIN)/churn build

demo: $(STAMP)
	$(BIN)/churn demo --customers $(CUSTOMERS) --seed $(SEED) --raw-path $(RAW)

lint: $(STAMP)
	$(BIN)/ruff check python_jobs tests models
	$(BIN)/ruff format --check python_jobs tests models
	$(BIN)/sqlfluff lint models tests/dbt

fmt: $(STAMP)
	$(BIN)/ruff check --fix python_jobs tests models
	$(BIN)/ruff format python_jobs tests models

test: $(STAMP) lint
	$(BIN)/pytest -q

# The same world built on DuckDB, on a throwaway PostgreSQL (Debian package postgresql) and on a local Spark session
# (Java: Debian package openjdk-17-jre-headless), compared table by table. An engine whose server binaries or Java
# are missing is skipped with a message.
ENGINES ?= postgres,spark
comma := ,
ENGINES_STAMP := $(VENV)/.installed-$(subst $(comma),-,$(ENGINES))
$(ENGINES_STAMP): $(STAMP)
	$(BIN)/pip install -q -c requirements.lock -e ".[dev,$(ENGINES)]"  # each engine is an extra of the same name
	touch $(ENGINES_STAMP)

test-engines: $(ENGINES_STAMP)
	CHURN_TEST_ENGINES=$(ENGINES) $(BIN)/pytest -q -m engines

# Speed and memory -> .bench/results.md + results.csv. BENCH_ARGS: --quick (small sizes), --area build (repeatable),
# --million (build area: add 1M customers), --customers N (build area: exactly these sizes, repeatable).
bench: $(STAMP)
	$(BIN)/python -m python_jobs.bench $(BENCH_ARGS)

report: $(STAMP)
	$(BIN)/churn report

clean:
	rm -rf warehouse/*.duckdb warehouse/*.wal target logs data/raw
