# Two commands matter: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3.13
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
ASYNCAPI_TOOL := tools/asyncapi
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run serve test test-eventbus test-matrix matrix-lock test-redeliver test-postgres test-mariadb mysqlclient-headers test-split test-schema test-psycopg2 test-browser browser test-wheel wheel install lint typecheck boundaries contracts asyncapi format check-deploy keys split bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# mysqlclient (MariaDB's driver, in the dev group) builds against the client library's headers,
# found through pkg-config: Debian's default-libmysqlclient-dev, installed when missing.
mysqlclient-headers:
	@pkg-config --exists mysqlclient 2>/dev/null || { command -v apt-get >/dev/null && \
	  { apt-get install -y -q default-libmysqlclient-dev pkg-config >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q default-libmysqlclient-dev pkg-config >/dev/null; }; }; }
	@pkg-config --exists mysqlclient || { echo "mysqlclient's headers are missing: install Debian's default-libmysqlclient-dev and pkg-config" >&2; exit 1; }

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@rm -f $(VENV)/.installed-mariadb
	@touch $@

# MariaDB's driver on top of the default install (the `mariadb` group), for make test-mariadb.
$(VENV)/.installed-mariadb: $(VENV)/.installed | mysqlclient-headers
	$(UV) sync --frozen --python $(PYTHON) --group mariadb
	@touch $@

install: $(VENV)/.installed ## Create .venv from the lock file

run: install ## Migrate SQLite, load demo data, serve on 127.0.0.1:8000 with a worker beside it (retries, Django tasks)
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_demo_data
	@$(PY) manage.py eventbus worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:8000

serve: export DJANGO_SETTINGS_MODULE = config.settings.production
serve: export PROMETHEUS_MULTIPROC_DIR ?= $(CURDIR)/var/prometheus
serve: install ## Production settings under gunicorn (gunicorn.conf.py); see docs/operating.md for the env
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input -v0
	rm -rf "$$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$$PROMETHEUS_MULTIPROC_DIR"
	$(VENV)/bin/gunicorn --config gunicorn.conf.py

test: install boundaries lint typecheck contracts ## The whole suite on SQLite (DATABASE_URL=postgres://... or mysql://... for a server)
	$(PY) -m pytest
	$(MAKE) --no-print-directory test-eventbus

EVENTBUS_TESTS := packages/eventbus/tests
# The bus's tests on their own settings, from the source tree, with the interpreter given.
eventbus_pytest = cd $(EVENTBUS_TESTS) && PYTHONPATH=$(CURDIR) $(CURDIR)/$(1) -m pytest -q

test-eventbus: install ## The bus's own tests (packages/eventbus/tests) on their own settings, from the source tree
	$(call eventbus_pytest,$(PY))

test-redeliver: install ## The pytest suite under the redelivery drill: every event crashed once, delivered twice, batches reordered
	$(PY) -m pytest -p no:cacheprovider --eventbus-redeliver
	$(call eventbus_pytest,$(PY)) --eventbus-redeliver

test-postgres: install ## The suite against DATABASE_URL (PostgreSQL)
	@case "$$DATABASE_URL" in postgres*) ;; *) echo "Set DATABASE_URL=postgres://..." >&2; exit 1;; esac
	$(PY) -m pytest -p no:cacheprovider
	$(MAKE) --no-print-directory test-eventbus

test-mariadb: install $(VENV)/.installed-mariadb ## The suite against DATABASE_URL (MariaDB 10.6+, mysql://...), with the crash proofs
	@case "$$DATABASE_URL" in mysql://*) ;; *) echo "Set DATABASE_URL=mysql://..." >&2; exit 1;; esac
	$(PY) -m pytest -p no:cacheprovider
	$(MAKE) --no-print-directory test-eventbus

PSYCOPG2_VENV := var/psycopg2-venv

$(PSYCOPG2_VENV)/.installed: pyproject.toml uv.lock | $(UV)
	rm -rf $(PSYCOPG2_VENV)
	$(UV) venv --quiet --python $(PYTHON) $(PSYCOPG2_VENV)
	$(UV) export --frozen --no-hashes --quiet --group psycopg2 --no-emit-project \
	  --no-emit-package psycopg --no-emit-package psycopg-binary > $(PSYCOPG2_VENV)/requirements.txt
	VIRTUAL_ENV=$(PSYCOPG2_VENV) $(UV) pip install --quiet -r $(PSYCOPG2_VENV)/requirements.txt
	@touch $@

test-psycopg2: $(PSYCOPG2_VENV)/.installed ## The bus's tests and the crash proofs on PostgreSQL (DATABASE_URL) through psycopg2
	@case "$$DATABASE_URL" in postgres*) ;; *) echo "Set DATABASE_URL=postgres://..." >&2; exit 1;; esac
	$(PSYCOPG2_VENV)/bin/python -c "import django.db.backends.postgresql.psycopg_any as d; assert not d.is_psycopg3, 'psycopg 3 is installed'"
	$(PSYCOPG2_VENV)/bin/python -m pytest -p no:cacheprovider tests/test_worker_crash.py
	$(call eventbus_pytest,$(PSYCOPG2_VENV)/bin/python)

test-split: install browser ## Split mode with real processes: journey, faults, a customer in Chromium (PostgreSQL and RabbitMQ at 127.0.0.1)
	$(PY) -m pytest -p no:cacheprovider -m split tests/test_split.py

DEPLOY_SETTINGS := production accounts_service orders_service

check-deploy: install keys ## Every production settings module passes Django's deploy checks, no warning
	@set -e; for settings in $(DEPLOY_SETTINGS); do \
	  echo "== config.settings.$$settings"; \
	  DJANGO_SETTINGS_MODULE=config.settings.$$settings \
	  DJANGO_SECRET_KEY=$$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=') \
	  DJANGO_ALLOWED_HOSTS=shop.example.com \
	  JWT_PRIVATE_KEY_PATH=var/keys/jwt-private.pem JWT_PUBLIC_KEY_PATH=var/keys/jwt-public.pem \
	  $(PY) manage.py check --deploy --fail-level WARNING; \
	done

test-schema: install ## The API against its OpenAPI schema: schemathesis on the monolith under gunicorn, test then dev settings (about two minutes)
	$(PY) -m pytest -p no:cacheprovider -m schema tests/test_schema_contract.py

CHROMIUM ?= /usr/bin/chromium

browser: ## Debian's chromium for the browser tests (Playwright drives it; its own download is unreachable)
	@test -x $(CHROMIUM) || { command -v apt-get >/dev/null && apt-get install -y -q chromium >/dev/null; }
	@test -x $(CHROMIUM) || { echo "$(CHROMIUM) is missing: install Debian's chromium package" >&2; exit 1; }

test-browser: install browser ## A customer and an operator in headless Chromium on the monolith as `make run` serves it
	$(PY) -m pytest -p no:cacheprovider -m browser tests/test_browser.py

WHEEL_DIR := dist

wheel: | $(UV) ## The eventbus app alone as an sdist and a wheel (packages/eventbus), in dist/
	rm -f $(WHEEL_DIR)/django_eventbus_outbox-*
	$(UV) build --out-dir $(WHEEL_DIR) packages/eventbus

test-wheel: install wheel ## The wheel's contents, then the wheel alone in a fresh venv beside a tiny Django project
	$(PY) -m pytest -p no:cacheprovider -m packaging tests/test_wheel.py

# The eventbus wheel's support matrix (noxfile.py): its tests against the installed wheel in
# each cell, e.g. CELL=py311-django52-mariadb; no CELL runs every cell (or those of TAGS, e.g.
# TAGS="sqlite postgresql" or TAGS=django52), CELLS_PARALLEL at once (each has its own
# databases and temporary directory), each cell's output in var/matrix/<cell>.log.
CELL ?=
TAGS ?= matrix
CELLS_PARALLEL ?= 2
NOX := PATH=$(CURDIR)/$(TOOLS)/bin:$$PATH $(VENV)/bin/nox --noxfile noxfile.py

test-matrix: install wheel ## The bus's tests against its wheel in one cell (CELL=py311-django52-sqlite) or all
	@mkdir -p var/matrix
	@if [ -n "$(CELL)" ]; then echo $(CELL); else $(NOX) --tags $(TAGS) --list-sessions --json \
	  | $(PY) -c "import json,sys; print('\n'.join(s['session'] for s in json.load(sys.stdin)))"; fi > var/matrix/cells
	@if grep -q mariadb var/matrix/cells; then $(MAKE) --no-print-directory mysqlclient-headers; fi
	@if [ -n "$(CELL)" ]; then $(NOX) --session $(CELL); \
	else xargs -P $(CELLS_PARALLEL) -I{} sh -c '$(NOX) --session {} > var/matrix/{}.log 2>&1 && echo "ok   {}" || { echo "FAIL {} (var/matrix/{}.log):"; tail -n 30 var/matrix/{}.log; exit 1; }' < var/matrix/cells; fi

MATRIX_LOCKS := 52:5.2:3.11 60:6.0:3.12 61:6.1:3.12

matrix-lock: | $(UV) ## Recompile the matrix's locks (packages/eventbus/matrix/django*.txt)
	@set -e; for cell in $(MATRIX_LOCKS); do \
	  n=$${cell%%:*}; rest=$${cell#*:}; v=$${rest%%:*}; py=$${rest#*:}; \
	  $(UV) pip compile --quiet --universal --python-version $$py --custom-compile-command "make matrix-lock" \
	    packages/eventbus/matrix/django$$n.in -o packages/eventbus/matrix/django$$n.txt; \
	done

boundaries: install ## import-linter contracts: the modules' boundaries
	$(VENV)/bin/lint-imports

contracts: install ## Event schemas: no breaking change to a locked version (events.schema.lock.json)
	$(PY) manage.py eventbus schema --check

$(ASYNCAPI_TOOL)/node_modules/.package-lock.json: $(ASYNCAPI_TOOL)/package.json $(ASYNCAPI_TOOL)/package-lock.json
	npm ci --prefix $(ASYNCAPI_TOOL) --ignore-scripts --no-audit --no-fund

asyncapi: install $(ASYNCAPI_TOOL)/node_modules/.package-lock.json ## var/asyncapi.json, checked by the official AsyncAPI parser
	@mkdir -p var
	$(PY) manage.py eventbus catalog --format asyncapi --output var/asyncapi.json
	node $(ASYNCAPI_TOOL)/validate.mjs var/asyncapi.json

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install ## mypy: the bus strictly, the rest at the default level (see pyproject.toml)
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

keys: install ## A development RS256 key pair for split mode, in var/keys/
	$(PY) -c "from tools.split import ensure_keys, ROOT; print(ensure_keys(ROOT / 'var' / 'keys'))"

split: install keys ## accounts and orders as two services over RabbitMQ (PostgreSQL at 127.0.0.1)
	$(PY) tools/split.py

bench: install $(VENV)/.installed-mariadb ## Benchmarks (SQLite, the PostgreSQL at 127.0.0.1:5432, the MariaDB at 127.0.0.1:3306, the RabbitMQ at 127.0.0.1:5672)
	$(PY) bench/publish_overhead.py --db sqlite
	$(PY) bench/publish_overhead.py --db postgres
	$(PY) bench/worker_throughput.py
	$(PY) bench/worker_throughput.py --db mariadb
	$(PY) bench/claim_time.py
	$(PY) bench/dashboard_render.py
	$(PY) bench/dashboard_index_cost.py --rounds 21
	$(PY) bench/worker_memory.py
	$(PY) bench/worker_latency.py
	$(PY) bench/relay_throughput.py
	$(PY) bench/consumer_throughput.py
	$(PY) bench/http_orders.py
	$(PY) bench/split_propagation.py --stages

clean:
	rm -rf $(VENV) $(TOOLS) var dist .pytest_cache .ruff_cache
