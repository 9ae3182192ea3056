# The two commands the README opens with. Each sets up .venv from pyproject.toml first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test demo lint setup clean

$(STAMP): pyproject.toml
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (python3 is " + sys.version.split()[0] + ")")'
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)  ## web, worker and beat on the embedded default (SQLite, local outbox); PORT=8080 to move it
	$(BIN)/reminders run $(if $(PORT),--port $(PORT))

demo: $(STAMP)  ## a whole recovery journey on a compressed clock, in about a minute
	$(BIN)/reminders demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/reminders templates check

test: lint  ## lint, types, import rules, then unit, integration and end-to-end tests
	$(BIN)/pytest -n 2 --dist loadfile tests/unit tests/integration  # both cores; files apart
	$(BIN)/pytest tests/e2e  # real processes and ports: one at a time

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
