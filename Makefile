# Two commands for a newcomer: `make demo` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-stamp
# xdist workers; the suite parallelises per test file.
WORKERS ?= auto

.PHONY: demo test install messages chromium haproxy pgbouncer cluster redocly lint check bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# gettext's msgfmt compiles the .po files; Debian's package when it is missing.
messages: $(STAMP)
	@command -v msgfmt >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; }
	cd src/refuge && env -u DJANGO_SETTINGS_MODULE ../../$(BIN)/django-admin compilemessages -v 0

# Browser tests drive Debian's Chromium (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }

# The multi-server test (tests/cluster/) and `make cluster`: Debian's HAProxy in front, and
# (in the test) Debian's PgBouncer in transaction mode before PostgreSQL.
haproxy:
	@command -v haproxy >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; }
pgbouncer:
	@command -v pgbouncer >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null; }

# Two app servers, two task workers and HAProxy on loopback, on DATABASE_URL's PostgreSQL, in
# production mode with throw-away keys (deploy/cluster.py); the demo network loaded. Ctrl-C stops.
cluster: messages haproxy
	$(PY) deploy/cluster.py

# Redocly lint for the OpenAPI document (tests/test_openapi_lint.py): the npm registry's package,
# pinned, installed with the machine's npm into a git-ignored folder, and only when missing.
REDOCLY_VERSION := 2.77.0
REDOCLY := .tools/redocly/node_modules/.bin/redocly
redocly: $(REDOCLY)
$(REDOCLY):
	@if command -v npm >/dev/null; then \
	  npm install --silent --no-audit --no-fund --prefix .tools/redocly @redocly/cli@$(REDOCLY_VERSION); \
	else echo "npm is missing: the Redocly lint test will be skipped"; fi

# A second demo beside the first, to try federation on one machine (docs/deployment.md):
#   make demo DEMO_PORT=8001 DEMO_HOME=var-b DEMO_NAME=second
# Each has its own port, its own home (database and generated keys) and its own name; the
# variables left unset keep what the environment (or the defaults) say.
DEMO_PORT ?= 8000
DEMO_HOME ?=
DEMO_NAME ?=
demo: messages
	REFUGE_MODE=demo \
	$(if $(DEMO_HOME),REFUGE_HOME="$(abspath $(DEMO_HOME))") \
	$(if $(DEMO_NAME),REFUGE_FEDERATION_NAME="$(DEMO_NAME)") \
	REFUGE_BASE_URL="$${REFUGE_BASE_URL:-http://127.0.0.1:$(DEMO_PORT)}" \
	$(BIN)/refuge demo --addrport 127.0.0.1:$(DEMO_PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench deploy
	$(BIN)/ruff format --check src tests bench deploy

check: $(STAMP)
	REFUGE_MODE=test $(BIN)/refuge makemigrations --check --dry-run
	REFUGE_MODE=test $(BIN)/refuge check

# The official HSDS 3.0 files are read in place, never copied into the repository: from
# ../shared/hsds-3.0 beside the checkout, or the workplace's shared folder when the checkout is a
# clone elsewhere (REFUGE_HSDS_DIR set by the caller wins).
HSDS_DIR ?= $(firstword $(REFUGE_HSDS_DIR) $(wildcard ../shared/hsds-3.0 /work/shared/hsds-3.0))

test: messages chromium haproxy pgbouncer redocly lint check
	REFUGE_MODE=test REFUGE_HSDS_DIR=$(HSDS_DIR) $(BIN)/pytest -n $(WORKERS) --dist loadfile -q

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) var tests/screenshots .tools
