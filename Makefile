# Two entry points for a fresh machine (see README):
#   make demo   imports the worked example into a fresh SQLite file and shows it
#   make test   runs the checks (ruff, mypy --strict) and the whole test suite (SQLite and PostgreSQL)
#   make serve  the same example in the web application, with a demo account: http://127.0.0.1:8000/
# For developers: make test-quick runs the unit tier (no database) in well under a minute.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
DEMO_DB ?= demo.sqlite
SERVE_DIR ?= demo-web
SERVE_ENV = INSIGHTLOG_DB=$(SERVE_DIR)/ledger.sqlite INSIGHTLOG_KEY=$(SERVE_DIR)/keys/provider.key \
	INSIGHTLOG_CHECKPOINT_FILE=$(SERVE_DIR)/checkpoints.jsonl INSIGHTLOG_PROVIDER_NAME="Harbour Care Group (demo)"

.PHONY: demo serve axe test test-quick lint install clean bench

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

# A fresh demo store each time: the worked example, a signing key and a checkpoint (so proofs and
# evidence packs download), and one account with every right whose new password is printed.
serve: $(STAMP)
	rm -rf $(SERVE_DIR)
	mkdir -p $(SERVE_DIR)
	$(SERVE_ENV) $(BIN)/insightlog import examples/harbour_home_care.jsonl
	$(SERVE_ENV) $(BIN)/insightlog keys init
	$(SERVE_ENV) $(BIN)/insightlog checkpoint
	@password=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(12))'); \
	printf '%s\n' "$$password" | $(SERVE_ENV) $(BIN)/insightlog users add "Demo Manager" --staff-id RM-DEMO \
		--role registered_manager --rights record,judge,view,audit,admin --all-services; \
	echo; echo "Open http://127.0.0.1:8000/ and sign in as: Demo Manager"; echo "Password: $$password"; echo
	$(SERVE_ENV) $(BIN)/insightlog serve --host 127.0.0.1 --port 8000

# axe-core for the browser tests' accessibility scan (tests/e2e/web), from npm; never served by the app.
AXE_VERSION ?= 4.11.0
axe:
	npm install --prefix tests/e2e/web/vendor axe-core@$(AXE_VERSION) --no-audit --no-fund --no-save

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
	rm -rf $(VENV) $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm $(SERVE_DIR)
