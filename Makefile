# Two commands matter: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3.13
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test install lint boundaries format check-deploy bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed ## Create .venv from the lock file

run: install ## Migrate SQLite, load demo data, serve on 127.0.0.1:8000
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_demo_data
	$(PY) manage.py runserver 127.0.0.1:8000

test: install boundaries lint ## The whole suite on SQLite (DATABASE_URL=postgres://... for PostgreSQL)
	$(PY) -m pytest

boundaries: install ## import-linter contracts: the modules' boundaries
	$(VENV)/bin/lint-imports

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .ruff_cache
