# Midway — the two commands that matter are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint bench setup clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## run: set everything up, seed a fresh demo database and start the hub (API + worker)
run: $(STAMP)
	$(BIN)/midway demo --host $(HOST) --port $(PORT)

## test: set up and run the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest

## lint: ruff, formatting, strict typing and the import contracts
lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/mypy bench
	$(BIN)/mypy tests
	$(BIN)/lint-imports

## bench: run the benchmarks in bench/ and print ratios against their baselines
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
