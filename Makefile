# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
export COACH_HOME ?= $(CURDIR)/.coach
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export HF_HUB_DISABLE_PROGRESS_BARS := 1
# torch's CPU build lies on this machine's disk; an unpinned torch would pull a multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: run test install install-dev system-deps lint typecheck pytest index evals bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[ui]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	@echo "Installing dev extras (llama-cpp-python builds from source the first time: about 8 minutes)"
	$(PIP) install -q $(TORCH) -e '.[ui,local,dev]'
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev system-deps

## Debian packages the integration tests drive: Chromium for the browser test, PostgreSQL for the database suite.
system-deps:
	@if ! command -v chromium >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium postgresql >/dev/null; \
	  else echo "system-deps: run as root or install chromium and postgresql yourself" >&2; exit 1; fi; \
	fi

index: install
	$(BIN)/coach index

run: install index
	$(BIN)/coach ui

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

# COACH_REQUIRE_ALL=1: a test whose server, browser or model is missing fails instead of skipping.
pytest: install-dev
	COACH_REQUIRE_ALL=1 $(BIN)/pytest -q --timeout 900 --durations 15

# The offline eval suite gates CI: `coach eval` exits non-zero when a score is below evals/thresholds.yaml.
evals: install index
	$(BIN)/coach eval --engine offline

test: lint typecheck pytest evals

bench: install-dev
	$(BIN)/python benchmarks/retrieval.py
	$(BIN)/python benchmarks/latency.py

clean:
	rm -rf $(VENV) .coach .pytest_cache .mypy_cache .ruff_cache
