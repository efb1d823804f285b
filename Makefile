# The two commands a newcomer needs: `make demo` and `make test`.
# Everything else is set up from here; nothing depends on what was installed by hand.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The first Python 3.11+ on PATH.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)

export GX_ANALYTICS_ENABLED := false
export DAGSTER_DISABLE_TELEMETRY := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: venv demo test lint up down ui clean chromium pgbouncer screenshots

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "dbopt needs Python 3.11 or newer on PATH; install it and run make again."; exit 1; }
	@echo "Setting up $(VENV) with $(PYTHON) ..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	@$(BIN)/python -m pip install -q -e '.[dev,embedded]' 2>&1 | grep -v "^WARNING: Location" || true
	@$(BIN)/python -c "import dbopt, dagster, chdb, psycopg, great_expectations" \
		|| { echo "Installing the project into $(VENV) failed; see the pip output above."; exit 1; }
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@$(BIN)/dbopt demo

test: $(STAMP)
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	@$(BIN)/ruff check .

up: $(STAMP)
	@$(BIN)/dbopt up

down: $(STAMP)
	@$(BIN)/dbopt down

ui: $(STAMP)
	@$(BIN)/dbopt ui

clean:
	@-$(BIN)/dbopt down 2>/dev/null
	rm -rf $(VENV) .dbopt

# Debian's Chromium for the UI test (CI runs this; the test is deselected without it).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "Install Chromium with: sudo apt install chromium"; exit 1; fi; }
	@chromium --version

# Debian's PgBouncer for the transaction-pooler preflight test (CI runs this; the test is
# deselected without it). The test starts its own pgbouncer; the package's service is not used.
pgbouncer:
	@PATH="$$PATH:/usr/sbin" command -v pgbouncer >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null; \
		else echo "Install PgBouncer with: sudo apt install pgbouncer"; exit 1; fi; }
	@PATH="$$PATH:/usr/sbin" pgbouncer --version | head -1

# Refresh the README's screenshots from the UI test.
screenshots: $(STAMP)
	@DBOPT_SCREENSHOTS=1 $(BIN)/python -m pytest tests/ui -q
