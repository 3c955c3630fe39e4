# Two commands for a newcomer: `make run` (demo through Airflow) and `make test`.
# Everything is installed into .venv from the pinned requirements.lock, compiled to
# bytecode at install (uv does not by default): with PYTHONDONTWRITEBYTECODE set, every
# process would otherwise compile Airflow, dbt and Great Expectations again (~20 s each).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
INSTALLED := $(VENV)/.installed
# One worker per core: three on two cores measured 14:50 once, then 19:08 and 18:50 for
# the same tree, against 16:50 with two (docs/benchmarks.md, make test 2026-12-02).
PYTEST_WORKERS ?= 2

DEMO_DIR := var
DEMO_LANDING := $(DEMO_DIR)/landing
DEMO_WAREHOUSE := $(DEMO_DIR)/warehouse
DEMO_DATE := 2026-06-20
DEMO_CUSTOMERS := 2000

# Keep Airflow's state of the tests and the demo inside the repo, never in ~/airflow.
export AIRFLOW__CORE__LOAD_EXAMPLES := False

.PHONY: install run demo-data test lint sql-lint dbt-parse pytest bench lock clean help

help:
	@echo "make run    - install, generate the demo landing zone, run the nightly DAG for $(DEMO_DATE)"
	@echo "make test   - the whole test suite (ruff, sqlfluff, dbt parse, pytest incl. dbt build and the DAG)"
	@echo "make bench  - benchmark at 1M customers / 100M network events (slow, minutes)"
	@echo "make lock   - re-pin every dependency into requirements.lock"

$(INSTALLED): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --no-deps -e .
	@touch $@

install: $(INSTALLED)

# The marker demo-data writes: a landing zone from before it is generated again.
$(DEMO_LANDING)/_DEMO_DATA: | $(INSTALLED)
	$(BIN)/privacy-pipeline demo-data --landing $(DEMO_LANDING) --customers $(DEMO_CUSTOMERS) --end-date $(DEMO_DATE)

demo-data: $(DEMO_LANDING)/_DEMO_DATA

run: $(INSTALLED) $(DEMO_LANDING)/_DEMO_DATA
	$(BIN)/privacy-pipeline run --landing $(DEMO_LANDING) --warehouse $(DEMO_WAREHOUSE) --date $(DEMO_DATE)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

sql-lint: $(INSTALLED)
	$(BIN)/privacy-pipeline lint-sql

dbt-parse: $(INSTALLED)
	$(BIN)/privacy-pipeline dbt --warehouse $(DEMO_DIR)/dbt-parse -- parse

pytest: $(INSTALLED)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

# sqlfluff (two processes) and dbt's parse (one) side by side: together they fill the two
# cores, one after the other they leave one idle for ~20 s.
test: lint
	@$(MAKE) --no-print-directory -j2 sql-lint dbt-parse
	@$(MAKE) --no-print-directory pytest

bench: $(INSTALLED)
	$(BIN)/privacy-pipeline bench --workdir $(DEMO_DIR)/bench

lock: $(INSTALLED)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header -o requirements.lock

clean:
	rm -rf $(DEMO_DIR) dbt_project/target dbt_project/logs .pytest_cache .ruff_cache
