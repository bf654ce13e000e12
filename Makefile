# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The suite runs on every core; PYTEST_ARGS='-n 0' runs it in one process (easier to debug).
PYTEST_ARGS ?= -n auto --dist loadscope --durations=25

.PHONY: run test install install-test test-tools lint bench durations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## run: install into .venv, migrate the SQLite database and serve on http://$(HOST):$(PORT)
run: install
	$(BIN)/widget-server serve --host $(HOST) --port $(PORT)

## test-tools: Chromium (browser tests), docker-compose (offline compose checks) and the
## servers the fault tests start, from Debian's packages when missing
test-tools:
	@scripts/install-test-tools.sh

## test: install the test extras and Chromium, lint, check the dependency rules, run the whole suite
test: install-test test-tools
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

## durations: run the suite once and write tests/durations.json (the order it is spread over cores in)
durations: install-test test-tools
	$(BIN)/pytest $(PYTEST_ARGS) --junitxml=.pytest-durations.xml || true
	$(BIN)/python scripts/durations.py .pytest-durations.xml tests/durations.json

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports

## bench: the read/write benchmark against a bare-Flask baseline (see docs/performance.md)
bench: install-test
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) instance .pytest_cache
