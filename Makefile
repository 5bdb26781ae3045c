# Two entry points for a fresh machine (see README):
#   make demo   imports the worked example into a fresh SQLite file and shows it
#   make test   runs the whole test suite (SQLite and PostgreSQL)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
DEMO_DB ?= demo.sqlite

.PHONY: demo test install clean bench

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

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run.py --size full

clean:
	rm -rf $(VENV) $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
