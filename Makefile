# Two commands for a newcomer: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
CSS := var/assets/css/app.css

.PHONY: run test setup lint check bench docker-check clean-var help audit backup restore

help:
	@echo "make run   - set up, migrate, load demo data, serve http://127.0.0.1:8000 with a Celery worker"
	@echo "make test  - set up, lint, run the whole test suite"
	@echo "make bench - borough and region benchmarks into var/bench.json (BENCH_REGION=0 skips the region)"
	@echo "make backup / make restore ARCHIVE=... - database, uploads and PDFs (see README)"
	@echo "make audit - known vulnerabilities in the installed packages (pip-audit)"

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

$(CSS): $(NPM_STAMP) $(wildcard static/scss/*.scss)
	mkdir -p var/assets/css
	npm run --silent build

setup: $(STAMP) $(NPM_STAMP) $(CSS)

run: setup
	$(PY) manage.py rundev

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

check: setup
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

test: setup lint check
	$(VENV)/bin/pytest -n auto --dist loadfile

# Known vulnerabilities in the installed packages (pip-audit; see .ci/pip_audit.py).
audit: $(STAMP)
	$(PY) .ci/pip_audit.py

# Database (pg_dump, custom format) + uploads + generated PDFs -> var/backups/backup-<time>.tar.gz
backup: $(STAMP)
	$(PY) manage.py backup

# make restore ARCHIVE=var/backups/backup-....tar.gz [RESTORE_DATABASE_URL=postgres://.../fresh_db]
restore: $(STAMP)
	@test -n "$(ARCHIVE)" || { echo "Usage: make restore ARCHIVE=var/backups/backup-<time>.tar.gz [RESTORE_DATABASE_URL=postgres://...]"; exit 2; }
	$(PY) manage.py restore "$(ARCHIVE)" $(if $(RESTORE_DATABASE_URL),--database-url "$(RESTORE_DATABASE_URL)")

# Scale benchmarks (quality.md): borough and region data in a separate database, var/bench.json.
bench: setup
	$(PY) -m benchmarks.run

docker-check:
	docker-compose -f docker-compose.yml config -q

clean-var:
	rm -rf var/celery var/assets
