# Two entry points for a fresh machine (see README):
#   make demo   imports the worked example into a fresh SQLite file and shows it
#   make test   runs the checks (ruff, mypy --strict) and the whole test suite (SQLite and PostgreSQL)
# For developers: make test-quick runs the unit tier (no database) in well under a minute.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
DEMO_DB ?= demo.sqlite

.PHONY: demo test test-quick lint install clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(BIN)/insightlog --db $(DEMO_DB) import examples/harbour_home_care.jsonl
	$(BIN)/insightlog --db $(DEMO_DB) services
	$(BIN)/insightlog --db $(DEMO_DB) history --service "Harbour Home Care"
	$(BIN)/insightlog --db $(DEMO_DB) analyse --service "Harbour Home Care" --as-of 2026-06-30
	$(BIN)/insightlog --db $(DEMO_DB) analyse --service "Harbour Home Care" --as-of 2026-03-31
	@echo "The demo ledger is $(DEMO_DB): export INSIGHTLOG_DB=$(DEMO_DB) and try the README's commands (.venv/bin/insightlog)."

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-quick: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src cli tests bench tools
	$(BIN)/ruff format --check src cli tests bench tools
	$(BIN)/python tools/typecheck.py

bench: $(STAMP)
	$(BIN)/python bench/run.py --size full

clean:
	rm -rf $(VENV) $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
